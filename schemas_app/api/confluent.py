"""The Confluent-compatible API: the same paths, JSON shapes, status codes and error codes as Confluent's registry."""

from datetime import datetime
from urllib.parse import quote

from django.http import HttpResponse
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from rest_framework.response import Response

from protoengine import canonical
from registry import metrics
from schemas_app import cache as registry_cache
from schemas_app import selectors, services
from schemas_app.api import serializers as out
from schemas_app.api.common import (
    RegistryView,
    SchemaRegistryRenderer,
    query_bool,
    query_int,
)
from schemas_app.api.openapi import documented
from schemas_app.api.permissions import CanApprove, CanDelete, CanWrite
from schemas_app.api.reviews import pending_body
from schemas_app.api.serializers import ConfigInputSerializer, ModeInputSerializer, SchemaInputSerializer
from schemas_app.api.throttling import CompatibilityCheckRate
from schemas_app.errors import (
    SchemaIdNotFound,
    SubjectConfigNotFound,
    SubjectModeNotFound,
    TenantModeNotDeleted,
    VersionRetired,
)
from schemas_app.limits import MAX_ID, MAX_VERSION, ascii_int, in_range
from schemas_app.models import SubjectConfig, SubjectVersion, Tenant
from schemas_app.preparation import compile_stored, root_path_for


class ConfluentView(RegistryView):
    """Base of the Confluent endpoints: answers carry Confluent's media type."""

    renderer_classes = [SchemaRegistryRenderer]


def version_payload(subject_version) -> dict:
    """Return Confluent's {subject, version, id, schemaType, schema, references} plus our semantic fields."""
    # On a cache miss, build the payload from the row the version query already joined instead of reading it again.
    payload = dict(
        registry_cache.schema_payload(
            subject_version.schema_id, lambda: selectors.schema_as_payload(subject_version.schema)
        )
    )
    payload.pop("guid", None)
    payload.update(
        subject=subject_version.subject.name,
        version=subject_version.version,
        id=subject_version.schema_id,
        semanticVersion=subject_version.semantic_version,
        state=subject_version.state,
    )
    if subject_version.deleted:
        payload["deleted"] = True
    if subject_version.state != SubjectVersion.State.ACTIVE:
        payload["deprecation"] = deprecation_payload(subject_version)
    return payload


def deprecation_payload(subject_version) -> dict:
    """Return when a version was deprecated, why, what replaces it, and its sunset (ISO 8601)."""
    successor = None
    if subject_version.successor_subject:
        successor = {"subject": subject_version.successor_subject, "version": subject_version.successor_version}
    return {
        "deprecatedAt": _iso(subject_version.deprecated_at),
        "sunset": _iso(subject_version.sunset_at),
        "reason": subject_version.deprecation_reason or None,
        "successor": successor,
        "disabledAt": _iso(subject_version.disabled_at),
    }


def _iso(moment):
    return moment.isoformat() if moment else None


def served_version(request, payload: dict, answer=Response):
    """Answer a version lookup: 40402 for a retired version; Deprecation, Sunset and Link headers when deprecated.

    `answer` makes the response of the payload: DRF's Response, or one with the body already rendered.
    """
    deprecation = payload.get("deprecation")
    if payload.get("state") == SubjectVersion.State.DISABLED:
        successor = deprecation.get("successor") if deprecation else None
        instead = ""
        if successor:
            instead = f"; use subject '{successor['subject']}' version {successor['version'] or 'latest'} instead"
        disabled_at = (deprecation or {}).get("disabledAt")
        retired = disabled_at[:10] if disabled_at else "an earlier date"
        raise VersionRetired(payload["subject"], payload["version"], retired, instead)
    response = answer(counted_if_deprecated(request, payload))
    if deprecation:
        add_lifecycle_headers(request, response, deprecation)
    return response


def add_lifecycle_headers(request, response, deprecation: dict) -> None:
    """Set RFC 9745's Deprecation, RFC 8594's Sunset and a Link to the successor version."""
    if deprecation.get("deprecatedAt"):
        moment = datetime.fromisoformat(deprecation["deprecatedAt"])
        response["Deprecation"] = f"@{int(moment.timestamp())}"
    if deprecation.get("sunset"):
        response["Sunset"] = http_date(datetime.fromisoformat(deprecation["sunset"]).timestamp())
    successor = deprecation.get("successor")
    if successor:
        version = successor["version"] or "latest"
        url = request.build_absolute_uri(f"/subjects/{quote(successor['subject'], safe='')}/versions/{version}")
        response["Link"] = f'<{url}>; rel="successor-version"'


def counted_if_deprecated(request, payload: dict) -> dict:
    """Return the payload, counting the lookup per client when it serves a deprecated version."""
    if payload.get("state") == SubjectVersion.State.DEPRECATED:
        client = request.user.get_username() if request.user and request.user.is_authenticated else "anonymous"
        metrics.record_deprecated_usage(subject=payload["subject"], client=client)
    return payload


def validated_schema_input(request) -> SchemaInputSerializer:
    serializer = SchemaInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer


def normalize_flag(request, serializer):
    """Return the normalize flag from the query string or body, or None to follow the subject's config."""
    if "normalize" in request.query_params:
        return query_bool(request, "normalize")
    return serializer.validated_data["normalize"]


def register_from_request(request, *, tenant, subject: str, honour_import: bool) -> services.Registration:
    """Validate a register body and call the service; `honour_import` passes IMPORT mode's id and version on."""
    serializer = validated_schema_input(request)
    data = serializer.validated_data
    return services.subject_version_register(
        tenant=tenant,
        subject_name=subject,
        schema=data["schema"],
        references=serializer.references_list(),
        normalize=normalize_flag(request, serializer),
        metadata=data["metadata"],
        rule_set=data["ruleSet"],
        import_id=data["id"] if honour_import else None,
        import_version=data["version"] if honour_import else None,
        acting_user=request.user,
    )


@documented(responses=out.SUBJECT_NAMES)
class SubjectListView(ConfluentView):
    def get(self, request):
        names = selectors.subject_names(
            tenant=self.tenant,
            deleted=query_bool(request, "deleted"),
            deleted_only=query_bool(request, "deletedOnly", query_bool(request, "deleted_only")),
            prefix=request.query_params.get("subjectPrefix") or request.query_params.get("subject"),
            offset=query_int(request, "offset", 0),
            limit=query_int(request, "limit", -1, minimum=-1),
        )
        return Response(names)


@documented(
    request=SchemaInputSerializer, responses={"get": out.VERSION_NUMBERS, "post": out.RegisteredOutputSerializer}
)
class SubjectVersionsView(ConfluentView):
    method_permissions = {"POST": [CanWrite]}

    def get(self, request, subject):
        return Response(
            selectors.version_numbers(
                tenant=self.tenant,
                subject=subject,
                deleted=query_bool(request, "deleted"),
                deleted_only=query_bool(request, "deletedOnly"),
            )
        )

    def post(self, request, subject):
        registration = register_from_request(request, tenant=self.tenant, subject=subject, honour_import=True)
        if registration.change_request is not None:
            return Response(pending_body(request, registration.change_request), status=202)
        body = {"id": registration.schema_id}
        if query_bool(request, "verbose") or request.query_params.get("format") == "full":
            body.update(version_payload(registration.subject_version))
        return Response(body)


@documented(
    request=SchemaInputSerializer, responses={"post": out.VersionOutputSerializer, "delete": out.VERSION_NUMBERS}
)
class SubjectView(ConfluentView):
    method_permissions = {"DELETE": [CanDelete]}

    def post(self, request, subject):
        """Look a schema up in the subject."""
        serializer = validated_schema_input(request)
        found = selectors.schema_lookup_in_subject(
            tenant=self.tenant,
            subject_name=subject,
            schema=serializer.validated_data["schema"],
            references=serializer.references_list(),
            normalize=normalize_flag(request, serializer),
            deleted=query_bool(request, "deleted"),
        )
        return Response(counted_if_deprecated(request, version_payload(found)))

    def delete(self, request, subject):
        return Response(
            services.subject_delete(
                tenant=self.tenant,
                subject_name=subject,
                permanent=query_bool(request, "permanent"),
                acting_user=request.user,
            )
        )


@documented(responses={"get": out.VersionOutputSerializer, "delete": out.VERSION_NUMBER})
class SubjectVersionView(ConfluentView):
    method_permissions = {"DELETE": [CanDelete]}

    def prefetch_keys(self) -> list[str]:
        """The version's key in the default tenant, where unbound accounts read; a bound account's is another."""
        number = ascii_int(self.kwargs["version"])
        if self.request.method != "GET" or self.context is not None or not in_range(number, 1, MAX_VERSION):
            return []
        return [registry_cache.version_key(Tenant.DEFAULT_SLUG, self.kwargs["subject"], number)]

    def get(self, request, subject, version):
        include_deleted = query_bool(request, "deleted")
        serialized = request.query_params.get("format") == "serialized"
        wanted = selectors.parse_version(version)
        if not include_deleted and not serialized and wanted != selectors.LATEST:
            payload = cached_version_payload(self.tenant, subject, wanted, already_read=request.prefetched)
            return served_version(request, payload)
        found = selectors.subject_version_get(
            tenant=self.tenant, subject=subject, version=version, include_deleted=include_deleted
        )
        payload = version_payload(found)
        if serialized:
            payload["schema"] = serialized_schema(found)
        return served_version(request, payload)

    def delete(self, request, subject, version):
        return Response(
            services.subject_version_delete(
                tenant=self.tenant,
                subject_name=subject,
                version=version,
                permanent=query_bool(request, "permanent"),
                acting_user=request.user,
            )
        )


def serialized_schema(subject_version) -> str:
    """Return the base64 FileDescriptorProto of a stored version (Confluent's format=serialized)."""
    schema = subject_version.schema
    dependencies = selectors.resolve_dependencies(
        tenant=subject_version.subject.tenant, references=selectors.schema_references(schema)
    )
    name = subject_version.subject.name
    compiled = compile_stored(subject=name, text=schema.text, dependencies=dependencies, schema_id=schema.pk)
    return canonical.descriptor_base64(compiled.file(root_path_for(name)))


@documented(responses=OpenApiTypes.STR)
class SubjectVersionSchemaView(ConfluentView):
    def get(self, request, subject, version):
        found = selectors.subject_version_get(
            tenant=self.tenant, subject=subject, version=version, include_deleted=query_bool(request, "deleted")
        )
        return HttpResponse(found.schema.text, content_type="text/plain; charset=utf-8")


@documented(responses=out.SCHEMA_IDS)
class ReferencedByView(ConfluentView):
    def get(self, request, subject, version):
        found = selectors.subject_version_get(tenant=self.tenant, subject=subject, version=version)
        return Response(selectors.referenced_by(tenant=self.tenant, subject=subject, version=found.version))


@documented(responses=out.VersionOutputSerializer(many=True))
class SchemaListView(ConfluentView):
    """GET /schemas: Confluent's list of registered schemas (latest or every version), with our semantic fields."""

    def get(self, request):
        versions = selectors.version_list(
            tenant=self.tenant,
            deleted=query_bool(request, "deleted"),
            prefix=request.query_params.get("subjectPrefix"),
            latest_only=query_bool(request, "latestOnly"),
            offset=query_int(request, "offset", 0),
            limit=query_int(request, "limit", -1, minimum=-1),
        )
        return Response([version_payload(version) for version in versions])


def visible_schema_payload(request, schema_id, asked=None, placement=None) -> dict:
    """Return a schema id's payload if one of the caller's tenants holds it; 40403 exactly as for an unknown id.

    `placement` is the schema's `selectors.schema_placement`, when the caller has read it already.
    """
    payload = selectors.schema_payload(schema_id=schema_id)
    selectors.require_schema_visible(
        viewer=request.user, schema_id=payload["id"], asked=asked or schema_id, placement=placement
    )
    return payload


@documented(responses=out.SchemaOutputSerializer)
class SchemaByIdView(ConfluentView):
    def prefetch_keys(self) -> list[str]:
        schema_id = ascii_int(self.kwargs["schema_id"])
        return [registry_cache.placement_key(schema_id)] if in_range(schema_id, 1, MAX_ID) else []

    def get(self, request, schema_id):
        # Read once: who may see the schema, and whether it is deprecated.
        self.placement = selectors.schema_placement(schema_id, already_read=request.prefetched)
        payload = dict(visible_schema_payload(request, schema_id, placement=self.placement))
        if answers_as_stored(request):
            return stored_schema_answer(request, tenant=self.tenant, payload=payload, placement=self.placement)
        subject = request.query_params.get("subject")
        if subject and not selectors.versions_of_schema(
            tenant=self.tenant, schema_id=schema_id, subject=subject, deleted=True
        ):
            raise SchemaIdNotFound(schema_id)
        if request.query_params.get("format") == "serialized":
            versions = selectors.versions_of_schema(tenant=self.tenant, schema_id=schema_id, deleted=True)
            if versions:
                payload["schema"] = serialized_schema(versions[0])
        if query_bool(request, "fetchMaxId"):
            payload["maxId"] = selectors.max_schema_id()
        payload.pop("id", None)
        payload.pop("guid", None)
        return with_lifecycle_headers(
            request,
            Response(payload),
            tenant=self.tenant,
            schema_id=schema_id,
            subject=subject,
            placement=self.placement,
        )


def stored_schema_answer(request, *, tenant, payload: dict, placement: tuple) -> HttpResponse:
    """Answer the plain lookup by id (no query parameters) with its body rendered once per process."""
    body = registry_cache.schema_body(payload["id"], lambda: render_schema_answer(payload))
    response = HttpResponse(body, content_type=SchemaRegistryRenderer.media_type)
    return with_lifecycle_headers(
        request, response, tenant=tenant, schema_id=payload["id"], subject=None, placement=placement
    )


def with_lifecycle_headers(request, response, *, tenant, schema_id: int, subject: str | None, placement: tuple):
    """Add the deprecation headers when every version serving the schema id is deprecated."""
    deprecated = selectors.deprecated_schema_version(
        tenant=tenant, schema_id=schema_id, subject=subject, placement=placement
    )
    if deprecated is not None:
        counted_if_deprecated(request, {"state": deprecated.state, "subject": deprecated.subject.name})
        add_lifecycle_headers(request, response, deprecation_payload(deprecated))
    return response


def answers_as_stored(request) -> bool:
    """Return True for a lookup whose answer is the stored schema as is: no query parameters, no Accept options."""
    return not request.META.get("QUERY_STRING") and ";" not in (request.accepted_media_type or "")


def render_schema_answer(payload: dict) -> bytes:
    """Return the body of a plain lookup by id, rendered as DRF renders it: the payload without id and guid."""
    answer = {key: value for key, value in payload.items() if key not in ("id", "guid")}
    return SchemaRegistryRenderer().render(answer, SchemaRegistryRenderer.media_type)


@documented(responses=OpenApiTypes.STR)
class SchemaByIdSchemaView(ConfluentView):
    def get(self, request, schema_id):
        return HttpResponse(
            visible_schema_payload(request, schema_id)["schema"], content_type="text/plain; charset=utf-8"
        )


@documented(responses=out.SchemaOutputSerializer)
class SchemaByGuidView(ConfluentView):
    def get(self, request, guid):
        payload = dict(visible_schema_payload(request, selectors.schema_id_by_guid(guid=guid), asked=guid))
        payload.pop("id", None)
        return Response(payload)


@documented(responses=out.SubjectVersionRefOutputSerializer(many=True))
class SchemaIdVersionsView(ConfluentView):
    def get(self, request, schema_id):
        visible_schema_payload(request, schema_id)  # 40403 for an unknown id, or one of another tenant
        versions = selectors.versions_of_schema(
            tenant=self.tenant,
            schema_id=schema_id,
            subject=request.query_params.get("subject"),
            deleted=query_bool(request, "deleted"),
        )
        return Response([{"subject": version.subject.name, "version": version.version} for version in versions])


@documented(responses=out.SUBJECT_NAMES)
class SchemaIdSubjectsView(ConfluentView):
    def get(self, request, schema_id):
        visible_schema_payload(request, schema_id)
        versions = selectors.versions_of_schema(
            tenant=self.tenant,
            schema_id=schema_id,
            subject=request.query_params.get("subject"),
            deleted=query_bool(request, "deleted"),
        )
        return Response(sorted({version.subject.name for version in versions}))


@documented(responses=out.SUBJECT_NAMES)
class SchemaTypesView(ConfluentView):
    def get(self, request):
        return Response(["PROTOBUF"])


@documented(request=SchemaInputSerializer, responses=out.CompatibilityOutputSerializer)
class CompatibilityView(ConfluentView):
    """POST /compatibility/subjects/{subject}/versions[/{version}]: would this schema be accepted?"""

    throttle_classes = [CompatibilityCheckRate]

    def post(self, request, subject, version=None):
        serializer = validated_schema_input(request)
        findings = selectors.compatibility_test(
            tenant=self.tenant,
            subject_name=subject,
            version=version,
            schema=serializer.validated_data["schema"],
            references=serializer.references_list(),
            normalize=normalize_flag(request, serializer),
        )
        body = {"is_compatible": not findings}
        if query_bool(request, "verbose"):
            body["messages"] = [f"{finding.rule}: {finding.as_text()}" for finding in findings]
            body["findings"] = [finding.as_dict() for finding in findings]
        return Response(body)


def config_body(row: SubjectConfig) -> dict:
    """The Confluent answer for one configuration row: only the fields it sets."""
    body = {key: value for key, value in row.extra.items() if value is not None}
    if row.compatibility_level:
        body["compatibilityLevel"] = row.compatibility_level
    if row.compatibility_rules:
        body["compatibilityRules"] = row.compatibility_rules
    if row.normalize is not None:
        body["normalize"] = row.normalize
    if row.lint_except:
        body["lintExcept"] = row.lint_except
    for name, (attribute, _, _) in services.GOVERNANCE_FIELDS.items():
        if getattr(row, attribute) is not None:
            body[name] = getattr(row, attribute)
    return body


@documented(request=ConfigInputSerializer, responses=out.ConfigOutputSerializer)
class ConfigView(ConfluentView):
    # Compatibility settings are the platform admins' to change (the approve role).
    method_permissions = {"PUT": [CanApprove], "DELETE": [CanApprove]}

    def get(self, request, subject=None):
        if subject is not None and not query_bool(request, "defaultToGlobal"):
            row = selectors.config_row(tenant=self.tenant, subject=subject)
            if row is None:
                raise SubjectConfigNotFound(subject)
            return Response(config_body(row))
        config = selectors.effective_config(tenant=self.tenant, subject=subject)
        body = {
            "compatibilityLevel": config["compatibilityLevel"],
            "compatibilityRules": config["compatibilityRules"],
            "normalize": config["normalize"],
            "reviewPolicy": config["reviewPolicy"],
            "lintPolicy": config["lintPolicy"],
            "requiredApprovals": config["requiredApprovals"],
            "noticeHours": config["noticeHours"],
        }
        if config["lintExcept"]:
            body["lintExcept"] = config["lintExcept"]
        return Response(body)

    def put(self, request, subject=None):
        serializer = ConfigInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        row = services.config_update(
            tenant=self.tenant, subject_name=subject, changes=changes, acting_user=request.user
        )
        result = config_body(row)
        if "compatibilityLevel" in result:
            result["compatibility"] = result.pop("compatibilityLevel")
        return Response(result)

    def delete(self, request, subject=None):
        removed = services.config_delete(tenant=self.tenant, subject_name=subject, acting_user=request.user)
        if removed is None:
            return Response({"compatibilityLevel": selectors.DEFAULT_COMPATIBILITY})
        return Response(config_body(removed))


# /mode has a view of its own, so that its Allow header and the OpenAPI document offer no DELETE.
@documented(request=ModeInputSerializer, responses=out.ModeOutputSerializer)
class ModeView(ConfluentView):
    """The tenant-wide mode, read and set but never deleted: subjects without a mode of their own fall back on it."""

    # Compatibility settings are the platform admins' to change (the approve role).
    method_permissions = {"PUT": [CanApprove]}

    def get(self, request, subject=None):
        if subject is not None and not query_bool(request, "defaultToGlobal"):
            row = selectors.mode_row(tenant=self.tenant, subject=subject)
            if row is None:
                raise SubjectModeNotFound(subject)
            return Response({"mode": row.mode})
        return Response({"mode": selectors.effective_mode(tenant=self.tenant, subject=subject)})

    def put(self, request, subject=None):
        serializer = ModeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        mode = services.mode_update(
            tenant=self.tenant,
            subject_name=subject,
            mode=serializer.validated_data["mode"],
            force=query_bool(request, "force"),
            acting_user=request.user,
        )
        return Response({"mode": mode})

    def http_method_not_allowed(self, request, *args, **kwargs):
        if request.method == "DELETE":
            raise TenantModeNotDeleted()  # still 405, with what to do instead, as the admin says it
        return super().http_method_not_allowed(request, *args, **kwargs)


@documented(request=ModeInputSerializer, responses=out.ModeOutputSerializer)
class SubjectModeView(ModeView):
    """A subject's own mode, read, set, and deleted to fall back on the tenant-wide mode."""

    method_permissions = {"PUT": [CanApprove], "DELETE": [CanApprove]}

    def delete(self, request, subject):
        return Response(
            {"mode": services.mode_delete(tenant=self.tenant, subject_name=subject, acting_user=request.user)}
        )


@documented(responses=out.SUBJECT_NAMES)
class ContextsView(ConfluentView):
    """GET /contexts: the tenants the caller may see, as Confluent contexts ("." is the default tenant)."""

    def get(self, request):
        return Response(selectors.context_names(viewer=request.user))


@documented(responses=out.SUBJECT_NAMES)
class AssociationsView(ConfluentView):
    """Clients since 2.14 ask which subject a topic is associated with; we keep none, so the list is empty."""

    def get(self, request, namespace, resource):
        return Response([])


def cached_version_payload(tenant, subject: str, version: int, already_read: dict | None = None) -> dict:
    """Return a live version's payload from the shared cache, loading it from the database once.

    The key names the tenant by its slug, so a hit costs one cache read and no tenant lookup. A shared
    tenant's version read through another tenant is kept under the shared tenant's key, which its
    changes forget (`registry_cache.version_payload`).
    """

    def load() -> tuple[dict, str]:
        found = selectors.subject_version_get(tenant=tenant, subject=subject, version=version)
        holder = tenant if found.subject.tenant_id == tenant.pk else found.subject.tenant
        return version_payload(found), holder.slug

    return registry_cache.version_payload(tenant.slug, subject, version, load, already_read)
