"""OpenAPI descriptions of the views: the request body and, per method, the output serializer of the answer."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view

_WRITES = ("post", "put")


def documented(*, request=None, responses=None, summary: str | None = None):
    """Describe every HTTP method of a view: `request` for POST/PUT bodies, `responses` for the answers.

    `responses` is an output serializer (or field) for every method, or a {method name: serializer} mapping;
    a method it does not name is described as any JSON value.
    """

    def decorate(view_class):
        methods = [name for name in ("get", "post", "put", "delete") if hasattr(view_class, name)]
        schemas = {
            name: extend_schema(
                request=request if name in _WRITES else None,
                # Each method's output serializer; errors are declared by `declare_error_answers`.
                responses={200: _response_of(responses, name)},
                summary=summary or _first_line(view_class.__doc__),
            )
            for name in methods
        }
        return extend_schema_view(**schemas)(view_class)

    return decorate


def _first_line(docstring: str | None) -> str | None:
    text = (docstring or "").strip()
    return text.splitlines()[0] if text else None


class RememberingBasicScheme(OpenApiAuthenticationExtension):
    """Declare our HTTP Basic class as what it is, the scheme every Kafka client uses."""

    target_class = "schemas_app.api.authentication.RememberingBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Declare API tokens as HTTP bearer tokens (confluent-kafka's STATIC_TOKEN sends them so)."""

    target_class = "schemas_app.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}


class RegistryAutoSchema(AutoSchema):
    """Operation ids name the parameter a path ends with, so `/config` and `/config/{subject}` differ."""

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        last = self.path.rstrip("/").rsplit("/", 1)[-1]
        if last.startswith("{") and last.endswith("}"):
            return f"{operation_id}_by_{last[1:-1]}"
        return operation_id


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error_code", "message"],
    "properties": {
        "error_code": {"type": "integer"},
        "message": {"type": "string"},
        "details": {"type": "array"},
    },
}
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
_ERROR_MEDIA_TYPES = ("application/json", "application/vnd.schemaregistry.v1+json")


def declare_error_answers(result, generator, request, public):
    """Postprocessing hook: every operation may answer any 4xx or 5xx status in the one JSON error shape.

    Other successful statuses (201 created, 202 held for review) are declared too, without a body schema.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {
        "description": 'The registry\'s error shape: {"error_code", "message"} and, for schema errors, "details".',
        "content": {
            media_type: {"schema": {"$ref": "#/components/schemas/Error"}} for media_type in _ERROR_MEDIA_TYPES
        },
    }
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in _METHODS:
                responses = operation.setdefault("responses", {})
                responses.setdefault("2XX", {"description": "Other successes: 201 created, 202 held for review."})
                responses.setdefault("4XX", error)
                responses.setdefault("5XX", error)
    return result


def _response_of(responses, method: str):
    if isinstance(responses, dict):
        return responses.get(method, OpenApiTypes.ANY)
    return OpenApiTypes.ANY if responses is None else responses
