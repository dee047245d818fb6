"""Service-level endpoints that belong to no domain app: the root document, health probes and metrics."""

import hmac
import ipaddress
import os

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from registry import health
from registry.metrics_collectors import STATE_COLLECTORS


@require_GET
def root(request):
    """Send browsers to the catalogue; answer clients like Confluent's registry root, plus where the docs are."""
    if _prefers_html(request):
        return redirect("/ui/")
    return JsonResponse(
        {"service": "proto-schema-registry", "docs": "/docs", "admin": "/admin/", "metrics": "/metrics"}
    )


def _prefers_html(request) -> bool:
    """Return True when the first media type the request accepts is text/html, as a browser's does."""
    accepted = request.accepted_types
    return bool(accepted) and accepted[0].main_type == "text" and accepted[0].sub_type == "html"


@require_GET
def health_live(request):
    """Answer as long as the process serves requests; touches no dependency (a liveness probe)."""
    return JsonResponse({"status": health.SERVING})


@require_GET
def health_ready(request):
    """Report each dependency with its state and latency; 503 when PostgreSQL is down (a readiness probe)."""
    body = health.readiness()
    return JsonResponse(body, status=503 if body["status"] == health.NOT_SERVING else 200)


def _metrics_access(request) -> int | None:
    """Return None when the scraper may read /metrics, else the status to refuse it with (401 or 403)."""
    token = settings.REGISTRY_METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        if sent.startswith("Bearer ") and hmac.compare_digest(sent.removeprefix("Bearer ").encode(), token.encode()):
            return None
    try:
        # REMOTE_ADDR, never X-Forwarded-For: a client can write any forwarded header it likes.
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        address = None
    if address is not None and any(address in network for network in settings.REGISTRY_METRICS_ALLOWED_NETWORKS):
        return None
    return 401 if token else 403


def _scrape_registry() -> CollectorRegistry:
    """Return what one scrape reports: every worker's events (or this process's) and the state read now."""
    scrape = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(scrape)
    else:
        scrape.register(REGISTRY)
    for collector in STATE_COLLECTORS:
        scrape.register(collector)
    return scrape


@require_GET
def metrics(request):
    """Prometheus text format, for a scraper holding the token or calling from an allowed network."""
    refused = _metrics_access(request)
    if refused == 401:
        response = JsonResponse({"error_code": 40101, "message": "Unauthorized"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if refused:
        return JsonResponse({"error_code": 40301, "message": "User is denied operation"}, status=403)
    return HttpResponse(generate_latest(_scrape_registry()), content_type=CONTENT_TYPE_LATEST)
