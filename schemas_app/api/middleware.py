"""One gate in front of every view: requests no view should see, and error pages API clients cannot read.

Django answers some errors itself, before or around the views: an unknown path (in DEBUG the
technical page listing every URL pattern), a wrong method on a plain Django view, an uncaught
exception, a body too large to read. API clients get all of those in the registry's JSON error
shape; a browser that asks for text/html first still gets Django's page.
"""

from http import HTTPStatus

from django.conf import settings
from django.http import JsonResponse

from schemas_app.errors import RegistryError

# Headers an error answer keeps when its body is replaced.
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def max_request_bytes() -> int:
    """Return the largest request body read: a schema at the limit, JSON-escaped, plus room for the other fields."""
    return 2 * settings.REGISTRY_MAX_SCHEMA_BYTES + 16 * 1024


def wants_html(request) -> bool:
    return request.headers.get("Accept", "").split(",")[0].strip().lower().startswith("text/html")


class JSONErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = self.refuse(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response) and not wants_html(request):
            return _as_json_error(response)
        return response

    @staticmethod
    def refuse(request) -> JsonResponse | None:
        """Answer a request whose body is over the limit or whose path is not UTF-8, before anything reads it."""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, 400, "Content-Length is not a number")
        limit = max_request_bytes()
        if length > limit:
            return _error(
                413,
                42209,
                f"Request body is {length} bytes; the limit is {limit} bytes "
                "(twice REGISTRY_MAX_SCHEMA_BYTES plus 16 KiB)",
            )
        # WSGI servers pass the path's bytes as Latin-1 text (PEP 3333); Django would re-escape non-UTF-8 bytes.
        raw_path = request.META.get("PATH_INFO", "")
        try:
            raw_bytes = raw_path.encode("iso-8859-1")
        except UnicodeEncodeError:
            return None  # already decoded text (Django's test client)
        try:
            raw_bytes.decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, 400, "The path holds percent-escapes that are not UTF-8")
        return None


def _is_json(response) -> bool:
    return "json" in response.get("Content-Type", "")


def _error(status: int, code: int, message: str) -> JsonResponse:
    return JsonResponse({"error_code": code, "message": message}, status=status)


def _as_json_error(response) -> JsonResponse:
    status = response.status_code
    if status >= 500:
        replacement = JsonResponse(RegistryError().as_dict(), status=status)
    else:
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        replacement = _error(status, status, f"HTTP {status} {phrase}")
    for header in _KEPT_HEADERS:
        if header in response:
            replacement[header] = response[header]
    return replacement
