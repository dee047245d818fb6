"""Service-level endpoints that belong to no domain app: the root document and the health probe."""

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def root(request):
    """Answer like Confluent's registry root (`{}`), plus where to find the docs."""
    return JsonResponse(
        {"service": "proto-schema-registry", "docs": "/docs", "admin": "/admin/", "metrics": "/metrics"}
    )


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _cache_ok() -> bool:
    try:
        cache.set("health:probe", "1", 5)
        return cache.get("health:probe") == "1"
    except Exception:
        return False


@require_GET
def health(request):
    """Report database and cache reachability; 503 when the database is down (the cache is optional)."""
    database, cache_ok = _database_ok(), _cache_ok()
    status = 200 if database else 503
    return JsonResponse(
        {"status": "ok" if database else "down", "database": database, "cache": cache_ok}, status=status
    )
