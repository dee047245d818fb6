"""OpenAPI descriptions for views that build their answers by hand (no response serializer to read)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view

_WRITES = ("post", "put")


def documented(*, request=None, summary: str | None = None):
    """Describe every HTTP method of a view: `request` for POST/PUT bodies, JSON objects as answers."""

    def decorate(view_class):
        methods = [name for name in ("get", "post", "put", "delete") if hasattr(view_class, name)]
        schemas = {
            name: extend_schema(
                request=request if name in _WRITES else None,
                responses={200: OpenApiTypes.OBJECT},
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
