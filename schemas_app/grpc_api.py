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


def authenticate(metadata) -> object:
    """Return the user the `authorization` metadata names (AnonymousUser without it), as REST would.

    `Bearer <token>` is an API token, `Basic ...` a password. Credentials that do not check out raise
    AuthenticationFailed, and repeated failures are limited, as they are over REST.
    """
    header = dict(metadata).get("authorization", "")
    request = HttpRequest()
    request.META["HTTP_AUTHORIZATION"] = header
    for authentication_class in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        if issubclass(authentication_class, SessionAuthentication):
            continue  # sessions are the browser's; gRPC has no cookies
        found = authentication_class().authenticate(request)
        if found is not None:
            return found[0]
    return AnonymousUser()


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

    def GetSchemaById(self, request, user):
        payload = selectors.schema_payload(schema_id=request.id)
        return messages()["GetSchemaByIdResponse"](
            id=request.id,
            schema_type=payload["schemaType"],
            schema=payload["schema"],
            references=_reference_messages(payload),
        )

    def GetLatestVersion(self, request, user):
        found = selectors.subject_version_get(tenant=self.tenant(user), subject=request.subject, version="latest")
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

    def CheckCompatibility(self, request, user):
        findings = selectors.compatibility_test(
            tenant=self.tenant(user),
            subject_name=request.subject,
            version=request.version or None,
            schema=request.schema,
            references=_references(request),
            normalize=None,
        )
        return messages()["CheckCompatibilityResponse"](
            is_compatible=not findings, messages=[f"{finding.rule}: {finding.as_text()}" for finding in findings]
        )

    @staticmethod
    def tenant(user):
        """The tenant the Confluent API serves (the REST views' `tenant`)."""
        return selectors.default_tenant()

    @staticmethod
    def subject_of(request) -> str | None:
        return getattr(request, "subject", None) or None

    def call(self, method_name: str, request, context):
        """Authenticate, check the read role, run the method and turn registry errors into gRPC statuses."""
        close_old_connections()
        try:
            user = authenticate(context.invocation_metadata())
            if not user.is_authenticated and not settings.REGISTRY_ANONYMOUS_READ:
                raise Unauthorized()  # before the tenant is looked up, as DRF answers 401 first
            if not has_role(user, "read", subject_name=self.subject_of(request), tenant=self.tenant(user)):
                raise Forbidden() if user.is_authenticated else Unauthorized()
            return getattr(self, method_name)(request, user)
        except exceptions.AuthenticationFailed as error:
            _abort(context, 401, 40101, str(error.detail))
        except RegistryError as error:
            _abort(context, error.status, error.error_code, error.message)
        except Exception:
            logger.exception("Unexpected error in %s/%s", SERVICE_NAME, method_name)
            _abort(context, 500, RegistryError.error_code, RegistryError.default_message)
        finally:
            if self.keep_connections:
                close_old_connections()
            else:
                connections.close_all()


def _abort(context, http_status: int, error_code: int, message: str):
    context.set_trailing_metadata((("error-code", str(error_code)),))
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
