"""Pieces every registry view shares: content types, boolean query flags, the error handler, the base view."""

import io
import logging
from functools import cached_property

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, parsers, renderers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from registry import logs, metrics
from registry.env import parse_bool
from schemas_app import selectors
from schemas_app.api.middleware import wants_html
from schemas_app.api.permissions import CanRead
from schemas_app.errors import BadRequest, RegistryError
from schemas_app.limits import MAX_JSON_DEPTH, MAX_PAGE, ascii_int, in_range, json_depth_exceeds

logger = logging.getLogger(__name__)


class BoundedJSONParser(parsers.JSONParser):
    """JSON whose nesting is checked before parsing: Python's parser recurses, so 100,000 brackets would crash it."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read()
        if json_depth_exceeds(body):
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels")
        return super().parse(io.BytesIO(body), media_type, parser_context)


class SchemaRegistryV1Parser(BoundedJSONParser):
    media_type = "application/vnd.schemaregistry.v1+json"


class SchemaRegistryParser(BoundedJSONParser):
    media_type = "application/vnd.schemaregistry+json"


class AnyJSONParser(BoundedJSONParser):
    """Read a JSON body whatever content type a client sent (some send none, or text/plain)."""

    media_type = "*/*"


class SchemaRegistryRenderer(renderers.JSONRenderer):
    media_type = "application/vnd.schemaregistry.v1+json"


class _NoFormatOverride:
    """DRF's negotiation settings with `?format=` switched off: Confluent's `format` names a schema format."""

    URL_FORMAT_OVERRIDE = None


class JSONWhateverIsAccepted(DefaultContentNegotiation):
    """Answer JSON even when Accept names only Confluent's media types, instead of 406."""

    # Otherwise DRF reads ?format=serialized as a renderer name and raises Http404.
    settings = _NoFormatOverride

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            renderer = renderers[0]
            return renderer, renderer.media_type


REGISTRY_PARSERS = [BoundedJSONParser, SchemaRegistryV1Parser, SchemaRegistryParser, AnyJSONParser]


def query_bool(request, name: str, default: bool = False) -> bool:
    """Return a boolean query parameter written in any case (true, True, TRUE, 1...)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = parse_bool(raw)
    if value is None:
        raise BadRequest(f"Query parameter {name}={raw!r} is not a boolean")
    return value


def query_int(request, name: str, default: int, *, minimum: int = 0, maximum: int = MAX_PAGE) -> int:
    """Return a whole-number query parameter written in ASCII digits within [minimum, maximum]; 400 otherwise."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    number = ascii_int(raw)
    if not in_range(number, minimum, maximum):
        raise BadRequest(f"Query parameter {name}={raw!r} is not a whole number between {minimum} and {maximum}")
    return number


def registry_exception_handler(error, context):
    """Answer every error with {"error_code", "message"}; unexpected ones are logged, never shown."""
    if isinstance(error, RegistryError):
        if error.is_schema_validation_error:
            metrics.record_validation_error(error.error_code)
        return Response(error.as_dict(), status=error.status, headers=error.headers())
    # Django's own 404 and 403 mean what DRF's do; convert them as DRF's default handler would.
    if isinstance(error, Http404):
        error = exceptions.NotFound()
    elif isinstance(error, DjangoPermissionDenied):
        error = exceptions.PermissionDenied()
    if isinstance(error, exceptions.ValidationError):
        # Confluent answers a malformed body with 422, not 400.
        return Response({"error_code": 422, "message": _flatten(error.detail)}, status=422)
    if isinstance(error, exceptions.APIException):
        status = error.status_code
        detail = error.detail
        message = detail if isinstance(detail, str) else _flatten(detail)
        response = Response({"error_code": _confluent_code(status, error), "message": str(message)}, status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Basic realm="schema-registry"'
        if isinstance(error, exceptions.Throttled) and error.wait is not None:
            response["Retry-After"] = str(max(1, int(error.wait + 0.999)))
        return response
    logger.exception(
        "Unexpected error in %s", context.get("view").__class__.__name__ if context.get("view") else "a view"
    )
    return Response(RegistryError().as_dict(), status=500)


def _confluent_code(status: int, error) -> int:
    if status == 401:
        return 40101
    if status == 403:
        return 40301
    if status == 429:
        return 42901
    if isinstance(error, exceptions.ParseError):
        return 400
    return status


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return "; ".join(_flatten(item) for item in detail)
    return str(detail)


def json_not_found(request, exception=None):
    """Django's 404 handler: JSON for API clients; Django's page for a browser that asks for text/html first."""
    if wants_html(request):
        return page_not_found(request, exception)
    return JsonResponse({"error_code": 404, "message": "HTTP 404 Not Found"}, status=404)


def json_server_error(request):
    return JsonResponse(RegistryError().as_dict(), status=500)


class RegistryView(APIView):
    """Base of every registry endpoint: the content types clients send, the tenant and subject they address.

    Reads need `CanRead`; `method_permissions` names what other methods need (`{"POST": [CanWrite]}`).
    """

    parser_classes = REGISTRY_PARSERS
    content_negotiation_class = JSONWhateverIsAccepted
    permission_classes = [CanRead]
    method_permissions: dict[str, list] = {}

    def get_permissions(self):
        return [
            permission() for permission in self.method_permissions.get(self.request.method, self.permission_classes)
        ]

    # The context a subject was qualified with (`:.acme:orders-value`), or None for the caller's own tenant.
    context: str | None = None

    def dispatch(self, request, *args, **kwargs):
        if kwargs.get("subject") is not None:
            self.context, kwargs["subject"] = split_context(kwargs["subject"])
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        # What this view will read from the shared cache: a signed-in request's authentication reads it together
        # with the credential's access context, in one round trip (schemas_app.api.authentication).
        request.prefetch_keys = self.prefetch_keys()
        request.prefetched = {}
        super().initial(request, *args, **kwargs)
        if request.user and request.user.is_authenticated:
            logs.bind(user=request.user.get_username())

    def prefetch_keys(self) -> list[str]:
        """Return the shared cache keys this request will read, when known before authentication."""
        return []

    @cached_property
    def tenant(self):
        """The tenant addressed: the subject's context, else the caller's own; 40401 when the caller may not see it."""
        tenant = selectors.addressed_tenant(viewer=self.request.user, context=self.context, subject=self.subject_name)
        logs.bind(tenant=tenant.slug)
        return tenant

    @property
    def subject_name(self) -> str | None:
        return self.kwargs.get("subject")


def split_context(qualified: str) -> tuple[str | None, str]:
    """Split Confluent's context-qualified subject (`:.acme:orders-value`) into ("acme", "orders-value").

    An unqualified name, or the default context `:.:name`, gives (None, name).
    """
    if qualified.startswith(":.") and ":" in qualified[2:]:
        context, name = qualified[2:].split(":", 1)
        return (context or None), name
    return None, qualified
