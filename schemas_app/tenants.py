"""Tenants and their configurations: the services that change them and the selectors that read them.

A tenant's configuration is the spec's `system.v1.TenantConfig`, validated against the registry's own latest
active `system/config.proto` (a message class built from the stored descriptor), so the registry governs its
own configuration with the schema it serves.
"""

import re
import threading

from django.db.models import Q
from google.protobuf import descriptor_pool, json_format, message_factory

from schemas_app import access, selectors
from schemas_app import cache as registry_cache
from schemas_app.auditing import audited
from schemas_app.errors import InvalidRequest, InvalidSchema, InvalidTenantConfig, TenantNotFound
from schemas_app.models import Schema, SubjectVersion, Tenant, TenantConfig
from schemas_app.preparation import compile_stored
from schemas_app.services import kept_schema

CONFIG_SUBJECT = "system/config.proto"
CONFIG_MESSAGE = "system.v1.TenantConfig"

_classes: dict[int, type] = {}
_classes_lock = threading.Lock()


def tenant_list(*, viewer):
    """Return the tenants the viewer may read."""
    return access.readable_tenants(viewer).order_by("slug")


def tenant_get(*, viewer, slug: str) -> Tenant:
    """Return a tenant the viewer may read; one it may not answers exactly as an unknown one."""
    found = access.readable_tenants(viewer).filter(slug=slug).first()
    if found is None:
        raise TenantNotFound(slug)
    return found


def tenant_config_get(*, tenant: Tenant) -> TenantConfig | None:
    return TenantConfig.objects.filter(tenant=tenant).first()


def blocking_lint_rules(*, tenant: Tenant) -> list[str]:
    """Return the lint rules the tenant's configuration makes blocking (cached: every registration reads them)."""
    return list(registry_cache.tenant_blocking_lint_rules(tenant.pk, lambda: _stored_blocking_lint_rules(tenant)))


def _stored_blocking_lint_rules(tenant: Tenant) -> list[str]:
    rules = TenantConfig.objects.filter(tenant_id=tenant.pk).values_list("blocking_lint_rules", flat=True).first()
    return list(rules or [])


def config_schema_version() -> SubjectVersion:
    """Return the latest active version of `system/config.proto`, of the default or a shared tenant."""
    found = (
        SubjectVersion.objects.select_related("schema", "subject__tenant")
        .filter(subject__name=CONFIG_SUBJECT, deleted=False, state=SubjectVersion.State.ACTIVE)
        .filter(Q(subject__tenant__slug=Tenant.DEFAULT_SLUG) | Q(subject__tenant__shared=True))
        .order_by("subject__tenant__shared", "-version")
        .first()
    )
    if found is None:
        raise InvalidTenantConfig(
            f"{CONFIG_SUBJECT} is not registered, so tenant configurations cannot be checked; "
            "run `python manage.py load_schemas` first"
        )
    return found


def config_message_class(version: SubjectVersion) -> type:
    """Return the TenantConfig message class built from a stored version's descriptor (kept per schema id)."""
    with _classes_lock:
        cached = _classes.get(version.schema_id)
    if cached is not None:
        return cached
    dependencies = selectors.resolve_dependencies(
        tenant=version.subject.tenant, references=selectors.schema_references(version.schema)
    )
    compiled = compile_stored(
        subject=version.subject.name, text=version.schema.text, dependencies=dependencies, schema_id=version.schema_id
    )
    pool = descriptor_pool.DescriptorPool()
    for file in compiled.files:
        pool.Add(file)
    message_class = message_factory.GetMessageClass(pool.FindMessageTypeByName(CONFIG_MESSAGE))
    with _classes_lock:
        _classes[version.schema_id] = message_class
    return message_class


def validated_config(*, tenant: Tenant, config: dict) -> tuple[dict, int]:
    """Return the configuration in the message's JSON mapping and the schema id it fits; 42220 naming the field."""
    if not isinstance(config, dict):
        raise InvalidTenantConfig("Invalid tenant configuration: it must be a JSON object (system.v1.TenantConfig)")
    version = config_schema_version()
    try:
        message = json_format.ParseDict(config, config_message_class(version)())
    except json_format.ParseError as error:
        raise InvalidTenantConfig(f"Invalid tenant configuration{_located(str(error))}") from None
    if message.tenant_id and message.tenant_id != tenant.slug:
        raise InvalidTenantConfig(
            f'Invalid tenant configuration: field "TenantConfig.tenant_id" is {message.tenant_id!r}, '
            f"but the tenant is {tenant.slug!r}"
        )
    message.tenant_id = tenant.slug
    return json_format.MessageToDict(message), version.schema_id


def _located(parse_error: str) -> str:
    """Turn protobuf's "Failed to parse a field: Failed to parse b field: why" into ' at "TenantConfig.a.b": why'."""
    first_line = parse_error.splitlines()[0]
    names = re.findall(r"Failed to parse (\w+) field: ", first_line)
    reason = re.sub(r"^(Failed to parse \w+ field: )+", "", first_line).rstrip(".")
    if not names:
        return f": {reason}"
    return f' at "TenantConfig.{".".join(names)}": {reason}'


@audited
def tenant_create(*, slug: str, name: str, shared: bool = False, acting_user) -> Tenant:
    if Tenant.objects.filter(slug=slug).exists():
        raise InvalidRequest(f"Tenant {slug!r} already exists")
    return Tenant.objects.create(slug=slug, name=name, shared=shared)


@audited
def tenant_config_update(
    *, tenant: Tenant, config: dict, blocking_lint_rules: list[str] | None = None, acting_user
) -> TenantConfig:
    """Validate and store the tenant's configuration (and, when given, the lint rules it makes blocking)."""
    normalized, schema_id = _validated_against_a_kept_schema(tenant=tenant, config=config)
    row, _ = TenantConfig.objects.select_for_update().get_or_create(tenant=tenant)
    row.config, row.schema_id = normalized, schema_id
    if blocking_lint_rules is not None:
        row.blocking_lint_rules = sorted({str(rule).upper() for rule in blocking_lint_rules})
    row.save()
    return row


def _validated_against_a_kept_schema(*, tenant: Tenant, config: dict) -> tuple[dict, int]:
    """Return `validated_config`'s answer, its schema row locked so that no purge deletes it before commit.

    Locked as a registration locks a schema it reuses (`services.kept_schema`): a purge of the configuration's
    subject then waits, and keeps the row this configuration points at. When a soft delete and a purge of the
    version it was read from committed meanwhile, the configuration is checked again against the latest version
    left, or answered as when system/config.proto is missing. (Each round follows a purge of the version it read.)
    """
    normalized, schema_id = validated_config(tenant=tenant, config=config)
    while kept_schema(Schema.objects.filter(pk=schema_id)) is None:
        normalized, schema_id = validated_config(tenant=tenant, config=config)
    return normalized, schema_id


@audited
def tenant_config_delete(*, tenant: Tenant, acting_user) -> None:
    TenantConfig.objects.filter(tenant=tenant).delete()


def refuse_blocked_lint(*, tenant: Tenant, lint: list[dict]) -> None:
    """Raise 42201 when the schema has findings of a rule the tenant's configuration makes blocking."""
    if not lint:
        return  # nothing to block, so the configuration need not be read
    blocking = set(blocking_lint_rules(tenant=tenant))
    blocked = [item for item in lint if item["rule"] in blocking]
    if blocked:
        summary = "; ".join(
            f"{item['path']}:{item['line']}:{item['column']}: {item['rule']} {item['message']}" for item in blocked
        )
        raise InvalidSchema(
            f"Invalid schema: tenant {tenant.slug}'s configuration blocks it: {summary}", details=blocked
        )
