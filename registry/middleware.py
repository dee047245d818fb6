"""Django middleware made lazy or cheaper, so that API requests pay nothing for what only the browser pages use."""

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.utils.functional import SimpleLazyObject, empty
from django_prometheus.middleware import PrometheusAfterMiddleware
from django_prometheus.utils import Time

# Labelled children kept at most; more than this many label combinations means label values gone wild.
MAX_KEPT_CHILDREN = 10_000


class LazyMessageMiddleware(MessageMiddleware):
    """Django's MessageMiddleware, opening the message storage on first use instead of on every request."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response  # no view or template asked for messages: none to store
        return super().process_response(request, response)


class RequestMetricsMiddleware(PrometheusAfterMiddleware):
    """django-prometheus's per-request counts, each labelled child of a metric found once, not on every request.

    prometheus-client's labels() checks and converts the values and takes the metric's lock on each call,
    and every request records about eight labelled values; the same metrics and values come back all day.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._children: dict[tuple, object] = {}

    def label_metric(self, metric, request, response=None, **labels):
        if not labels:
            return metric
        key = (metric, *labels.items())
        child = self._children.get(key)
        if child is None:
            if len(self._children) >= MAX_KEPT_CHILDREN:
                self._children.clear()
            child = self._children[key] = metric.labels(**labels)
        return child

    def process_request(self, request):
        """django-prometheus's counts of a request, reading the two headers it looks at from META.

        Its own reads them from request.headers, whose mapping is built from every header of the request
        on first use: on a cached lookup nothing else asks for it.
        """
        transport = self._transport(request)
        method = self._method(request)
        self.label_metric(self.metrics.requests_by_method, request, method=method).inc()
        self.label_metric(self.metrics.requests_by_transport, request, transport=transport).inc()
        if request.META.get("HTTP_X_REQUESTED_WITH") == "XMLHttpRequest":  # the old Request.is_ajax()
            self.label_metric(self.metrics.requests_ajax, request).inc()
        content_length = int(request.META.get("CONTENT_LENGTH") or 0)
        self.label_metric(self.metrics.requests_body_bytes, request).observe(content_length)
        request.prometheus_after_middleware_event = Time()
