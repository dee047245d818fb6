"""Writes of the registry. Each runs in one transaction, takes the acting user, and queues side effects on commit."""

import functools
from dataclasses import dataclass, field

from auditlog.context import disable_auditlog
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, connections, router, transaction
from django.db.models import Exists, ForeignObjectRel, OuterRef
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_save
from django.utils import timezone

from protoengine import compatibility, semver
from protoengine.compatibility import READ_ONLY_MODES
from protoengine.lint import LintConfig, lint
from registry import metrics
from schemas_app import cache as registry_cache
from schemas_app import git_history, selectors
from schemas_app.auditing import audited, delete_rows, log_created, log_rows
from schemas_app.dispatch import queue_on_commit
from schemas_app.errors import (
    IncompatibleSchema,
    InvalidCompatibilityLevel,
    InvalidGovernanceSetting,
    InvalidMode,
    InvalidRuleSet,
    InvalidSchema,
    InvalidSubject,
    InvalidVersion,
    OperationNotPermitted,
    ReferenceExists,
    RegistryError,
    SubjectConfigNotFound,
    SubjectModeNotFound,
    SubjectNotFound,
    SubjectNotSoftDeleted,
    SubjectSoftDeleted,
    TenantModeNotDeleted,
    TryAgain,
    VersionNotSoftDeleted,
    VersionSoftDeleted,
)
from schemas_app.limits import MAX_ID, MAX_VERSION, forbidden_name_character, in_range
from schemas_app.models import (
    CompatibilityLevel,
    CompiledSchema,
    LintPolicy,
    Mode,
    ReviewPolicy,
    RuleSetName,
    Schema,
    SchemaReference,
    Subject,
    SubjectConfig,
    SubjectMode,
    SubjectVersion,
    Tenant,
)
from schemas_app.preparation import PreparedSchema, Reference, stored_output_statement
from schemas_app.round_trips import insert_statement, inserted, mark_inserted, results_together

MAX_SUBJECT_LENGTH = 255
# The account that commands such as load_schemas act as, so the audit trail always names someone.
SYSTEM_USERNAME = "registry-system"
FIRST_VERSION_CHANGE = "INITIAL"
# A version whose schema compiles identically to the previous one and differs only in metadata or rule set.
METADATA_CHANGE = "METADATA"


@dataclass
class Registration:
    """What registering a schema did: the version it created or found, and what the engine said."""

    subject_version: SubjectVersion | None
    created: bool
    findings: list = field(default_factory=list)
    # Set instead of subject_version when the review policy holds the change.
    change_request: object | None = None

    @property
    def schema_id(self) -> int:
        return self.subject_version.schema_id

    @property
    def metrics_result(self) -> str:
        if self.change_request is not None:
            return metrics.HELD_FOR_REVIEW
        return metrics.CREATED if self.created else metrics.EXISTING


def counted_registration(register):
    """Count each registration by result once its transaction has ended: created, existing, held or refused."""

    @functools.wraps(register)
    def wrapper(**kwargs):
        try:
            outcome = register(**kwargs)
        except TryAgain:
            raise  # not an answer about the schema: the same registration may pass when sent again
        except RegistryError:
            metrics.record_registration(metrics.REFUSED)
            raise
        metrics.record_registration(outcome.metrics_result)
        return outcome

    return wrapper


def system_account():
    """Return the registry's own account, creating it on first use; it has no password, so nobody signs in as it."""
    user, created = get_user_model().objects.get_or_create(username=SYSTEM_USERNAME)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def validate_subject_name(name: str) -> str:
    """Return the subject name, or 42208 for an empty or over-long name, or one holding control or format characters.

    Names stay as permissive as Confluent's otherwise ("..", "/" and spaces inside are fine): they never
    become a file path as given (`root_path_for` makes a safe import path of them). Bidi overrides such as
    U+202E, zero-width characters and line separators are refused: they make one name look like another.
    """
    if not name or len(name) > MAX_SUBJECT_LENGTH or forbidden_name_character(name) or name.strip() != name:
        raise InvalidSubject(name)
    return name


def lint_findings(*, prepared: PreparedSchema, lint_except: list[str]) -> list[dict]:
    """Return lint findings of the schema's own root file, as stored on the version."""
    config = _lint_config(tuple(settings.REGISTRY_TENANT_PACKAGES), (*settings.REGISTRY_LINT_EXCEPT, *lint_except))
    # The imported files are there to resolve types and options; only the subject's own file is reported.
    findings = [*prepared.compile_findings, *lint(prepared.compiled, config, targets=[prepared.root_path])]
    return [finding.as_dict() for finding in findings]


@functools.lru_cache(maxsize=64)
def _lint_config(tenant_packages: tuple[str, ...], lint_except: tuple[str, ...]) -> LintConfig:
    """Return the lint configuration of these settings, built once: its matchers remember the names they judged."""
    return LintConfig(tenant_packages=tenant_packages).with_except(lint_except)


@counted_registration
@audited
def subject_version_register(
    *,
    tenant: Tenant,
    subject_name: str,
    schema: str,
    references: list[Reference] = (),
    normalize: bool | None = None,
    metadata=None,
    rule_set=None,
    import_id: int | None = None,
    import_version: int | None = None,
    approved_review=None,
    acting_user,
) -> Registration:
    """Register a schema under a subject; return the existing version when the content is already there.

    Versions are numbered under a row lock on the subject, so concurrent writers never
    produce duplicate or missing numbers. A change the review policy holds becomes a
    change request instead (`Registration.change_request`); approving it calls this
    again with `approved_review`, which accepts the breaking findings it was held for.
    """
    validate_subject_name(subject_name)
    if import_id is not None and not in_range(import_id, 1, MAX_ID):
        raise OperationNotPermitted(f"Schema id {import_id} is outside Confluent's ids 1..{MAX_ID}")
    if import_version is not None and not in_range(import_version, 1, MAX_VERSION):
        raise InvalidVersion(import_version)
    references = list(references)
    config, mode = selectors.effective_config_and_mode(tenant=tenant, subject=subject_name)
    prepared = selectors.prepare_for_subject(
        tenant=tenant,
        subject=subject_name,
        config=config,
        schema=schema,
        references=references,
        normalize=normalize,
        metadata=metadata,
        rule_set=rule_set,
    )
    reads = _locked_subject_reads(tenant, subject_name, prepared=prepared, level=config["compatibilityLevel"])
    subject, subject_created, same_schemas, existing = reads.subject, reads.created, reads.same_schemas, reads.existing
    if existing is not None and import_id in (None, existing.schema_id):
        return Registration(subject_version=existing, created=False)

    if mode in READ_ONLY_MODES:
        raise OperationNotPermitted(f"Subject {subject_name} is in read-only mode")
    if (import_id is not None or import_version is not None) and mode != Mode.IMPORT:
        raise OperationNotPermitted(f"Subject {subject_name} is not in import mode")

    previous = reads.previous
    files_of = selectors.VersionFiles(tenant)
    # One comparison per registration: the level's findings and the semantic version both read it.
    check = selectors.version_check(
        prepared=prepared,
        previous=previous,
        files_of=files_of,
        level=config["compatibilityLevel"],
        rule_set=config["compatibilityRules"],
        counted=mode != Mode.IMPORT,
    )
    findings = [] if mode == Mode.IMPORT else check.findings
    lint = lint_findings(prepared=prepared, lint_except=config["lintExcept"])
    if mode != Mode.IMPORT:
        from schemas_app import tenants  # tenants validates configurations with the selectors this module uses

        tenants.refuse_blocked_lint(tenant=tenant, lint=lint)
    if mode != Mode.IMPORT and approved_review is None:
        held_because = review_gate(subject_name=subject_name, config=config, findings=findings, lint=lint)
        if held_because:
            from schemas_app import reviews  # reviews replays registrations through this module

            if subject_created:  # its entry first, as the subject was created first
                log_created([subject], acting_user=acting_user)
            change_request = reviews.change_request_propose(
                tenant=tenant,
                subject_name=subject_name,
                prepared=prepared,
                normalize=normalize,
                metadata=metadata,
                rule_set=rule_set,
                config=config,
                held_because=held_because,
                findings=findings,
                base_version=previous[-1].version if previous else None,
                acting_user=acting_user,
            )
            return Registration(subject_version=None, created=False, findings=findings, change_request=change_request)

    # The new rows' audit entries are written together once both exist: one INSERT instead of one per row.
    with disable_auditlog():
        schema_row, schema_created = _stored_schema(
            prepared, same_schemas=same_schemas, metadata=metadata, rule_set=rule_set, import_id=import_id
        )
        version_number = import_version or (
            1 if subject_created else selectors.next_version_number(subject=subject, compared=previous)
        )
        if import_version is not None and subject.versions.filter(version=import_version).exists():
            raise OperationNotPermitted(f"Version {import_version} already exists in subject {subject_name}")
        change, semantic_version = _semantic_version(
            prepared=prepared, previous=previous, files_of=files_of, check=check, extras=(metadata, rule_set)
        )
        subject_version = SubjectVersion(
            subject=subject,
            version=version_number,
            semantic_version=semantic_version,
            change=change,
            lint_findings=lint,
            created_by=approved_review.author if approved_review is not None else _user_or_none(acting_user),
        )
        if schema_row.pk is None:  # a new row: written in the version's round trip
            schema_row, schema_created = _inserted_with_version(schema_row, subject_version, prepared)
            if schema_created:
                _schema_row_created(schema_row, prepared, import_id=None)
        else:
            subject_version.schema = schema_row
            subject_version.save(force_insert=True)
    log_created(
        [*([subject] if subject_created else []), *([schema_row] if schema_created else []), subject_version],
        acting_user=acting_user,
    )
    _record_in_git_on_commit(subject_version)
    return Registration(subject_version=subject_version, created=True, findings=findings)


def _record_in_git_on_commit(subject_version: SubjectVersion) -> None:
    """Commit the new version to the git history once the registration has committed."""
    repository = git_history.history_dir()
    if repository is None:
        return
    from schemas_app.tasks import record_version_in_git

    if record_version_in_git.app.conf.task_always_eager:
        # No broker: this process's history writer commits the rows in hand (instead of reading them again through
        # Celery, a query and a task run per registration), with the others registered in the same burst.
        transaction.on_commit(lambda: git_history.write_soon(repository, subject_version))
        return
    # Not sent again if the broker refuses it: the next version's commit, or beat's catch-up, writes it.
    queue_on_commit(record_version_in_git, subject_version.pk)


def _user_or_none(user):
    return user if getattr(user, "is_authenticated", False) else None


def review_gate(*, subject_name: str, config: dict, findings: list, lint: list[dict]) -> list[str]:
    """Return why a change must wait for review (empty: register it now); raise when the policy refuses it."""
    if lint and config["lintPolicy"] == LintPolicy.BLOCK:
        summary = "; ".join(
            f"{item['path']}:{item['line']}:{item['column']}: {item['rule']} {item['message']}" for item in lint
        )
        raise InvalidSchema(f"Invalid schema: the lint policy blocks it: {summary}", details=lint)
    policy = config["reviewPolicy"]
    if findings and policy == ReviewPolicy.NONE:
        raise IncompatibleSchema(
            subject_name, [finding.message for finding in findings], [finding.as_dict() for finding in findings]
        )
    held_because = []
    if findings:
        held_because.append("breaking")
    if lint and config["lintPolicy"] == LintPolicy.REVIEW:
        held_because.append("lint")
    if policy == ReviewPolicy.ALL and not held_because:
        held_because.append("policy")
    return held_because


@dataclass
class SubjectReads:
    """What a registration reads of its subject under the subject's lock (`_locked_subject_reads`)."""

    subject: Subject | None  # None only between `_subject_reads` and the subject's insert
    created: bool  # this transaction inserted the subject: it has no versions, deleted ones included
    same_schemas: list[Schema]  # the rows holding the new content (`_same_content_statement`)
    existing: SubjectVersion | None  # the subject's oldest live version holding one of them
    previous: list[SubjectVersion]  # what the new version is compared with (`selectors.versions_compared`)


def _locked_subject_reads(tenant: Tenant, name: str, *, prepared: PreparedSchema, level: str) -> SubjectReads:
    """Lock the subject, creating it when missing, and read what registering needs of it.

    Read under the subject's lock, so no writer of this subject adds a version meanwhile; the lock and the
    reads go to the database together, in one round trip where the driver allows it (`results_together`).
    A row this transaction inserted is locked by it already: another writer's insert or lock waits for the commit.
    The caller writes a created subject's audit entry, with its version's (one INSERT for both).
    """
    reads = _subject_reads(tenant, name, prepared, level)
    if reads.subject is not None:
        return reads
    subject = Subject(tenant=tenant, name=name)
    # One INSERT ... ON CONFLICT DO NOTHING RETURNING id, not an INSERT in a savepoint (three round trips); no signal
    # is sent: its audit entry is written with the version's (`log_created`).
    if not inserted([subject], on_conflict=OnConflict.IGNORE):  # another writer created it between read and insert
        return _subject_reads(tenant, name, prepared, level)
    subject.tenant = tenant  # the caller's row: what reads the subject's tenant later (git history) needs no query
    return SubjectReads(subject, True, reads.same_schemas, existing=None, previous=[])


def _subject_reads(tenant: Tenant, name: str, prepared: PreparedSchema, level: str) -> SubjectReads:
    """Run `_locked_subject_reads`' statements; the subject is None (and nothing else is found) when missing."""
    by_name = (f"(SELECT id FROM {Subject._meta.db_table} WHERE tenant_id = %s AND name = %s)", [tenant.pk, name])
    same_content = _same_content_condition(prepared)
    statements = [_subject_lock_statement(tenant, name), selectors.versions_compared_statement(by_name, level)]
    if same_content is not None:
        statements += [_same_content_statement(same_content), _first_live_version_statement(by_name, same_content)]
    database = router.db_for_write(Subject)
    with connections[database].cursor() as cursor:
        subject_rows, compared_rows, *same_content_rows = results_together(cursor, statements)
    subjects = selectors.rows_loaded(Subject, subject_rows, database=database)
    same_schemas = _same_schemas_of(same_content_rows, database)
    if not subjects:
        return SubjectReads(None, False, same_schemas, existing=None, previous=[])
    subject = subjects[0]
    subject.tenant = tenant
    return SubjectReads(
        subject,
        False,
        same_schemas,
        existing=_first_live_version_of(subject, same_schemas, same_content_rows, database),
        previous=selectors.versions_compared(subject=subject, level=level, first_rows=compared_rows),
    )


def subject_for_update(tenant: Tenant, name: str) -> Subject | None:
    """Return the subject row, locked until the transaction ends; None when there is none.

    Every writer of a subject's versions takes it first (registration, deletes, deprecation), so they
    queue on the subject in one order and each reads the versions as the one before it left them.
    """
    found = selectors.loaded_rows(
        Subject, *_subject_lock_statement(tenant, name), database=router.db_for_write(Subject)
    )
    return found[0] if found else None


def _subject_lock_statement(tenant: Tenant, name: str) -> tuple[str, list]:
    """Return the SELECT ... FOR UPDATE of a subject's row (its concrete columns).

    Written out: every registration runs it, and building it with the ORM cost more than running it.
    """
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    table = Subject._meta.db_table
    return f"SELECT {selectors.columns_of(Subject)} FROM {table} WHERE tenant_id = %s AND name = %s{lock}", [
        tenant.pk,
        name,
    ]


def _same_content_condition(prepared: PreparedSchema) -> tuple[str, list] | None:
    """Return the WHERE condition on schema rows holding this schema (whatever its layout), or its meaning when
    asked; None when nothing can match.

    Written out, as the subject's lock is: every registration runs it, and the ORM's query building cost more.
    """
    matches, params = [], list(prepared.same_schema_fingerprints)
    if params:
        matches.append(f"fingerprint IN ({', '.join(['%s'] * len(params))})")
    if prepared.match_by_meaning:
        matches.append("canonical_fingerprint = %s")
        params.append(prepared.canonical_fingerprint)
    return (" OR ".join(matches), params) if matches else None


def _same_content_statement(condition: tuple[str, list]) -> tuple[str, list]:
    """Return the SELECT of the schema rows meeting the condition, oldest first."""
    where, params = condition
    return f"SELECT {selectors.columns_of(Schema)} FROM {Schema._meta.db_table} WHERE {where} ORDER BY id", params


def _first_live_version_statement(subject_id: tuple[str, list], condition: tuple[str, list]) -> tuple[str, list]:
    """Return the SELECT of the subject's oldest live version whose schema row meets the condition."""
    subject_sql, subject_params = subject_id
    where, params = condition
    return (
        f"SELECT {selectors.columns_of(SubjectVersion)} FROM {SubjectVersion._meta.db_table}"
        f" WHERE subject_id = {subject_sql} AND NOT deleted"
        f" AND schema_id IN (SELECT id FROM {Schema._meta.db_table} WHERE {where}) ORDER BY version LIMIT 1",
        [*subject_params, *params],
    )


def _same_schemas_of(same_content_rows: list, database: str) -> list[Schema]:
    """Return the schema rows of `_same_content_statement`'s result (the first of the same-content results)."""
    return selectors.rows_loaded(Schema, same_content_rows[0], database=database) if same_content_rows else []


def _first_live_version_of(
    subject: Subject, same_schemas: list[Schema], same_content_rows: list, database: str
) -> SubjectVersion | None:
    """Return the subject's oldest live version holding one of these schema rows, with its schema; None when none.

    Read from `_first_live_version_statement`'s result (the second of the same-content results), and only
    trusted for a schema row found too: a row stored between the two statements is in no version of this subject.
    """
    by_id = {schema.pk: schema for schema in same_schemas}
    found = selectors.rows_loaded(SubjectVersion, same_content_rows[1], database=database) if by_id else []
    if not found or found[0].schema_id not in by_id:
        return None
    found[0].subject, found[0].schema = subject, by_id[found[0].schema_id]
    return found[0]


def _stored_schema(
    prepared: PreparedSchema, *, same_schemas: list[Schema], metadata, rule_set, import_id: int | None
) -> tuple[Schema, bool]:
    """Return the schema row of this content and whether it is new (created with its references in IMPORT mode).

    `same_schemas` are the rows holding this content (`_same_content_statement`), oldest first. Outside IMPORT
    mode a new row is returned unsaved: `_inserted_with_version` writes it together with its version.
    """
    if import_id is not None:
        existing = kept_schema(Schema.objects.filter(pk=import_id))
        if existing is not None:
            if existing.fingerprint not in prepared.same_schema_fingerprints:
                raise OperationNotPermitted(f"Overwrite new schema with id {import_id} is not permitted.")
            return existing, False
    elif same_schemas:
        kept = kept_schema(same_schemas)
        if kept is not None:
            return kept, False
        # A purge deleted every row holding this content since it was looked up: store it again.
    defaults = {
        "text": prepared.text,
        "canonical_fingerprint": prepared.canonical_fingerprint,
        "metadata": metadata,
        "rule_set": rule_set,
    }
    if import_id is None:
        return Schema(fingerprint=prepared.fingerprint, **defaults), True
    defaults["id"] = import_id
    try:
        with transaction.atomic():
            schema, created = Schema.objects.get_or_create(fingerprint=prepared.fingerprint, defaults=defaults)
    except IntegrityError:
        raise OperationNotPermitted(f"Schema id {import_id} is taken by another schema.") from None
    if created:
        _schema_row_created(schema, prepared, import_id=import_id)
    return schema, created


def _schema_row_created(schema: Schema, prepared: PreparedSchema, *, import_id: int | None) -> None:
    """Refuse an id past Confluent's range, and store the new row's references."""
    if schema.pk > MAX_ID:
        raise OperationNotPermitted(
            f"No schema id is left in Confluent's range 1..{MAX_ID}; "
            "permanently delete the imported schema that used it up"
        )
    SchemaReference.objects.bulk_create(
        SchemaReference(schema=schema, position=position, name=ref.name, subject=ref.subject, version=ref.version)
        for position, ref in enumerate(prepared.references)
    )
    if import_id is not None:
        _advance_id_sequence()


def kept_schema(schemas) -> Schema | None:
    """Return the oldest of these schema rows that still exists, locked so that no purge deletes it before commit.

    The lock is the one the new version's foreign key takes anyway (FOR KEY SHARE), taken before the version
    is written: a purge locks the rows it may delete before it looks for versions using them
    (`_purge_orphaned_schemas`), so either this registration waits for the purge and finds the row gone, or
    the purge waits for this registration and finds its version. None when every row is gone.
    """
    by_id = {schema.pk: schema for schema in schemas}
    if not by_id:
        return None
    if connection.vendor != "postgresql":  # SQLite runs one writer at a time
        return by_id[min(by_id)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Schema._meta.db_table} WHERE id IN ({', '.join(['%s'] * len(by_id))})"
            " ORDER BY id LIMIT 1 FOR KEY SHARE",
            list(by_id),
        )
        row = cursor.fetchone()
    return None if row is None else by_id[row[0]]


def _inserted_with_version(schema: Schema, version: SubjectVersion, prepared: PreparedSchema) -> tuple[Schema, bool]:
    """Insert the schema row the search found missing, its compiled set and the version holding it, in one round trip.

    Return the row and whether it was inserted: when a concurrent writer stored the same content first, the
    version holds theirs (its schema id is a sub-select by fingerprint, run after the schema's INSERT). Nothing
    listens to a schema's save; the version's post_save is sent as its save() would, and both audit entries are
    written with `log_created`.
    """
    database = router.db_for_write(SubjectVersion)
    version.schema_id = RawSQL(f"(SELECT id FROM {Schema._meta.db_table} WHERE fingerprint = %s)", [schema.fingerprint])
    statements = [
        insert_statement([schema], on_conflict=OnConflict.IGNORE),
        stored_output_statement(prepared),
        insert_statement([version]),
    ]
    with connections[database].cursor() as cursor:
        schema_rows, _, version_rows = results_together(cursor, statements)
    if schema_rows:
        mark_inserted([schema], schema_rows)
    else:
        schema = Schema.objects.get(fingerprint=schema.fingerprint)
    version.schema = schema
    mark_inserted([version], version_rows)
    post_save.send(SubjectVersion, instance=version, created=True, update_fields=None, raw=False, using=database)
    return schema, bool(schema_rows)


def _advance_id_sequence() -> None:
    """Keep PostgreSQL's id sequence past ids that IMPORT mode set by hand."""
    if connection.vendor != "postgresql":
        return
    table = Schema._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def _purge_orphaned_schemas(schema_ids: set[int], *, acting_user) -> None:
    """Delete schema rows no other row points at any more, and forget them in the caches once committed.

    Ids are not handed out again, except when an imported id used up Confluent's range: then the id
    sequence moves back to the highest id left, so a permanent delete undoes such an import.
    """
    # Locked (in id order) before versions using them are looked for, in a statement of its own so that the look
    # sees whatever committed while this waited: a registration reusing one of these rows locks it too
    # (`kept_schema`), so its version is either seen here (the row stays) or never written to a deleted row.
    locked = Schema.objects.select_for_update().filter(pk__in=schema_ids).order_by("pk").values_list("pk", flat=True)
    orphans = list(_pointed_at_by_nothing(Schema.objects.filter(pk__in=list(locked))))
    if not orphans:
        return
    ids = {schema.pk for schema in orphans}
    # Plain DELETEs and one audit INSERT, whatever the number of rows: nothing else points at these rows.
    SchemaReference.objects.filter(schema_id__in=ids)._raw_delete(connection.alias)
    CompiledSchema.objects.filter(schema_id__in=ids)._raw_delete(connection.alias)
    Schema.objects.filter(pk__in=ids)._raw_delete(connection.alias)
    log_rows(
        orphans,
        action=LogEntry.Action.DELETE,
        changes=lambda row: model_instance_diff(row, None),
        acting_user=acting_user,
    )
    if max(ids) >= MAX_ID:
        _rewind_id_sequence()
    transaction.on_commit(lambda: registry_cache.forget_schemas(ids))


def _pointed_at_by_nothing(schemas):
    """Return those of `schemas` that no row but their own references and compiled sets points at.

    Every foreign key to Schema counts: a version of any subject, a tenant configuration validated against the
    schema, and any added later. The purge deletes raw, so no `on_delete` runs, and a row still pointed at
    failed its foreign-key check (500).
    """
    for relation in Schema._meta.get_fields(include_hidden=True):  # hidden: TenantConfig's has no reverse name
        if not isinstance(relation, ForeignObjectRel) or relation.related_model in (SchemaReference, CompiledSchema):
            continue  # not a row pointing here, or part of the schema (its imports, its compiled sets), deleted with it
        pointing = relation.related_model._base_manager.filter(**{relation.field.attname: OuterRef("pk")})
        schemas = schemas.filter(~Exists(pointing))
    return schemas


def _rewind_id_sequence() -> None:
    table = Schema._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "
                f"FROM {table}"
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                f"UPDATE sqlite_sequence SET seq = (SELECT COALESCE(MAX(id), 0) FROM {table}) WHERE name = %s", [table]
            )


def _semantic_version(
    *,
    prepared: PreparedSchema,
    previous: list[SubjectVersion],
    files_of: selectors.VersionFiles,
    check: compatibility.VersionCheck,
    extras: tuple,
) -> tuple[str, str]:
    """Return the change against the latest version and the semantic version it earns.

    A version that changes only metadata or the rule set is a PATCH marked METADATA, so no two
    versions of a subject share a semantic version for that reason.
    """
    if not previous:
        return FIRST_VERSION_CHANGE, semver.next_version(None, "MAJOR")
    latest = previous[-1]
    change = semver.classify_change(files_of(latest), prepared.compiled, breaks=check.breaks_latest)
    if change == semver.NONE and extras != (latest.schema.metadata, latest.schema.rule_set):
        return METADATA_CHANGE, semver.next_version(latest.semantic_version, semver.PATCH)
    return change, semver.next_version(latest.semantic_version, change)


@audited
def subject_delete(*, tenant: Tenant, subject_name: str, permanent: bool = False, acting_user) -> list[int]:
    """Soft-delete every version of a subject, or purge a soft-deleted subject; return the version numbers."""
    refuse_in_read_only(tenant, subject_name)
    subject = Subject.objects.select_for_update().filter(tenant=tenant, name=subject_name).first()
    if subject is None or not subject.versions.exists():
        raise SubjectNotFound(subject_name)
    versions = list(subject.versions.order_by("version"))
    numbers = [version.version for version in versions]
    referenced = selectors.first_referenced_version(tenant=tenant, subject=subject_name, versions=numbers)
    if referenced is not None:
        raise ReferenceExists(subject_name, referenced)
    if permanent:
        if any(not version.deleted for version in versions):
            raise SubjectNotSoftDeleted(subject_name)
        delete_rows(subject.versions.all(), versions, acting_user=acting_user)
        _purge_orphaned_schemas({version.schema_id for version in versions}, acting_user=acting_user)
        SubjectConfig.objects.filter(tenant=tenant, subject_name=subject_name).delete()
        SubjectMode.objects.filter(tenant=tenant, subject_name=subject_name).delete()
    else:
        live = [version for version in versions if not version.deleted]
        if not live:
            raise SubjectSoftDeleted(subject_name)
        numbers = soft_delete_live_versions(tenant, subject, live, acting_user=acting_user)
    return numbers


def soft_delete_live_versions(
    tenant: Tenant, subject: Subject, live: list[SubjectVersion], *, acting_user
) -> list[int]:
    """Soft-delete the tenant's subject's live versions (`live`, read under its lock), logged; return their numbers.

    Runs inside an audited service that checked first that nothing stops the delete.
    """
    numbers = [version.version for version in live]
    now = timezone.now()
    subject.versions.filter(deleted=False).update(deleted=True, deleted_at=now)
    log_rows(
        live,
        action=LogEntry.Action.UPDATE,
        changes=lambda row: {"deleted": ["False", "True"], "deleted_at": ["None", str(now)]},
        acting_user=acting_user,
    )
    # A bulk update sends no post_save signal, so it names what the cache must forget.
    registry_cache.forget_versions_on_commit(tenant.slug, subject.name, numbers)
    registry_cache.forget_placements(version.schema_id for version in live)
    return numbers


@audited
def subject_version_delete(*, tenant: Tenant, subject_name: str, version, permanent: bool = False, acting_user) -> int:
    """Soft-delete one version, or purge it once soft-deleted; return its number.

    The subject's lock first, as registration, deprecation and the subject's delete take it: otherwise a
    registration could answer "existing version N" while N was being deleted.
    """
    refuse_in_read_only(tenant, subject_name)
    subject_for_update(tenant, subject_name)
    found = selectors.subject_version_get(tenant=tenant, subject=subject_name, version=version, include_deleted=True)
    if selectors.parse_version(version) == selectors.LATEST and found.deleted and not permanent:
        found = selectors.subject_version_get(tenant=tenant, subject=subject_name, version=version)
    if selectors.referenced_by(tenant=tenant, subject=subject_name, version=found.version):
        raise ReferenceExists(subject_name, found.version)
    if permanent:
        if not found.deleted:
            raise VersionNotSoftDeleted(subject_name, found.version)
        found.delete()
        _purge_orphaned_schemas({found.schema_id}, acting_user=acting_user)
    else:
        if found.deleted:
            raise VersionSoftDeleted(subject_name, found.version)
        found.deleted, found.deleted_at = True, timezone.now()
        found.save(update_fields=["deleted", "deleted_at"])
    return found.version


def refuse_in_read_only(tenant: Tenant, subject_name: str) -> None:
    if selectors.effective_mode(tenant=tenant, subject=subject_name) in READ_ONLY_MODES:
        raise OperationNotPermitted(f"Subject {subject_name} is in read-only mode")


CONFIG_EXTRA_FIELDS = (
    "alias",
    "defaultMetadata",
    "overrideMetadata",
    "defaultRuleSet",
    "overrideRuleSet",
    "compatibilityGroup",
    "validateFields",
)


@audited
def config_update(*, tenant: Tenant, subject_name: str | None, changes: dict, acting_user) -> SubjectConfig:
    """Set compatibility configuration globally (subject None) or for a subject; return what was set."""
    level = changes.get("compatibility", changes.get("compatibilityLevel"))
    rules = changes.get("compatibilityRules")
    if level is not None:
        level = str(level).upper()
        if level not in CompatibilityLevel.values:
            raise InvalidCompatibilityLevel()
    if rules is not None:
        rules = str(rules).upper()
        if rules not in RuleSetName.values:
            raise InvalidRuleSet(rules)
    if subject_name is not None:
        validate_subject_name(subject_name)
    row, _ = SubjectConfig.objects.select_for_update().get_or_create(tenant=tenant, subject_name=subject_name)
    if level is not None:
        row.compatibility_level = level
    if rules is not None:
        row.compatibility_rules = rules
    if "normalize" in changes:
        row.normalize = None if changes["normalize"] is None else bool(changes["normalize"])
    if "lintExcept" in changes:
        row.lint_except = [str(rule) for rule in changes["lintExcept"] or []]
    _apply_governance_changes(row, changes)
    row.extra.update({key: changes[key] for key in CONFIG_EXTRA_FIELDS if key in changes})
    row.save()
    return row


GOVERNANCE_FIELDS = {
    # API name: (model field, allowed values or None for a whole number, smallest whole number)
    "reviewPolicy": ("review_policy", ReviewPolicy.values, None),
    "lintPolicy": ("lint_policy", LintPolicy.values, None),
    "requiredApprovals": ("required_approvals", None, 1),
    "noticeHours": ("notice_hours", None, 0),
    "deprecationGraceDays": ("deprecation_grace_days", None, 0),
    "deprecationRemovalDays": ("deprecation_removal_days", None, 1),
}


def _apply_governance_changes(row: SubjectConfig, changes: dict) -> None:
    """Set review policy, lint policy, approvals and notice hours; None unsets a field so it falls through."""
    for name, (attribute, allowed, minimum) in GOVERNANCE_FIELDS.items():
        if name not in changes:
            continue
        value = changes[name]
        if value is not None and allowed is not None:
            value = str(value).lower()
            if value not in allowed:
                raise InvalidGovernanceSetting(name, value, ", ".join(allowed))
        elif value is not None and (not isinstance(value, int) or value < minimum):
            raise InvalidGovernanceSetting(name, value, f"a whole number from {minimum}")
        setattr(row, attribute, value)


@audited
def config_delete(*, tenant: Tenant, subject_name: str | None, acting_user) -> SubjectConfig | None:
    """Remove a subject's configuration (or reset the global one) and return the removed row (None: there was none)."""
    row = selectors.config_row(tenant=tenant, subject=subject_name)
    if row is None:
        if subject_name is not None:
            raise SubjectConfigNotFound(subject_name)
        return None
    row.delete()
    return row


@audited
def mode_update(*, tenant: Tenant, subject_name: str | None, mode: str, force: bool = False, acting_user) -> str:
    """Set the mode globally or for a subject; IMPORT needs an empty scope unless forced."""
    mode = str(mode or "").upper()
    if mode not in Mode.values:
        raise InvalidMode()
    if subject_name is not None:
        validate_subject_name(subject_name)
    if mode == Mode.IMPORT and not force:
        versions = SubjectVersion.objects.filter(subject__tenant=tenant)
        if subject_name is not None:
            versions = versions.filter(subject__name=subject_name)
        if versions.exists():
            raise OperationNotPermitted("Cannot import since found existing subjects")
    SubjectMode.objects.update_or_create(tenant=tenant, subject_name=subject_name, defaults={"mode": mode})
    return mode


@audited
def mode_delete(*, tenant: Tenant, subject_name: str | None, acting_user) -> str:
    """Remove a subject's own mode and return it; the tenant-wide mode (subject_name None) is only ever changed."""
    if not subject_name:
        raise TenantModeNotDeleted()
    row = SubjectMode.objects.filter(tenant=tenant, subject_name=subject_name).first()
    if row is None:
        raise SubjectModeNotFound(subject_name)
    row.delete()
    return row.mode
