"""Structured logs: every line carries the request id, the user and the tenant of the request it belongs to.

The request id is the client's `X-Request-ID` (or `X-Correlation-ID`, or a `correlation_id` query
parameter) when it is a sensible token, a new one otherwise; it is echoed in the `X-Request-ID`
response header so a client can quote it. The middleware writes one access line per request.
Secrets never reach a line: headers and query strings are not logged, and any field whose name
says it holds a secret is replaced by "[redacted]".
"""

import contextvars
import logging
import re
import time
import uuid

from pythonjsonlogger.json import JsonFormatter

_request_id = contextvars.ContextVar("request_id", default="-")
_user = contextvars.ContextVar("user", default="-")
_tenant = contextvars.ContextVar("tenant", default="-")

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_SECRET_NAMES = re.compile(r"pass|secret|token|authorization|cookie|api_?key|credential", re.IGNORECASE)
REDACTED = "[redacted]"

access_logger = logging.getLogger("registry.access")


def bind(*, user: str | None = None, tenant: str | None = None) -> None:
    """Record who the current request acts as, and for which tenant, for the rest of its log lines."""
    if user is not None:
        _user.set(user)
    if tenant is not None:
        _tenant.set(tenant)


def current_request_id() -> str:
    return _request_id.get()


def incoming_request_id(request) -> str:
    """Return the client's request or correlation id when it is a sensible token, else a new one."""
    # META, not request.headers: building the headers' mapping costs more than the rest of a cached lookup's logging.
    for candidate in (
        request.META.get("HTTP_X_REQUEST_ID"),
        request.META.get("HTTP_X_CORRELATION_ID"),
        request.GET.get("correlation_id") if request.META.get("QUERY_STRING") else None,
    ):
        if candidate and _ACCEPTABLE_ID.match(candidate):
            return candidate
    return uuid.uuid4().hex


class RequestContextFilter(logging.Filter):
    """Add request_id, user and tenant to every record, and blank out fields named like secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.user = _user.get()
        record.tenant = _tenant.get()
        for name in list(vars(record)):
            if _SECRET_NAMES.search(name):
                setattr(record, name, REDACTED)
        return True


class RegistryJsonFormatter(JsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, request_id, user, tenant, then extras."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"asctime": "timestamp", "levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", False)
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user)s %(tenant)s", *args, **kwargs
        )

    def formatTime(self, record, datefmt=None):
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


class RequestIdMiddleware:
    """Give each request an id (echoed in X-Request-ID), and write one access line when it is answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = incoming_request_id(request)
        request.request_id = request_id
        tokens = (_request_id.set(request_id), _user.set("-"), _tenant.set("-"))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                bind(user=user.get_username())
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "remote_addr": request.META.get("REMOTE_ADDR", ""),
                },
            )
            return response
        finally:
            for variable, token in zip((_request_id, _user, _tenant), tokens, strict=True):
                variable.reset(token)


def logging_config(*, log_format: str, level: str) -> dict:
    """Return Django's LOGGING: JSON lines, or plain text for a person at a terminal (`make run`)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": RequestContextFilter}},
        "formatters": {
            "json": {"()": RegistryJsonFormatter},
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user)s %(tenant)s] %(message)s"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_context"]}
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # The access line above replaces Django's own request lines for answered requests.
            "django.server": {"level": "WARNING"},
        },
    }
