"""Reads of the registry, always scoped to a tenant first.

Compiling a candidate schema and comparing it with stored versions is a read too:
the compatibility test and the lookup of a schema in a subject live here, and the
register service uses the same helpers.
"""

import uuid

from django.conf import settings
from django.db import connections, router
from django.db.models import Exists, Max, Min, OuterRef, Q

from protoengine import compatibility
from protoengine.references import Ref, ReferenceCycle, ReferenceLimit, resolve_references
from registry import metrics
from schemas_app import access_cache
from schemas_app import cache as registry_cache
from schemas_app.errors import (
    BadRequest,
    InvalidSchema,
    InvalidVersion,
    NotFound,
    ReviewNotFound,
    SchemaIdNotFound,
    SchemaNotFound,
    SubjectNotFound,
    VersionNotFound,
)
from schemas_app.limits import MAX_ID, MAX_VERSION, ascii_int, in_range
from schemas_app.models import (
    ChangeRequest,
    CompatibilityLevel,
    Mode,
    RuleSetName,
    Schema,
    SchemaReference,
    Subject,
    SubjectConfig,
    SubjectMode,
    SubjectVersion,
    Tenant,
)
from schemas_app.preparation import PreparedSchema, Reference, compile_stored, prepare_schema, root_path_for
from schemas_app.round_trips import results_together

LATEST = "latest"
DEFAULT_COMPATIBILITY = compatibility.DEFAULT_LEVEL
DEFAULT_RULE_SET = compatibility.DEFAULT_RULE_SET


def default_tenant() -> Tenant:
    """Return the tenant the Confluent API serves, creating it on first use.

    Its id is kept in the shared cache so that cached lookups cost no query.
    """

    def load() -> int:
        tenant, _ = Tenant.objects.get_or_create(slug=Tenant.DEFAULT_SLUG, defaults={"name": "Default tenant"})
        return tenant.pk

    pk = registry_cache.tenant_pk(Tenant.DEFAULT_SLUG, load)
    # A copy of one instance per row id: building a model instance costs several times more than copying one.
    model = _default_tenants.get(pk)
    if model is None:
        _default_tenants.clear()  # the default tenant was recreated: its old row id names nothing
        model = _default_tenants[pk] = Tenant(pk=pk, slug=Tenant.DEFAULT_SLUG)
    return access_cache.instance_copy(model)


_default_tenants: dict[int, Tenant] = {}


def shared_tenant() -> Tenant:
    """Return the shared tenant, which every tenant reads (the bundled `common/` catalogue), creating it if missing."""
    tenant, _ = Tenant.objects.get_or_create(
        slug=Tenant.SHARED_SLUG, defaults={"name": "Shared catalogue", "shared": True}
    )
    return tenant


def addressed_tenant(*, viewer, context: str | None, subject: str | None = None) -> Tenant:
    """Return the tenant a request addresses: its context, else the viewer's bound tenant, else the default one.

    A tenant the viewer may not read answers exactly as an unknown one: 40401 for a subject, 40403 otherwise,
    never a 403 that would confirm it exists.
    """
    from schemas_app import access

    if context is None:
        bound = access.bound_tenant(viewer)
        # A copy: the account's remembered access context holds the row, and a request must not change it.
        return default_tenant() if bound is None else access_cache.instance_copy(bound)
    tenant = access.readable_tenants(viewer).filter(slug=context).first()
    if tenant is None:
        raise SubjectNotFound(f":.{context}:{subject}") if subject is not None else SchemaNotFound()
    return tenant


def readable_tenant(*, viewer, slug: str) -> Tenant:
    """Return the tenant a request names by slug; one the viewer may not read answers as an unknown one (404).

    The default tenant costs no query; the view's permission class decides whether the viewer may read it.
    """
    from schemas_app import access

    if slug == Tenant.DEFAULT_SLUG:
        return default_tenant()
    tenant = access.readable_tenants(viewer).filter(slug=slug).first()
    if tenant is None:
        raise NotFound(f"Tenant '{slug}' not found.")
    return tenant


def context_names(*, viewer) -> list[str]:
    """Return the Confluent contexts of the tenants the viewer may read: "." for the default tenant, ".slug" else."""
    from schemas_app import access

    slugs = list(access.readable_tenants(viewer).order_by("slug").values_list("slug", flat=True))
    # An unbound account's home is the default tenant, even before its first subject creates the row.
    default = ["."] if Tenant.DEFAULT_SLUG in slugs or access.bound_tenant_id(viewer) is None else []
    return default + [f".{slug}" for slug in slugs if slug != Tenant.DEFAULT_SLUG]


def in_scope(tenant: Tenant, path: str = "") -> Q:
    """Match rows of the tenant and of the shared tenants, which every tenant reads (`path` leads to the tenant)."""
    return Q(**{f"{path}tenant": tenant}) | Q(**{f"{path}tenant__shared": True})


def require_schema_visible(*, viewer, schema_id: int, asked, placement: tuple | None = None) -> None:
    """Raise 40403 naming `asked` (the id or guid) unless a version of the viewer's tenants holds the schema.

    The answer is the very one an unknown id gets, so that guessing ids learns nothing about other tenants.
    """
    from schemas_app import access

    if access.sees_every_tenant(viewer):
        return
    placement = schema_placement(schema_id) if placement is None else placement
    holders = {version.subject.tenant_id for version in placement}
    if not holders & access.readable_tenant_ids(viewer):
        raise SchemaIdNotFound(asked)


def schema_placement(schema_id: int, already_read: dict | None = None) -> tuple[SubjectVersion, ...]:
    """Return every version serving a schema id, in any tenant and deleted ones too, from the cache when kept.

    A lookup by id asks it on every request (who may see the schema, whether it is deprecated), so
    the rows carry just what those questions read. `already_read`: what the request read from the cache.
    """
    schema_id = schema_id_from(schema_id)  # one cache key per id, however the path spells it

    def load() -> tuple[SubjectVersion, ...]:
        return tuple(
            SubjectVersion.objects.filter(schema_id=schema_id)
            .select_related("subject__tenant")
            .only(*PLACEMENT_FIELDS)
            .order_by("subject__name", "version")
        )

    return registry_cache.schema_placement(schema_id, load, already_read)


PLACEMENT_FIELDS = (
    "subject",
    "subject__tenant",
    "schema_id",
    "version",
    "state",
    "deleted",
    "deprecated_at",
    "sunset_at",
    "deprecation_reason",
    "successor_subject",
    "successor_version",
    "disabled_at",
    "subject__name",
    "subject__tenant__slug",
    "subject__tenant__shared",
)


def parse_version(raw) -> int | str:
    """Return a version number (ASCII digits, 1..2^31-1), or LATEST for "latest" and -1; 42202 for anything else."""
    text = str(raw)
    if text.lower() == LATEST or text == "-1":
        return LATEST
    number = ascii_int(text)
    if not in_range(number, 1, MAX_VERSION):
        raise InvalidVersion(raw)
    return number


def subject_get(*, tenant: Tenant, name: str) -> Subject:
    """Return the tenant's subject of that name, else a shared one; 40401 when neither exists."""
    found = Subject.objects.filter(in_scope(tenant), name=name).order_by("tenant__shared").first()
    if found is None:
        raise SubjectNotFound(name)
    return found


def subject_names(
    *,
    tenant: Tenant,
    deleted: bool = False,
    deleted_only: bool = False,
    prefix: str | None = None,
    offset: int = 0,
    limit: int = -1,
) -> list[str]:
    """Return subject names that have live versions (or soft-deleted ones when asked), sorted, in one query.

    The shared tenants' subjects are listed with the tenant's own.
    """
    subjects = Subject.objects.filter(in_scope(tenant))
    with_live_versions = subjects.filter(versions__deleted=False)
    if deleted_only:
        chosen = subjects.filter(versions__deleted=True).exclude(pk__in=with_live_versions.values("pk"))
    elif deleted:
        chosen = subjects.filter(versions__isnull=False)
    else:
        chosen = with_live_versions
    if prefix:
        chosen = chosen.filter(name__startswith=prefix)
    if offset < 0:
        raise BadRequest("offset must not be negative")
    names = chosen.order_by("name").values_list("name", flat=True).distinct()
    return list(names[offset:] if limit is None or limit < 0 else names[offset : offset + limit])


def version_numbers(*, tenant: Tenant, subject: str, deleted: bool = False, deleted_only: bool = False) -> list[int]:
    """Return a subject's version numbers (the tenant's own subject before a shared one); 40401 when none is visible."""
    versions = SubjectVersion.objects.filter(in_scope(tenant, "subject__"), subject__name=subject)
    if deleted_only:
        versions = versions.filter(deleted=True)
    elif not deleted:
        versions = versions.filter(deleted=False)
    rows = list(versions.order_by("subject__tenant__shared", "version").values_list("subject_id", "version"))
    if not rows:
        raise SubjectNotFound(subject)
    return [number for subject_id, number in rows if subject_id == rows[0][0]]


def subject_version_get(*, tenant: Tenant, subject: str, version, include_deleted: bool = False) -> SubjectVersion:
    """Return one version (a number, "latest" or -1) with its schema; 40401 / 40402 when absent.

    The tenant's own subject answers before a shared subject of the same name.
    """
    wanted = parse_version(version)
    versions = SubjectVersion.objects.select_related("schema", "subject").filter(
        in_scope(tenant, "subject__"), subject__name=subject
    )
    if not include_deleted:
        versions = versions.filter(deleted=False)
    if wanted == LATEST:
        found = versions.order_by("subject__tenant__shared", "-version").first()
    else:
        found = versions.filter(version=wanted).order_by("subject__tenant__shared").first()
    if found is None:
        if not Subject.objects.filter(in_scope(tenant), name=subject, versions__isnull=False).exists():
            raise SubjectNotFound(subject)
        raise VersionNotFound(subject, version)
    return found


def subject_version_list(*, tenant: Tenant, subject: str, deleted: bool = False) -> list[SubjectVersion]:
    """Return a subject's versions, oldest first, with schema, references and author in three queries; 40401 if none.

    The subject is the tenant's own, else a shared one.
    """
    versions = (
        SubjectVersion.objects.select_related("subject", "schema", "created_by")
        .prefetch_related("schema__references")
        .filter(in_scope(tenant, "subject__"), subject__name=subject)
    )
    if not deleted:
        versions = versions.filter(deleted=False)
    found = list(versions.order_by("subject__tenant__shared", "subject_id", "version"))
    if not found:
        raise SubjectNotFound(subject)
    # Own subjects sort first: a tenant's subject wins over a shared one of the same name.
    return [version for version in found if version.subject_id == found[0].subject_id]


def version_list(
    *,
    tenant: Tenant,
    deleted: bool = False,
    prefix: str | None = None,
    latest_only: bool = False,
    offset: int = 0,
    limit: int = -1,
) -> list[SubjectVersion]:
    """Return versions across subjects (Confluent's GET /schemas), with schemas and references in three queries."""
    versions = (
        SubjectVersion.objects.select_related("subject", "schema")
        .prefetch_related("schema__references")
        .filter(in_scope(tenant, "subject__"))
    )
    if not deleted:
        versions = versions.filter(deleted=False)
    if prefix:
        versions = versions.filter(subject__name__startswith=prefix)
    if latest_only:
        latest_ids = versions.values("subject_id").annotate(latest=Max("version")).values_list("subject_id", "latest")
        wanted = Q()
        for subject_id, number in latest_ids:
            wanted |= Q(subject_id=subject_id, version=number)
        versions = versions.filter(wanted) if latest_ids else versions.none()
    versions = versions.order_by("subject__name", "version")
    if offset < 0:
        raise BadRequest("offset must not be negative")
    return list(versions[offset:] if limit is None or limit < 0 else versions[offset : offset + limit])


def max_schema_id() -> int | None:
    return Schema.objects.aggregate(highest=Max("id"))["highest"]


def live_versions(*, subject: Subject) -> list[SubjectVersion]:
    """Return a subject's versions that are not soft-deleted, oldest first, with their schemas."""
    return list(subject.versions.filter(deleted=False).select_related("schema").order_by("version"))


def versions_compared(*, subject: Subject, level: str, first_rows: list | None = None) -> list[SubjectVersion]:
    """Return the live versions a new version is compared with, oldest first, with their schemas.

    All of them at a transitive level, else only the latest (which the semantic version reads at any
    level): a registration then reads one row however long the subject's history.

    Each also says whether its schema has references and what the subject's highest version number
    is (deleted ones included), so neither costs a query of its own: most schemas have no references.
    Below a transitive level, a second query is read only when the newest version is soft-deleted.
    Read under the subject's lock, the number stays the highest until the transaction ends.
    `first_rows`: the rows of `versions_compared_statement`, when the caller has read them already.
    """
    transitive = compatibility.is_transitive(level)
    # Below a transitive level: the newest version, deleted or not; when live (as it mostly is) it is also the
    # highest number.
    versions = (
        _versions_with_schemas(subject, live_only=transitive, newest_only=not transitive)
        if first_rows is None
        else _versions_from_rows(first_rows, subject, live_only=transitive)
    )
    if transitive or not versions:
        return versions
    if not versions[0].deleted:
        versions[0].subject_highest_version = versions[0].version
        return versions
    return _versions_with_schemas(subject, live_only=True, newest_only=True)


def versions_compared_statement(subject_id: tuple[str, list], level: str) -> tuple[str, list]:
    """Return the SELECT `versions_compared` reads first, for a subject given as SQL and its parameters.

    The subject may be given by its id ("%s", [id]) or by a sub-select, so that the SELECT can go to the
    database together with the statement that locks the subject.
    """
    transitive = compatibility.is_transitive(level)
    sql, params = subject_id
    return _versions_with_schemas_sql(sql, live_only=transitive, newest_only=not transitive), list(params)


def _versions_with_schemas(subject: Subject, *, live_only: bool, newest_only: bool) -> list[SubjectVersion]:
    """Return the subject's versions (only the newest one when `newest_only`), each with its schema loaded."""
    connection = connections[router.db_for_read(SubjectVersion)]
    with connection.cursor() as cursor:
        cursor.execute(_versions_with_schemas_sql("%s", live_only=live_only, newest_only=newest_only), [subject.pk])
        rows = cursor.fetchall()
    return _versions_from_rows(rows, subject, live_only=live_only)


def _versions_with_schemas_sql(subject_id: str, *, live_only: bool, newest_only: bool) -> str:
    """Return the SELECT of a subject's versions with their schemas, the subject's id given as SQL.

    Written out because every registration reads it, and building it with the ORM (select_related
    plus two annotations) cost five times what running it does.
    """
    version_fields, schema_fields = SubjectVersion._meta.concrete_fields, Schema._meta.concrete_fields
    columns = [f"v.{field.column}" for field in version_fields] + [f"s.{field.column}" for field in schema_fields]
    highest = f"(SELECT MAX(version) FROM {SubjectVersion._meta.db_table} WHERE subject_id = v.subject_id)"
    return (
        f"SELECT {', '.join(columns)},"
        f" EXISTS (SELECT 1 FROM {SchemaReference._meta.db_table} r WHERE r.schema_id = v.schema_id),"
        f" {highest if live_only else 'NULL'}"
        f" FROM {SubjectVersion._meta.db_table} v JOIN {Schema._meta.db_table} s ON s.id = v.schema_id"
        f" WHERE v.subject_id = {subject_id}{' AND NOT v.deleted' if live_only else ''}"
        f" ORDER BY v.version {'DESC LIMIT 1' if newest_only else 'ASC'}"
    )


def _versions_from_rows(rows: list, subject: Subject, *, live_only: bool) -> list[SubjectVersion]:
    version_fields, schema_fields = SubjectVersion._meta.concrete_fields, Schema._meta.concrete_fields
    connection = connections[router.db_for_read(SubjectVersion)]
    versions = []
    for row in rows:
        version = _loaded(SubjectVersion, version_fields, row[: len(version_fields)], connection)
        version.schema = _loaded(Schema, schema_fields, row[len(version_fields) : -2], connection)
        version.subject = subject
        version.schema_has_references, highest_number = row[-2:]
        if live_only:
            version.subject_highest_version = highest_number
        versions.append(version)
    return versions


def _loaded(model, fields, values, connection):
    """Return a `model` instance from a row of its columns, converted as a queryset would (e.g. JSON)."""
    converted = []
    for field, value in zip(fields, values, strict=True):
        for converter in field.get_db_converters(connection):
            value = converter(value, field, connection)
        converted.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


def next_version_number(*, subject: Subject, compared: list[SubjectVersion] = ()) -> int:
    """Return the number the subject's next version takes; `compared` (from versions_compared) already knows it."""
    if compared:
        return compared[-1].subject_highest_version + 1
    highest = subject.versions.aggregate(highest=Max("version"))["highest"]
    return (highest or 0) + 1


def schema_references(schema: Schema) -> list[Reference]:
    return [Reference(ref.name, ref.subject, ref.version) for ref in schema.references.all()]


def schema_id_from(raw) -> int:
    """Return a schema id written in ASCII digits within Confluent's 1..2^31-1; 40403 for anything else."""
    number = raw if isinstance(raw, int) and not isinstance(raw, bool) else ascii_int(str(raw))
    if not in_range(number, 1, MAX_ID):
        raise SchemaIdNotFound(raw)
    return number


def schema_get(*, schema_id: int) -> Schema:
    try:
        return Schema.objects.get(pk=schema_id_from(schema_id))
    except Schema.DoesNotExist:
        raise SchemaIdNotFound(schema_id) from None


def schema_payload(*, schema_id) -> dict:
    """Return {schema, schemaType, references, ...} of a schema id, from the caches when possible."""
    schema_id = schema_id_from(schema_id)
    return registry_cache.schema_payload(schema_id, lambda: _schema_payload_from_database(schema_id))


def _schema_payload_from_database(schema_id: int) -> dict:
    schema = schema_get(schema_id=schema_id)
    return schema_as_payload(schema)


def schema_as_payload(schema: Schema) -> dict:
    payload = {"id": schema.pk, "guid": str(schema.guid), "schemaType": schema.schema_type, "schema": schema.text}
    references = [ref.as_dict() for ref in schema_references(schema)]
    if references:
        payload["references"] = references
    if schema.metadata:
        payload["metadata"] = schema.metadata
    if schema.rule_set:
        payload["ruleSet"] = schema.rule_set
    return payload


def pinned_references(*, tenant: Tenant, references: list[Reference]) -> list[Reference]:
    """Return the references with -1 (latest) replaced by the subject's latest live version number; 42201 when none.

    The subject is the tenant's own, else a shared one, as for every reference.
    """
    pinned = []
    for reference in references:
        if reference.version == -1:
            latest = (
                SubjectVersion.objects.filter(in_scope(tenant, "subject__"))
                .filter(subject__name=reference.subject, deleted=False)
                .order_by("subject__tenant__shared", "-version")
                .values_list("version", flat=True)
                .first()
            )
            if latest is None:
                raise InvalidSchema(
                    f"Invalid schema: reference {reference.name!r} points to subject '{reference.subject}', "
                    "which has no versions"
                )
            reference = Reference(reference.name, reference.subject, latest)
        pinned.append(reference)
    return pinned


def resolve_dependencies(
    *, tenant: Tenant, references: list[Reference], root: tuple[str, str] | None = None
) -> dict[str, str]:
    """Return {import path: text} for the references and, recursively, theirs; 42201 when one is missing.

    `root` is the (subject, import path) being registered: a reference that leads back to it is a cycle, and
    the imports may nest at most REGISTRY_MAX_REFERENCE_DEPTH deep and bring at most REGISTRY_MAX_REFERENCES files.
    """

    def fetch(reference: Ref) -> tuple[str, list[Ref]]:
        try:
            version = subject_version_get(tenant=tenant, subject=reference.subject, version=reference.version)
        except (SubjectNotFound, VersionNotFound, InvalidVersion):
            raise InvalidSchema(
                f"Invalid schema: reference {reference.name!r} points to subject '{reference.subject}' version "
                f"{reference.version}, which does not exist"
            ) from None
        return version.schema.text, [
            Ref(ref.name, ref.subject, ref.version) for ref in schema_references(version.schema)
        ]

    limits = {}
    if root is not None:
        limits = {"max_depth": settings.REGISTRY_MAX_REFERENCE_DEPTH, "max_files": settings.REGISTRY_MAX_REFERENCES}
    try:
        return resolve_references(
            [Ref(ref.name, ref.subject, ref.version) for ref in references], fetch, root=root, **limits
        )
    except ReferenceCycle as cycle:
        if cycle.chain:
            raise InvalidSchema(f"Invalid schema: reference cycle {' -> '.join(cycle.chain)}") from None
        raise InvalidSchema(f"Reference cycle through subject '{cycle.subject}' version {cycle.version}") from None
    except ReferenceLimit as limit:
        setting = "REGISTRY_MAX_REFERENCE_DEPTH" if "deeper" in str(limit) else "REGISTRY_MAX_REFERENCES"
        raise InvalidSchema(f"Invalid schema: {limit} ({setting})") from None


def versions_of_schema(
    *, tenant: Tenant, schema_id: int, subject: str | None = None, deleted: bool = False
) -> list[SubjectVersion]:
    versions = SubjectVersion.objects.select_related("subject").filter(
        in_scope(tenant, "subject__"), schema_id=schema_id
    )
    if not deleted:
        versions = versions.filter(deleted=False)
    if subject:
        versions = versions.filter(subject__name=subject)
    return list(versions.order_by("subject__name", "version"))


def deprecated_schema_version(
    *, tenant: Tenant, schema_id: int, subject: str | None = None, placement: tuple | None = None
) -> SubjectVersion | None:
    """Return the newest deprecated version serving a schema id when no live version serving it is active.

    A schema that some active version still serves is not deprecated as a whole, so a lookup
    by id carries deprecation headers only when every version behind it (in `subject` if named) is.
    `placement` is the schema's `schema_placement`, when the caller has read it already.
    """
    versions = [
        version
        for version in (schema_placement(schema_id) if placement is None else placement)
        if (version.subject.tenant_id == tenant.pk or version.subject.tenant.shared)
        and not version.deleted
        and (not subject or version.subject.name == subject)
    ]
    if not versions or any(version.state == SubjectVersion.State.ACTIVE for version in versions):
        return None
    deprecated = [version for version in versions if version.state == SubjectVersion.State.DEPRECATED]
    return max(deprecated, key=lambda version: version.deprecated_at, default=None)


def referenced_by(*, tenant: Tenant, subject: str, version: int) -> list[int]:
    """Return ids of schemas (in live versions) that reference this subject version.

    A shared subject is referenced from every tenant, so for it every tenant's versions count.
    """
    schema_ids = SchemaReference.objects.filter(subject=subject, version=version).values_list("schema_id", flat=True)
    referencing = SubjectVersion.objects.filter(schema_id__in=schema_ids, deleted=False)
    if not tenant.shared:
        referencing = referencing.filter(in_scope(tenant, "subject__"))
    return sorted(set(referencing.values_list("schema_id", flat=True)))


def first_referenced_version(*, tenant: Tenant, subject: str, versions: list[int]) -> int | None:
    """Return the lowest of these versions that a live version in the tenant references, in one query; else None."""
    referencing_live = SubjectVersion.objects.filter(
        subject__tenant=tenant, schema_id=OuterRef("schema_id"), deleted=False
    )
    return (
        SchemaReference.objects.filter(subject=subject, version__in=versions)
        .filter(Exists(referencing_live))
        .aggregate(lowest=Min("version"))["lowest"]
    )


def schema_id_by_guid(*, guid: str) -> int:
    """Return the id of the schema with this guid; 40403 for an unknown or malformed guid."""
    try:
        return Schema.objects.values_list("pk", flat=True).get(guid=uuid.UUID(guid))
    except (ValueError, Schema.DoesNotExist):
        raise SchemaIdNotFound(guid) from None


def mode_row(*, tenant: Tenant, subject: str) -> SubjectMode | None:
    return SubjectMode.objects.filter(tenant=tenant, subject_name=subject).first()


def config_row(*, tenant: Tenant, subject: str | None) -> SubjectConfig | None:
    return SubjectConfig.objects.filter(tenant=tenant, subject_name=subject).first()


def _subject_and_global_rows(model, tenant: Tenant, subject: str | None) -> list:
    """Return the tenant's global row (no subject) of `model` and, when given, the subject's own row.

    `model` is SubjectConfig or SubjectMode. The SELECT is written out because every registration reads
    both, and building it with the ORM cost three times what running it does.
    """
    return loaded_rows(model, *_subject_and_global_select(model, tenant, subject))


def _subject_and_global_select(model, tenant: Tenant, subject: str | None) -> tuple[str, list]:
    table, scope, params = model._meta.db_table, "subject_name IS NULL", [tenant.pk]
    if subject is not None:
        scope, params = "subject_name IS NULL OR subject_name = %s", [tenant.pk, subject]
    return f"SELECT {columns_of(model)} FROM {table} WHERE tenant_id = %s AND ({scope})", params


def _config_and_mode_rows(tenant: Tenant, subject: str | None) -> tuple[list, list]:
    """Return `_subject_and_global_rows` of SubjectConfig and of SubjectMode, in one round trip on PostgreSQL.

    Every registration reads both (`results_together`).
    """
    database = router.db_for_read(SubjectConfig)
    if router.db_for_read(SubjectMode) != database:
        return _subject_and_global_rows(SubjectConfig, tenant, subject), _subject_and_global_rows(
            SubjectMode, tenant, subject
        )
    statements = [_subject_and_global_select(model, tenant, subject) for model in (SubjectConfig, SubjectMode)]
    with connections[database].cursor() as cursor:
        config_rows, mode_rows = results_together(cursor, statements)
    return rows_loaded(SubjectConfig, config_rows, database=database), rows_loaded(
        SubjectMode, mode_rows, database=database
    )


def columns_of(model) -> str:
    """Return the column list of a SELECT of the model's concrete fields, in the order `loaded_rows` reads them."""
    return ", ".join(field.column for field in model._meta.concrete_fields)


def loaded_rows(model, sql: str, params: list, *, fields=None, database: str | None = None) -> list:
    """Return the `model` instances of a SELECT of `fields`' columns, without RawQuerySet's per-query set-up.

    `fields` defaults to the model's concrete fields, and `database` to where the router reads `model`.
    """
    database = database or router.db_for_read(model)
    with connections[database].cursor() as cursor:
        cursor.execute(sql, params)
        return rows_loaded(model, cursor.fetchall(), fields=fields, database=database)


def rows_loaded(model, rows: list, *, fields=None, database: str) -> list:
    """Return the `model` instances of rows of `fields`' columns (the model's concrete fields by default)."""
    fields = model._meta.concrete_fields if fields is None else fields
    connection = connections[database]
    return [_loaded(model, fields, row, connection) for row in rows]


def effective_config(*, tenant: Tenant, subject: str | None) -> dict:
    """Return the compatibility, normalisation, lint and review settings in force for a subject."""
    return _effective_config_of(_subject_and_global_rows(SubjectConfig, tenant, subject), subject)


def effective_config_and_mode(*, tenant: Tenant, subject: str) -> tuple[dict, str]:
    """Return `effective_config` and `effective_mode` of a subject, read together."""
    configs, modes = _config_and_mode_rows(tenant, subject)
    return _effective_config_of(configs, subject), _effective_mode_of(modes, subject)


def _effective_config_of(config_rows: list, subject: str | None) -> dict:
    rows = {row.subject_name: row for row in config_rows}
    # The subject's own row first, then the global one; a field unset in one falls through to the next.
    rows_in_order = [rows[name] for name in dict.fromkeys((subject, None)) if name in rows]

    def first(attribute, default):
        for row in rows_in_order:
            value = getattr(row, attribute)
            if value not in (None, []):
                return value
        return default

    return {
        "compatibilityLevel": first("compatibility_level", DEFAULT_COMPATIBILITY),
        "compatibilityRules": first("compatibility_rules", DEFAULT_RULE_SET),
        "normalize": first("normalize", False),
        "lintExcept": first("lint_except", []),
        "reviewPolicy": first("review_policy", settings.REGISTRY_REVIEW_POLICY),
        "lintPolicy": first("lint_policy", settings.REGISTRY_LINT_POLICY),
        "requiredApprovals": first("required_approvals", settings.REGISTRY_REQUIRED_APPROVALS),
        "noticeHours": first("notice_hours", settings.REGISTRY_NOTICE_HOURS),
        "deprecationGraceDays": first("deprecation_grace_days", settings.REGISTRY_DEPRECATION_GRACE_DAYS),
        "deprecationRemovalDays": first("deprecation_removal_days", settings.REGISTRY_DEPRECATION_REMOVAL_DAYS),
    }


def effective_mode(*, tenant: Tenant, subject: str | None) -> str:
    return _effective_mode_of(_subject_and_global_rows(SubjectMode, tenant, subject), subject)


def _effective_mode_of(mode_rows: list, subject: str | None) -> str:
    rows = {row.subject_name: row.mode for row in mode_rows}
    return rows.get(subject) or rows.get(None) or Mode.READWRITE


def latest_live_version(*, tenant: Tenant, subject: str) -> SubjectVersion | None:
    return (
        SubjectVersion.objects.select_related("schema", "subject")
        .filter(subject__tenant=tenant, subject__name=subject, deleted=False)
        .order_by("-version")
        .first()
    )


def change_request_get(*, tenant: Tenant, review_id, for_update: bool = False) -> ChangeRequest:
    """Return one review of the tenant; 40411 when absent."""
    reviews = ChangeRequest.objects.filter(tenant=tenant)
    if for_update:
        reviews = reviews.select_for_update()
    try:
        return reviews.get(pk=int(review_id))
    except (ChangeRequest.DoesNotExist, ValueError, OverflowError):
        raise ReviewNotFound(review_id) from None


def change_request_list(
    *, tenant: Tenant, status: str | None = None, subject: str | None = None, author: str | None = None
) -> list[ChangeRequest]:
    """Return the tenant's reviews, newest first, filtered by status, subject and author's username."""
    reviews = ChangeRequest.objects.filter(tenant=tenant).select_related("author", "decided_by", "tenant")
    if status:
        reviews = reviews.filter(status=status.upper())
    if subject:
        reviews = reviews.filter(subject_name=subject)
    if author:
        reviews = reviews.filter(author__username=author)
    return list(reviews.order_by("-id"))


def change_request_detail(*, tenant: Tenant, review_id) -> ChangeRequest:
    """Return one review with its approvals and comments loaded."""
    change_request = change_request_get(tenant=tenant, review_id=review_id)
    return (
        ChangeRequest.objects.select_related("author", "decided_by", "tenant", "registered_version")
        .prefetch_related("approvals__approver", "comments__author")
        .get(pk=change_request.pk)
    )


def same_content_versions(subject: Subject, prepared: PreparedSchema):
    """Return the subject's versions holding this schema (whatever its layout), or its meaning when asked."""
    same_schema = Q(schema__fingerprint__in=prepared.same_schema_fingerprints)
    if prepared.match_by_meaning:
        return subject.versions.filter(same_schema | Q(schema__canonical_fingerprint=prepared.canonical_fingerprint))
    return subject.versions.filter(same_schema)


def prepare_for_subject(
    *,
    tenant: Tenant,
    subject: str,
    config: dict,
    schema: str,
    references: list[Reference],
    normalize: bool | None,
    metadata=None,
    rule_set=None,
) -> PreparedSchema:
    """Pin and resolve references, then compile a schema, normalised when asked or when the subject's config says so.

    A reference to version -1 (latest) is pinned to the concrete number, so it is stored, protected from
    deletion and listed in `referencedby` like any other; a reference leading back to the subject is a cycle.
    """
    references = pinned_references(tenant=tenant, references=references)
    dependencies = resolve_dependencies(tenant=tenant, references=references, root=(subject, root_path_for(subject)))
    return prepare_schema(
        subject=subject,
        schema=schema,
        references=references,
        dependencies=dependencies,
        normalize=config["normalize"] if normalize is None else normalize,
        metadata=metadata,
        rule_set=rule_set,
        # The migration mode accepts what Confluent accepts; lint then says why protoc would not.
        lenient=config["compatibilityRules"] == RuleSetName.CONFLUENT,
    )


def compiled_version_files(*, tenant: Tenant, version: SubjectVersion):
    """Return the compiled set of a stored version, with its model (kept between operations)."""
    # versions_compared says whether the schema has references; most have none, and then nothing is read.
    references = schema_references(version.schema) if getattr(version, "schema_has_references", True) else []
    dependencies = resolve_dependencies(tenant=tenant, references=references)
    return compile_stored(
        subject=version.subject.name, text=version.schema.text, dependencies=dependencies, schema_id=version.schema_id
    )


class VersionFiles:
    """Compile each stored version once per operation: the compatibility check and semantic version share them.

    Each answer is a compiled set (engine functions read its files and its cached model).
    """

    def __init__(self, tenant: Tenant):
        self._tenant = tenant
        self._files: dict[int, tuple] = {}

    def __call__(self, version: SubjectVersion) -> tuple:
        if version.pk not in self._files:
            self._files[version.pk] = compiled_version_files(tenant=self._tenant, version=version)
        return self._files[version.pk]


def compatibility_findings(
    *, prepared: PreparedSchema, previous: list[SubjectVersion], files_of: VersionFiles, level: str, rule_set: str
) -> list:
    """Return the engine's breaking findings of `prepared` against earlier versions (oldest first)."""
    if level == CompatibilityLevel.NONE or not previous:
        return []
    previous_sets = [files_of(version) for version in compatibility.versions_the_level_reads(previous, level)]
    findings = compatibility.check_compatibility(prepared.compiled, previous_sets, level=level, rule_set=rule_set)
    metrics.record_compatibility_check(rule_set=rule_set, level=level, compatible=not findings)
    return findings


def version_check(
    *,
    prepared: PreparedSchema,
    previous: list[SubjectVersion],
    files_of: VersionFiles,
    level: str,
    rule_set: str,
    counted: bool = True,
) -> compatibility.VersionCheck:
    """Compare `prepared` once with earlier versions: the level's findings, and whether it breaks the latest.

    The semantic version reads `breaks_latest` instead of comparing the latest version again.
    `counted` False keeps the check out of the metrics (an import checks nothing).
    """
    # Whatever the level, the latest version is among these: the semantic version compares with it.
    previous_sets = [files_of(version) for version in compatibility.versions_the_level_reads(previous, level)]
    check = compatibility.check_new_version(prepared.compiled, previous_sets, level=level, rule_set=rule_set)
    if counted and previous and level != CompatibilityLevel.NONE:
        metrics.record_compatibility_check(rule_set=rule_set, level=level, compatible=not check.findings)
    return check


def compatibility_test(
    *, tenant: Tenant, subject_name: str, version, schema: str, references: list[Reference], normalize: bool | None
) -> list:
    """Return breaking findings of a candidate schema against one version or, with version None, as the level says."""
    config = effective_config(tenant=tenant, subject=subject_name)
    prepared = prepare_for_subject(
        tenant=tenant,
        subject=subject_name,
        config=config,
        schema=schema,
        references=list(references),
        normalize=normalize,
    )
    if version is None:
        try:
            subject = subject_get(tenant=tenant, name=subject_name)
        except SubjectNotFound:
            return []
        previous = live_versions(subject=subject)
        level = config["compatibilityLevel"]
    else:
        previous = [subject_version_get(tenant=tenant, subject=subject_name, version=version)]
        level = compatibility.latest_only_level(config["compatibilityLevel"])
    return compatibility_findings(
        prepared=prepared,
        previous=previous,
        files_of=VersionFiles(tenant),
        level=level,
        rule_set=config["compatibilityRules"],
    )


def schema_lookup_in_subject(
    *,
    tenant: Tenant,
    subject_name: str,
    schema: str,
    references: list[Reference],
    normalize: bool | None,
    deleted: bool = False,
) -> SubjectVersion:
    """Return the version of a subject holding this schema (Confluent's POST /subjects/{subject}); 40403 when none."""
    subject = subject_get(tenant=tenant, name=subject_name)
    config = effective_config(tenant=tenant, subject=subject_name)
    prepared = prepare_for_subject(
        tenant=tenant,
        subject=subject_name,
        config=config,
        schema=schema,
        references=list(references),
        normalize=normalize,
    )
    versions = same_content_versions(subject, prepared).select_related("schema")
    if not deleted:
        versions = versions.filter(deleted=False)
    found = versions.order_by("version").first()
    if found is None:
        if not subject.versions.filter(deleted=False).exists() and not deleted:
            raise SubjectNotFound(subject_name)
        raise SchemaNotFound()
    return found
