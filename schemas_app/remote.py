"""A small client for a remote registry's REST API (Confluent's paths), for commands that run in CI.

Standard library only (`urllib.request`), so the registry's runtime
dependencies stay as they are. Every failure becomes a `RemoteError` that
carries the answer's `error_code` (Confluent's numbers; None when the server
could not be reached), its HTTP status and its message. No Django here.
"""

import argparse
import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence

from schemas_app.redirects import RedirectRefused, RedirectsRefused

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
TIMEOUT_SECONDS = 30.0
# The answers that mean "this subject has no live version": subject, then version, not found.
NOT_FOUND_CODES = (40401, 40402)
# Followed, a redirect would take the Authorization header to whatever address the answer names (ftp:// included).
_opener = urllib.request.build_opener(RedirectsRefused)


class RemoteError(Exception):
    """The remote registry refused a call or could not be reached; the message says which call and why."""

    def __init__(self, message: str, *, status: int | None = None, error_code: int | None = None, details=None):
        self.message = message
        self.status = status
        self.error_code = error_code
        self.details = details
        super().__init__(message)


def subject_path(subject: str) -> str:
    """Return the subject as one URL path segment: "trading/orders.proto" becomes "trading%2Forders.proto"."""
    return urllib.parse.quote(subject, safe="")


class RemoteRegistry:
    """Talk to one registry at `url`, with an API token or basic authentication (or neither, for reads)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ):
        if not url.startswith(("http://", "https://")):
            raise RemoteError(f"{url!r} is not a registry URL; give one such as https://registry.example.com.")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._authorization = _authorization(token, user, password)

    @classmethod
    def from_environment(cls, url: str, *, token: str | None = None, user: str | None = None) -> "RemoteRegistry":
        """Return a client with credentials from the arguments or REGISTRY_TOKEN / REGISTRY_USER + REGISTRY_PASSWORD."""
        token = token or os.environ.get("REGISTRY_TOKEN") or None
        user = user or os.environ.get("REGISTRY_USER") or None
        return cls(url, token=token, user=user, password=os.environ.get("REGISTRY_PASSWORD"))

    def request(self, method: str, path: str, *, body=None, query: Mapping[str, str] | None = None):
        """Call the API and return the decoded JSON answer; raise RemoteError for an error answer."""
        url = self.url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers=self._headers(data is not None))
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except RedirectRefused as redirect:
            raise self._redirect_refused(method, path, url, redirect) from None
        except urllib.error.HTTPError as error:
            raise _error_from_answer(method, path, error) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise RemoteError(f"Cannot reach the registry at {self.url}: {reason}.") from None
        except json.JSONDecodeError:
            raise RemoteError(
                f"{method} {path}: the registry did not answer JSON; is {self.url} a schema registry?"
            ) from None

    def _redirect_refused(self, method: str, path: str, url: str, redirect: RedirectRefused) -> RemoteError:
        """Name where the registry pointed and, when it kept the call's path (http to https), the URL to give."""
        called = url.removeprefix(self.url)
        moved_to = redirect.location.removesuffix(called) if redirect.location else None
        advice = f"give {moved_to} if that is the registry" if moved_to != redirect.location else "give its own URL"
        return RemoteError(
            f"{method} {path}: the registry at {self.url} redirected {redirect.where} (HTTP {redirect.code});"
            " registry commands follow no redirects, so the credentials go to the URL given and nowhere else:"
            f" {advice}",
            status=redirect.code,
            error_code=redirect.code,
        )

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {"Accept": CONTENT_TYPE}
        if has_body:
            headers["Content-Type"] = CONTENT_TYPE
        if self._authorization:
            headers["Authorization"] = self._authorization
        return headers

    def latest_version(self, subject: str) -> dict | None:
        """Return the subject's latest live version (schema, references, version, semanticVersion...), None if none."""
        try:
            return self.version(subject, "latest")
        except RemoteError as error:
            if error.error_code in NOT_FOUND_CODES:
                return None
            raise

    def version(self, subject: str, version: int | str) -> dict:
        return self.request("GET", f"/subjects/{subject_path(subject)}/versions/{version}")

    def version_numbers(self, subject: str) -> list[int]:
        return self.request("GET", f"/subjects/{subject_path(subject)}/versions")

    def config(self, subject: str) -> dict:
        """Return the compatibility settings in force for the subject (its own, else the global ones)."""
        return self.request("GET", f"/config/{subject_path(subject)}", query={"defaultToGlobal": "true"})

    def mode(self, subject: str) -> str:
        return self.request("GET", f"/mode/{subject_path(subject)}", query={"defaultToGlobal": "true"})["mode"]

    def register(
        self, subject: str, schema: str, references: Sequence[Mapping], *, metadata: Mapping | None = None
    ) -> dict:
        """Register a schema; return its version, with `version` and `semanticVersion` when the server says them."""
        body = {"schemaType": "PROTOBUF", "schema": schema, "references": list(references)}
        if metadata:
            body["metadata"] = dict(metadata)
        answer = self.request(
            "POST", f"/subjects/{subject_path(subject)}/versions", body=body, query={"verbose": "true"}
        )
        if "version" not in answer:
            # A plain Confluent registry answers {"id"} only: its latest version is the one just registered.
            answer = {**self.latest_version(subject), "id": answer["id"]}
        return answer

    def private_copies(self) -> list[dict]:
        """Return the subjects of the tenants this account reads that shadow a shared subject of the same name."""
        return self.request("GET", "/private-copies")

    def retire_private_copy(self, tenant: str, subject: str, *, force: bool = False) -> list[int]:
        """Soft-delete a tenant's private copy of a shared subject; return the version numbers deleted."""
        query = {"force": "true"} if force else None
        return self.request("DELETE", f"/subjects/{subject_path(f':.{tenant}:{subject}')}/private-copy", query=query)

    def incompatibilities(self, subject: str, schema: str, references: Sequence[Mapping]) -> list[dict]:
        """Return what makes the schema incompatible with the subject at its level.

        Each finding is a dict with path, line, column, rule and message.
        """
        body = {"schemaType": "PROTOBUF", "schema": schema, "references": list(references)}
        answer = self.request(
            "POST", f"/compatibility/subjects/{subject_path(subject)}/versions", body=body, query={"verbose": "true"}
        )
        if answer.get("is_compatible", True):
            return []
        # Confluent's own registry says why in `messages` only, without a place in the file.
        return answer.get("findings") or [
            {"path": subject, "line": 0, "column": 0, "rule": "INCOMPATIBLE", "message": message}
            for message in answer.get("messages", [])
        ]


def add_credential_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare --token and --user; the password only ever comes from REGISTRY_PASSWORD, never the command line."""
    parser.add_argument(
        "--token", metavar="KEY", help="API token (default: REGISTRY_TOKEN); sent as `Authorization: Bearer KEY`"
    )
    parser.add_argument(
        "--user", metavar="NAME", help="user for basic authentication (default: REGISTRY_USER), with REGISTRY_PASSWORD"
    )


def _authorization(token: str | None, user: str | None, password: str | None) -> str | None:
    if token:
        return f"Bearer {token}"
    if user:
        if password is None:
            raise RemoteError(f"A password is needed for user {user!r}: set REGISTRY_PASSWORD.")
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return None


def _error_from_answer(method: str, path: str, error: urllib.error.HTTPError) -> RemoteError:
    """Turn an HTTP error answer into a RemoteError, keeping the registry's error_code and details."""
    raw = error.read()
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict) and "message" in body:
        code = body.get("error_code", error.code)
        return RemoteError(
            f"{method} {path}: error {code}: {body['message']}",
            status=error.code,
            error_code=code,
            details=body.get("details"),
        )
    text = raw.decode("utf-8", "replace").strip()[:200]
    return RemoteError(
        f"{method} {path}: HTTP {error.code} {error.reason}{': ' + text if text else ''}",
        status=error.code,
        error_code=error.code,
    )
