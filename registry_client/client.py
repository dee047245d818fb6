"""RegistryClient: the registry's REST API with confluent-kafka's configuration keys, local caches and retries.

Moving a service over is a change of import: `RegistryClient({"url": ..., "basic.auth.user.info": "user:secret"})`
accepts the keys confluent-kafka's `SchemaRegistryClient` accepts and answers its methods with the same shapes.
"""

import base64
import random
import time
import urllib.parse
from dataclasses import dataclass, field

import httpx

from registry_client._lru import LruCache
from registry_client.errors import ConfigurationError, SchemaRegistryError

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
# Statuses worth trying again: the registry (or a proxy in front of it) is busy or restarting.
RETRIABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
DEFAULTS = {
    "cache.capacity": 1000,
    "cache.latest.ttl.sec": None,
    # How long a version's state (active, deprecated, disabled) is trusted before it is read again.
    "cache.state.ttl.sec": 60,
    "timeout": 10,
    "max.retries": 3,
    "retries.wait.ms": 100,
    "retries.max.wait.ms": 5000,
}
# Keys confluent-kafka accepts that change nothing here; accepted so that a configuration moves over unchanged.
IGNORED_KEYS = frozenset({"basic.auth.credentials.source", "bearer.auth.credentials.source", "proxy"})
KNOWN_KEYS = frozenset(
    {
        "url",
        "basic.auth.user.info",
        "bearer.auth.token",
        "bearer.auth.logical.cluster",
        "bearer.auth.identity.pool.id",
        "ssl.ca.location",
        "ssl.certificate.location",
        "ssl.key.location",
        *DEFAULTS,
        *IGNORED_KEYS,
    }
)


@dataclass(frozen=True)
class SchemaReference:
    name: str
    subject: str
    version: int


@dataclass(frozen=True)
class Schema:
    """A schema text (or base64 FileDescriptorProto) with its references, as confluent-kafka's `Schema`."""

    schema_str: str
    schema_type: str = "PROTOBUF"
    references: tuple[SchemaReference, ...] = field(default_factory=tuple)

    def __post_init__(self):
        object.__setattr__(self, "references", tuple(self.references or ()))

    def as_body(self) -> dict:
        body = {"schema": self.schema_str, "schemaType": self.schema_type}
        if self.references:
            body["references"] = [
                {"name": ref.name, "subject": ref.subject, "version": ref.version} for ref in self.references
            ]
        return body


@dataclass(frozen=True)
class RegisteredSchema:
    """A schema registered under a subject; `state` is the registry's lifecycle (active, deprecated, disabled)."""

    schema_id: int
    schema: Schema
    subject: str
    version: int
    state: str = "active"


def _schema_from(body: dict) -> Schema:
    references = [SchemaReference(ref["name"], ref["subject"], ref["version"]) for ref in body.get("references", [])]
    return Schema(body["schema"], body.get("schemaType", "PROTOBUF"), tuple(references))


def _registered_from(body: dict) -> RegisteredSchema:
    return RegisteredSchema(
        schema_id=body["id"],
        schema=_schema_from(body),
        subject=body["subject"],
        version=body["version"],
        state=body.get("state", "active"),
    )


def _quote(subject: str) -> str:
    return urllib.parse.quote(subject, safe="")


class RegistryClient:
    """A client of the registry's Confluent-compatible API, safe to share between threads."""

    def __init__(self, conf: dict):
        unknown = sorted(set(conf) - KNOWN_KEYS)
        if unknown:
            raise ConfigurationError(f"Unrecognized properties: {', '.join(unknown)}")
        settings = {**DEFAULTS, **conf}
        urls = [url.strip().rstrip("/") for url in str(settings.get("url") or "").split(",") if url.strip()]
        if not urls or not all(url.startswith(("http://", "https://")) for url in urls):
            raise ConfigurationError("url must name the registry as http(s)://host:port (several separated by commas)")
        self.urls = urls
        self.max_retries = self._whole_number(settings, "max.retries")
        self.retry_wait = self._whole_number(settings, "retries.wait.ms") / 1000
        self.retry_max_wait = self._whole_number(settings, "retries.max.wait.ms") / 1000
        capacity = self._whole_number(settings, "cache.capacity")
        latest_ttl = settings["cache.latest.ttl.sec"]
        self._schemas_by_id = LruCache(capacity)
        self._ids_by_schema = LruCache(capacity)
        self._versions = LruCache(capacity)
        self._latest = LruCache(capacity, latest_ttl if latest_ttl is None or latest_ttl >= 0 else None)
        self._states = LruCache(capacity, float(settings["cache.state.ttl.sec"]))
        self._http = httpx.Client(
            headers={"Accept": CONTENT_TYPE, "Content-Type": CONTENT_TYPE, **self._auth_headers(settings)},
            timeout=float(settings["timeout"]),
            verify=settings.get("ssl.ca.location") or True,
            cert=self._client_certificate(settings),
        )

    @staticmethod
    def _whole_number(settings: dict, key: str) -> int:
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigurationError(f"{key} must be a whole number of at least 0, not {value!r}")
        return value

    @staticmethod
    def _auth_headers(settings: dict) -> dict:
        user_info, token = settings.get("basic.auth.user.info"), settings.get("bearer.auth.token")
        if user_info and token:
            raise ConfigurationError("basic.auth.user.info and bearer.auth.token are exclusive: choose one")
        if user_info:
            if ":" not in user_info:
                raise ConfigurationError("basic.auth.user.info must be user:password")
            return {"Authorization": "Basic " + base64.b64encode(user_info.encode()).decode()}
        if token:
            headers = {"Authorization": f"Bearer {token}"}
            if settings.get("bearer.auth.logical.cluster"):
                headers["target-sr-cluster"] = settings["bearer.auth.logical.cluster"]
            if settings.get("bearer.auth.identity.pool.id"):
                headers["Confluent-Identity-Pool-Id"] = settings["bearer.auth.identity.pool.id"]
            return headers
        return {}

    @staticmethod
    def _client_certificate(settings: dict):
        certificate, key = settings.get("ssl.certificate.location"), settings.get("ssl.key.location")
        if key and not certificate:
            raise ConfigurationError("ssl.key.location needs ssl.certificate.location")
        return (certificate, key) if key else certificate

    # HTTP with retries

    def _request(self, method: str, path: str, body: dict | None = None, params: dict | None = None):
        """Send a request, trying each url in turn and backing off between rounds; raise SchemaRegistryError."""
        last_error: SchemaRegistryError | None = None
        for attempt in range(self.max_retries + 1):
            for url in self.urls:
                try:
                    response = self._http.request(method, url + path, json=body, params=params)
                except httpx.HTTPError as error:
                    last_error = SchemaRegistryError(
                        SchemaRegistryError.UNKNOWN,
                        SchemaRegistryError.UNKNOWN,
                        f"{method} {url}{path} could not reach the registry: {error}",
                    )
                    continue
                if response.status_code < 400:
                    return response.json()
                last_error = self._error_from(method, url + path, response)
                if response.status_code not in RETRIABLE_STATUSES:
                    raise last_error
            if attempt < self.max_retries:
                time.sleep(self._backoff(attempt))
        raise last_error

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, capped at retries.max.wait.ms."""
        return random.uniform(0, min(self.retry_max_wait, self.retry_wait * 2**attempt))

    @staticmethod
    def _error_from(method: str, url: str, response: httpx.Response) -> SchemaRegistryError:
        try:
            body = response.json()
            code, message = body.get("error_code", response.status_code), body.get("message", response.text)
        except ValueError:
            code, message = response.status_code, response.text[:200] or response.reason_phrase
        return SchemaRegistryError(response.status_code, code, f"{method} {url}: {message}")

    # Confluent-compatible methods

    def register_schema(self, subject_name: str, schema: Schema, normalize_schemas: bool = False) -> int:
        """Register `schema` under the subject (or find it there) and return its id."""
        key = (subject_name, schema, normalize_schemas)
        cached = self._ids_by_schema.get(key)
        if cached is not None:
            return cached
        params = {"normalize": "true"} if normalize_schemas else None
        schema_id = self._request("POST", f"/subjects/{_quote(subject_name)}/versions", schema.as_body(), params)["id"]
        self._ids_by_schema.put(key, schema_id)
        return schema_id

    def lookup_schema(self, subject_name: str, schema: Schema, normalize_schemas: bool = False) -> RegisteredSchema:
        """Return the version of the subject that holds `schema`; 40403 when none does."""
        key = ("lookup", subject_name, schema, normalize_schemas)
        cached = self._versions.get(key)
        if cached is not None:
            return cached
        params = {"normalize": "true"} if normalize_schemas else None
        found = _registered_from(self._request("POST", f"/subjects/{_quote(subject_name)}", schema.as_body(), params))
        self._versions.put(key, found)
        return found

    def get_schema(self, schema_id: int, subject_name: str | None = None, fmt: str | None = None) -> Schema:
        """Return the schema of an id (fmt="serialized" answers a base64 FileDescriptorProto)."""
        key = (schema_id, fmt)
        cached = self._schemas_by_id.get(key)
        if cached is not None:
            return cached
        params = {key_: value for key_, value in (("subject", subject_name), ("format", fmt)) if value}
        schema = _schema_from(self._request("GET", f"/schemas/ids/{int(schema_id)}", params=params or None))
        self._schemas_by_id.put(key, schema)
        return schema

    def get_latest_version(self, subject_name: str, fmt: str | None = None) -> RegisteredSchema:
        """Return the subject's latest version, cached for cache.latest.ttl.sec (forever by default, as Confluent)."""
        key = (subject_name, fmt)
        cached = self._latest.get(key)
        if cached is not None:
            return cached
        params = {"format": fmt} if fmt else None
        found = _registered_from(
            self._request("GET", f"/subjects/{_quote(subject_name)}/versions/latest", None, params)
        )
        self._latest.put(key, found)
        return found

    def get_version(self, subject_name: str, version: int | str = "latest") -> RegisteredSchema:
        if version in ("latest", -1):
            return self.get_latest_version(subject_name)
        key = (subject_name, int(version))
        cached = self._states.get(key)
        if cached is not None:
            return cached
        found = _registered_from(self._request("GET", f"/subjects/{_quote(subject_name)}/versions/{int(version)}"))
        self._states.put(key, found)
        return found

    def get_versions(self, subject_name: str) -> list[int]:
        return self._request("GET", f"/subjects/{_quote(subject_name)}/versions")

    def get_subjects(self) -> list[str]:
        return self._request("GET", "/subjects")

    def get_schema_versions(self, schema_id: int) -> list[tuple[str, int]]:
        """Return the (subject, version) pairs that hold a schema id, cached for cache.state.ttl.sec."""
        key = ("versions of", int(schema_id))
        cached = self._states.get(key)
        if cached is not None:
            return cached
        body = self._request("GET", f"/schemas/ids/{int(schema_id)}/versions")
        found = [(entry["subject"], entry["version"]) for entry in body]
        self._states.put(key, found)
        return found

    def test_compatibility(self, subject_name: str, schema: Schema, version: int | str = "latest") -> bool:
        path = f"/compatibility/subjects/{_quote(subject_name)}/versions/{version}"
        return bool(self._request("POST", path, schema.as_body())["is_compatible"])

    def clear_caches(self) -> None:
        for cache in (self._schemas_by_id, self._ids_by_schema, self._versions, self._latest, self._states):
            cache.clear()

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
