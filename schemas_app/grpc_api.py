"""The registry's gRPC API, `registry.v1.SchemaRegistry` (schemas/schemaregistry/registry_service.proto).

Thin handlers, like the REST views: authenticate the metadata with the REST API's own authentication classes,
check the same role for the same tenant and subject, call the same selector or service, and answer. Errors keep
their registry code and message: the gRPC status follows the HTTP status, and `error-code` trailing metadata
carries Confluent's code.

The message classes are built at start-up from the catalogue's .proto file in a private descriptor pool;
nothing generated is committed or written to disk.
"""

import logging
from concurrent import futures
from functools import cache

import grpc
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import close_old_connections, connections
from django.http import HttpRequest
from google.protobuf import descriptor_pool, message_factory
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.settings import api_settings

from protoengine.compiler import compile_one
from schemas_app import selectors
from schemas_app.access import has_role
from schemas_app.api.common import split_context
from schemas_app.api.confluent import version_payload
from schemas_app.errors import Forbidden, RegistryError, Unauthorized
from schemas_app.preparation import Reference

logger = logging.getLogger(__name__)

SERVICE_PROTO = "schemaregistry/registry_service.proto"
SERVICE_NAME = "registry.v1.SchemaRegistry"
STATUS_OF_HTTP = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.FAILED_PRECONDITION,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


@cache
def messages() -> dict[str, type]:
    """Return the service's message classes by name, compiled from the catalogue's file."""
    path = settings.BASE_DIR / "schemas" / SERVICE_PROTO
    compiled = compile_one(SERVICE_PROTO, path.read_text())
    pool = descriptor_pool.DescriptorPool()
    for file in compiled.files:
        pool.Add(file)
    service_file = pool.FindFileByName(SERVICE_PROTO)
    return {
        name: message_factory.GetMessageClass(descriptor)
        for name, descriptor in service_file.message_types_by_name.items()
    }


def authenticate(metadata, peer: str = "") -> object:
    """Return the user the `authorization` metadata names (AnonymousUser without it), as REST would.

    `Bearer <token>` is an API token, `Basic ...` a password. Credentials that do not check out raise
    AuthenticationFailed, and repeated failures are limited, as they are over REST.
    """
    header = dict(metadata).get("authorization", "")
    request = HttpRequest()
    request.META["HTTP_AUTHORIZATION"] = header
    # Failed sign-ins are limited per address, as over REST: "ipv4:127.0.0.1:50123" -> "127.0.0.1".
    request.META["REMOTE_ADDR"] = peer_address(peer)
    for authentication_class in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        if issubclass(authentication_class, SessionAuthentication):
            continue  # sessions are the browser's; gRPC has no cookies
        found = authentication_class().authenticate(request)
        if found is not None:
            return found[0]
    return AnonymousUser()


def peer_address(peer: str) -> str:
    """Return the address part of a gRPC peer string ("ipv4:1.2.3.4:5", "ipv6:[::1]:5"), or "unknown"."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    if kind == "ipv6":
        return rest.rsplit(":", 1)[0].strip("[]")
    return peer or "unknown"


def _references(request) -> list[Reference]:
    return [Reference(ref.import_path, ref.subject, ref.version) for ref in request.references]


def _reference_messages(payload: dict) -> list:
    reference = messages()["SchemaReference"]
    return [
        reference(import_path=ref["name"], subject=ref["subject"], version=ref["version"])
        for ref in payload.get("references", [])
    ]


class SchemaRegistryServicer:
    """One method per RPC; `call` does what every one needs first.

    `keep_connections=False` closes the worker thread's database connection after each call, as Django's live
    test server does, so that a test database can be dropped; otherwise CONN_MAX_AGE decides, as for REST.
    """

    def __init__(self, *, keep_connections: bool = True):
        self.keep_connections = keep_connections

    def GetSchemaById(self, request, user, tenant, subject):
        payload = selectors.schema_payload(schema_id=request.id)
        # An id none of the caller's tenants holds answers exactly as an unknown one, as over REST.
        selectors.require_schema_visible(viewer=user, schema_id=payload["id"], asked=request.id)
        return messages()["GetSchemaByIdResponse"](
            id=request.id,
            schema_type=payload["schemaType"],
            schema=payload["schema"],
            references=_reference_messages(payload),
        )

    def GetLatestVersion(self, request, user, tenant, subject):
        found = selectors.subject_version_get(tenant=tenant, subject=subject, version="latest")
        payload = version_payload(found)
        return messages()["GetLatestVersionResponse"](
            subject=payload["subject"],
            version=payload["version"],
            id=payload["id"],
            schema_type=payload["schemaType"],
            schema=payload["schema"],
            references=_reference_messages(payload),
            semantic_version=payload["semanticVersion"],
            state=payload["state"],
        )

    def CheckCompatibility(self, request, user, tenant, subject):
        findings = selectors.compatibility_test(
            tenant=tenant,
            subject_name=subject,
            version=request.version or None,
            schema=request.schema,
            references=_references(request),
            normalize=None,
        )
        return messages()["CheckCompatibilityResponse"](
            is_compatible=not findings, messages=[f"{finding.rule}: {finding.as_text()}" for finding in findings]
        )

    @staticmethod
    def scope(request, user) -> tuple:
        """Return the tenant and subject a request addresses, as the REST views do.

        A subject may be context-qualified (`:.acme:orders-value`); without one the caller's own tenant is meant.
        """
        qualified = getattr(request, "subject", "") or None
        context, subject = split_context(qualified) if qualified else (None, None)
        return selectors.addressed_tenant(viewer=user, context=context, subject=subject), subject

    def call(self, method_name: str, request, context):
        """Authenticate, check the read role, run the method and turn registry errors into gRPC statuses."""
        close_old_connections()
        try:
            user = authenticate(context.invocation_metadata(), context.peer())
            if not user.is_authenticated and not settings.REGISTRY_ANONYMOUS_READ:
                raise Unauthorized()  # before the tenant is looked up, as DRF answers 401 first
            tenant, subject = self.scope(request, user)
            if not has_role(user, "read", subject_name=subject, tenant=tenant):
                raise Forbidden() if user.is_authenticated else Unauthorized()
            return getattr(self, method_name)(request, user, tenant, subject)
        except exceptions.AuthenticationFailed as error:
            _abort(context, 401, 40101, str(error.detail))
        except RegistryError as error:
            retry_after = getattr(error, "retry_after", None)
            _abort(context, error.status, error.error_code, error.message, retry_after=retry_after)
        except Exception:
            logger.exception("Unexpected error in %s/%s", SERVICE_NAME, method_name)
            _abort(context, 500, RegistryError.error_code, RegistryError.default_message)
        finally:
            if self.keep_connections:
                close_old_connections()
            else:
                connections.close_all()


def _abort(context, http_status: int, error_code: int, message: str, *, retry_after: int | None = None):
    metadata = [("error-code", str(error_code))]
    if retry_after is not None:
        metadata.append(("retry-after", str(retry_after)))
    context.set_trailing_metadata(tuple(metadata))
    context.abort(STATUS_OF_HTTP.get(http_status, grpc.StatusCode.INTERNAL), message)


RPCS = {
    "GetSchemaById": ("GetSchemaByIdRequest", "GetSchemaByIdResponse"),
    "GetLatestVersion": ("GetLatestVersionRequest", "GetLatestVersionResponse"),
    "CheckCompatibility": ("CheckCompatibilityRequest", "CheckCompatibilityResponse"),
}


def generic_handler(servicer: SchemaRegistryServicer | None = None) -> grpc.GenericRpcHandler:
    """Return the handler serving every RPC of registry.v1.SchemaRegistry."""
    servicer = servicer or SchemaRegistryServicer()
    classes = messages()

    def unary(method_name, request_name, response_name):
        return grpc.unary_unary_rpc_method_handler(
            lambda request, context: servicer.call(method_name, request, context),
            request_deserializer=classes[request_name].FromString,
            response_serializer=classes[response_name].SerializeToString,
        )

    handlers = {name: unary(name, request, response) for name, (request, response) in RPCS.items()}
    return grpc.method_handlers_generic_handler(SERVICE_NAME, handlers)


def build_server(address: str, *, max_workers: int = 8, keep_connections: bool = True) -> tuple[grpc.Server, int]:
    """Return a server (not started) of the registry's gRPC API bound to `address`, and the port it got."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers))
    server.add_generic_rpc_handlers((generic_handler(SchemaRegistryServicer(keep_connections=keep_connections)),))
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    return server, port
