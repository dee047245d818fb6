"""The fast path of the two cached lookups clients make all day: GET /schemas/ids/{id} and /subjects/{s}/versions/{n}.

Clients resolve a schema on every id they meet, so these routes carry most of a registry's traffic,
and the sessions, CSRF, messages, audit and DRF machinery around a request cost more than the
cached lookup itself. Placed right after SecurityMiddleware (its redirect and headers, and everything
before it, still apply), `CachedLookupMiddleware` answers these two routes itself, calling the same
selectors, cache and answer functions as the views, and adding what the skipped middleware and DRF
would add: Allow, Content-Length, Vary: Cookie, X-Frame-Options, and django-prometheus's per-view counts.

It answers only requests it answers exactly as the full stack would (tests/integration/api/
test_fast_lookups.py compares them): a GET with no query string and no cookies, whose Accept picks the
registry's media type, anonymous (when REGISTRY_ANONYMOUS_READ is on) or with a Basic or bearer
credential whose access context is remembered, from a caller allowed to read. Anything else is
passed down the stack before anything was counted or answered.
"""

from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.urls import Resolver404, get_urlconf, resolve
from django.utils.cache import patch_vary_headers
from rest_framework import exceptions
from rest_framework.response import Response

from protoengine.lru import LruCache
from registry import logs
from registry.middleware import RequestMetricsMiddleware
from schemas_app import cache as registry_cache
from schemas_app import selectors
from schemas_app.api import confluent
from schemas_app.api.authentication import remembered_sign_in
from schemas_app.api.common import (
    JSONWhateverIsAccepted,
    SchemaRegistryRenderer,
    registry_exception_handler,
    split_context,
)
from schemas_app.api.permissions import CanRead
from schemas_app.auditing import RequestAuditMiddleware
from schemas_app.limits import MAX_ID, MAX_VERSION, ascii_int, in_range
from schemas_app.models import Tenant

# The middleware this one stands in for, in their order after it: with any other stack it steps aside.
STANDS_IN_FOR = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "registry.middleware.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "schemas_app.auditing.RequestAuditMiddleware",
    "registry.middleware.RequestMetricsMiddleware",
]
_PREFIXES = ("/schemas/ids/", "/subjects/")
_RENDERER = SchemaRegistryRenderer()


class SchemaByIdLookup:
    """GET /schemas/ids/{id}, answered as `SchemaByIdView` answers it without query parameters."""

    view_class = confluent.SchemaByIdView

    def __init__(self, kwargs: dict):
        self.schema_id = kwargs["schema_id"]  # as the path spells it: a 40403 names it so
        number = ascii_int(self.schema_id)
        self.subject = None
        self.prefetch_keys = [registry_cache.placement_key(number)] if in_range(number, 1, MAX_ID) else None

    def answer(self, request, tenant, media_type: str) -> HttpResponse:
        placement = selectors.schema_placement(self.schema_id, already_read=request.prefetched)
        payload = dict(confluent.visible_schema_payload(request, self.schema_id, placement=placement))
        return confluent.stored_schema_answer(request, tenant=tenant, payload=payload, placement=placement)


class SubjectVersionLookup:
    """GET /subjects/{subject}/versions/{n}, answered as `SubjectVersionView` answers it from the shared cache."""

    view_class = confluent.SubjectVersionView

    def __init__(self, kwargs: dict):
        context, self.subject = split_context(kwargs["subject"])
        self.version = ascii_int(kwargs["version"])
        # "latest", another tenant's context, an invalid number: the view's other paths answer those.
        answerable = context is None and in_range(self.version, 1, MAX_VERSION)
        self.prefetch_keys = (
            [registry_cache.version_key(Tenant.DEFAULT_SLUG, self.subject, self.version)] if answerable else None
        )

    def answer(self, request, tenant, media_type: str) -> HttpResponse:
        payload = confluent.cached_version_payload(tenant, self.subject, self.version, already_read=request.prefetched)
        return confluent.served_version(request, payload, answer=lambda data: rendered(data, media_type))


LOOKUPS = {lookup.view_class: lookup for lookup in (SchemaByIdLookup, SubjectVersionLookup)}
# Resolved routes by (URLconf, path): Django's resolver tries every pattern in turn on each request.
_routes = LruCache(2_000)
_NOT_A_LOOKUP = object()


def lookup_route(path: str):
    """Return the ResolverMatch of a path when it is one of LOOKUPS' routes, else None, as Django resolves it."""
    key = (get_urlconf(), path)
    match = _routes.get(key)
    if match is None:
        try:
            match = resolve(path)
        except Resolver404:
            match = _NOT_A_LOOKUP
        if match is not _NOT_A_LOOKUP and getattr(match.func, "view_class", None) not in LOOKUPS:
            match = _NOT_A_LOOKUP
        _routes.put(key, match)
    return None if match is _NOT_A_LOOKUP else match


def accepted_media_type(request) -> str | None:
    """Return the media type DRF's negotiation picks for the request's Accept header, or None where it refuses."""
    accept = request.META.get("HTTP_ACCEPT")
    if accept is None:
        return _ACCEPTED_WITHOUT_HEADER
    known = _negotiated_by_header.get(accept, _NOT_YET)
    if known is _NOT_YET:
        known = _negotiated({"accept": accept})
        if len(accept) <= _REMEMBERED_ACCEPT_LENGTH:
            if len(_negotiated_by_header) >= _REMEMBERED_ACCEPTS:
                _negotiated_by_header.clear()
            _negotiated_by_header[accept] = known
    return known


# What the negotiation made of the Accept headers met lately: clients send the same one every time.
_negotiated_by_header: dict[str, str | None] = {}
_NOT_YET = object()
_REMEMBERED_ACCEPTS = 64
_REMEMBERED_ACCEPT_LENGTH = 512


def _negotiated(headers: dict) -> str | None:
    try:
        return JSONWhateverIsAccepted().select_renderer(SimpleNamespace(query_params={}, headers=headers), [_RENDERER])[
            1
        ]
    except exceptions.APIException:
        return None


_ACCEPTED_WITHOUT_HEADER = _negotiated({})


def rendered(data, media_type: str) -> Response:
    """Return DRF's response of `data`, rendered with the registry's renderer as DRF would render it.

    A payload this process holds a copy of is the same object on every lookup until it changes
    (`local_copies`), so its body is rendered once and then served as ready bytes.
    """
    response = Response(data)
    known = _bodies.get(id(data))
    if known is None or known[0] is not data or known[1] != media_type:
        _rendered_now(response, media_type)
        _bodies.put(id(data), (data, media_type, response.content))
        return response
    response.accepted_renderer, response.accepted_media_type, response.renderer_context = _RENDERER, media_type, {}
    response["Content-Type"] = media_type
    response.content = known[2]  # marks the response rendered, as render() would
    return response


# Rendered bodies by the payload they were rendered from (kept here, so that its id names no other object).
_bodies = LruCache(1_000)


def rendered_error(error: Exception, view_class, media_type: str) -> Response:
    """Answer an error as the views do: through the one exception handler, rendered as DRF renders it."""
    return _rendered_now(registry_exception_handler(error, {"view": view_class()}), media_type)


def _rendered_now(response: Response, media_type: str) -> Response:
    response.accepted_renderer = _RENDERER
    response.accepted_media_type = media_type
    response.renderer_context = {}
    return response.render()


def _default_headers(view_class) -> dict:
    """Return the headers DRF gives every answer of the view (Allow), once Django's setup() added HEAD."""
    view = view_class()
    view.setup(None)
    return view.default_response_headers


class CachedLookupMiddleware:
    """Answer cached lookups without the middleware and DRF layers that the answer does not need."""

    def __init__(self, get_response):
        self.get_response = get_response
        stack = list(settings.MIDDLEWARE)
        here = f"{__name__}.{type(self).__name__}"
        self.enabled = here in stack and stack[stack.index(here) + 1 :] == STANDS_IN_FOR
        self.audit = RequestAuditMiddleware(get_response)
        self.counts = RequestMetricsMiddleware(get_response)
        self.common = CommonMiddleware(get_response)
        self.frame_options = XFrameOptionsMiddleware(get_response)
        self.default_headers = {view: _default_headers(view) for view in LOOKUPS}

    def __call__(self, request):
        lookup = self.lookup_of(request) if self.enabled else None
        if lookup is not None:
            with self.audit.audit_context(request):
                response = self.answer(request, *lookup)
            if response is not None:
                return response
        return self.get_response(request)

    def lookup_of(self, request):
        """Return (lookup, route, media type) for a request this path answers, else None."""
        meta = request.META
        if (
            request.method != "GET"
            or not request.path_info.startswith(_PREFIXES)
            or meta.get("QUERY_STRING")
            or meta.get("HTTP_COOKIE")
            or settings.DISALLOWED_USER_AGENTS
            or settings.PREPEND_WWW
        ):
            return None
        try:
            request.get_host()  # CommonMiddleware's check of ALLOWED_HOSTS; its 400 comes from the full stack
        except DisallowedHost:
            return None
        route = lookup_route(request.path_info)
        if route is None:
            return None
        lookup = LOOKUPS[route.func.view_class](route.kwargs)
        media_type = accepted_media_type(request)
        if lookup.prefetch_keys is None or media_type is None or ";" in media_type:
            return None
        return lookup, route, media_type

    def answer(self, request, lookup, route, media_type: str) -> HttpResponse | None:
        """Answer the lookup; None, before anything is counted, when the full stack must answer."""
        request.prefetch_keys, request.prefetched = lookup.prefetch_keys, {}
        if "HTTP_AUTHORIZATION" in request.META:
            user = remembered_sign_in(request)
            if user is None:
                return None
            request.user = user
        else:
            request.user = AnonymousUser()
        try:
            tenant = selectors.addressed_tenant(viewer=request.user, context=None, subject=lookup.subject)
            allowed = CanRead().has_permission(request, SimpleNamespace(tenant=tenant, subject_name=lookup.subject))
        except Exception:  # a failing database, say: DRF's handling of it in the full stack answers
            return None
        if not allowed:
            return None
        if request.user.is_authenticated:
            logs.bind(user=request.user.get_username())
        logs.bind(tenant=tenant.slug)
        request.resolver_match = route
        self.counts.process_request(request)
        self.counts.process_view(request, route.func, route.args, route.kwargs)
        try:
            response = lookup.answer(request, tenant, media_type)
        except Exception as error:  # answered by the views' own handler, which logs the unexpected
            response = rendered_error(error, lookup.view_class, media_type)
        return self.finished(request, response, lookup.view_class)

    def finished(self, request, response, view_class) -> HttpResponse:
        """Add what DRF and the middleware this one stands in for add to a lookup's answer, inside out."""
        for name, value in self.default_headers[view_class].items():
            response[name] = value
        if callable(getattr(response, "render", None)):  # as Django's handler does for DRF's responses
            response = self.counts.process_template_response(request, response)
        response = self.counts.process_response(request, response)
        response = self.frame_options.process_response(request, response)
        response = self.common.process_response(request, response)
        patch_vary_headers(response, ("Cookie",))  # the session middleware's: every request reads the user
        return response
