"""Reads of code generation: the input set a request names, jobs and archives, scoped to what the viewer may read.

Starting a job needs the codegen role on every subject it generates; a job's status and
its archive follow read permissions: a viewer must be able to read every subject whose
text went into it, in that tenant.
"""

import uuid
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from codegen.archives import InputSet, conflicting_imports
from schemas_app import selectors
from schemas_app.access import can_read_tenant, has_role, readable_subjects
from schemas_app.errors import (
    ArchiveNotFound,
    BadRequest,
    ConflictingImports,
    InvalidSchema,
    JobNotFound,
    SubjectNotFound,
    VersionNotFound,
)
from schemas_app.models import Artifact, GenerationJob, SubjectVersion, Tenant
from schemas_app.preparation import root_path_for

# A download is allowed when one job that produced the archive read only subjects the viewer may read;
# this many distinct jobs are looked at before giving up.
MAX_GRANTING_JOBS = 50


@dataclass(frozen=True)
class GenerationInput:
    """A request's pinned input set, the subjects it read and the subject versions it generates."""

    inputs: InputSet
    subjects: tuple[str, ...]
    root_subjects: tuple[str, ...]
    pinned_roots: tuple[dict, ...]


def tenant_by_slug(*, slug: str | None, viewer) -> Tenant:
    """Return the tenant a request names, else the viewer's own (bound, or default); 404 for one it cannot see."""
    if not slug:
        return selectors.addressed_tenant(viewer=viewer, context=None)
    return selectors.readable_tenant(viewer=viewer, slug=slug)


def generation_input(*, tenant: Tenant, selection: dict, viewer) -> GenerationInput:
    """Return the input set of a selection: its subject versions and everything they import, pinned.

    `selection` holds one of: `subject` (with `version`, default latest), `subjects`
    (names or {subject, version}), `prefix`, or `all`. With `prefix` and `all` only
    subjects the viewer may read are chosen; a named subject the viewer may not read is not found.
    References are followed level by level, one query per level, so a cached request stays cheap.
    """
    wanted = _named(tenant, viewer, selection)
    if not wanted:
        raise BadRequest("The selection names no subject with a live version.")
    if selection.get("subject") or selection.get("subjects"):
        readable = _readable_names(viewer, tenant, {subject for subject, _ in wanted})
        for subject, _ in wanted:
            if subject not in readable:
                raise SubjectNotFound(subject)
    roots = [_pinned(version) for version in _live_versions(tenant, wanted)]
    pairs = [(root["path"], root["text"]) for root in roots]
    subjects = {root["subject"] for root in roots}
    seen: set[tuple[str, int]] = set()
    pending = [reference for root in roots for reference in root["references"]]
    while pending:
        level = {(ref.subject, ref.version): ref for ref in pending if (ref.subject, ref.version) not in seen}
        seen.update(level)
        versions = _live_versions(tenant, list(level), missing=_missing_reference)
        pending = []
        for key, version in zip(level, versions, strict=True):
            pairs.append((level[key].name, version.schema.text))
            subjects.add(key[0])
            pending.extend(selectors.schema_references(version.schema))
    conflicts = conflicting_imports(pairs)
    if conflicts:
        raise ConflictingImports(", ".join(conflicts))
    return GenerationInput(
        inputs=InputSet(sources=dict(pairs), roots=tuple(sorted({root["path"] for root in roots}))),
        subjects=tuple(sorted(subjects)),
        root_subjects=tuple(sorted({root["subject"] for root in roots})),
        pinned_roots=tuple({key: root[key] for key in ("subject", "version", "path")} for root in roots),
    )


def _named(tenant: Tenant, viewer, selection: dict) -> list[tuple[str, object]]:
    if selection.get("subject"):
        return [(selection["subject"], selection.get("version") or selectors.LATEST)]
    if selection.get("subjects"):
        return [
            (item, selectors.LATEST)
            if isinstance(item, str)
            else (item["subject"], item.get("version") or selectors.LATEST)
            for item in selection["subjects"]
        ]
    if selection.get("prefix") or selection.get("all"):
        names = selectors.subject_names(tenant=tenant, prefix=selection.get("prefix") or None)
        readable = _readable_names(viewer, tenant, set(names))
        return [(name, selectors.LATEST) for name in names if name in readable]
    raise BadRequest("Name what to generate: subject (and version), subjects, prefix, or all.")


def _readable_names(viewer, tenant: Tenant, names: set[str]) -> set[str]:
    """Return the names the viewer may read among the tenant's subjects and the shared ones."""
    readable = readable_subjects(viewer).filter(selectors.in_scope(tenant), name__in=names)
    return set(readable.values_list("name", flat=True))


def _live_versions(tenant: Tenant, wanted: list[tuple[str, object]], missing=None) -> list[SubjectVersion]:
    """Return the live version each (subject, number or "latest") names, in order, reading them in one query.

    A subject is the tenant's own, else a shared one (the `common/` catalogue its files import).
    """
    rows = (
        SubjectVersion.objects.filter(selectors.in_scope(tenant, "subject__"))
        .filter(_wanted_rows(wanted), deleted=False)
        .annotate(shadowed=Exists(_own_versions(tenant).filter(subject__name=OuterRef("subject__name"))))
        .select_related("subject", "schema")
        .prefetch_related("schema__references")
    )
    own: dict[str, dict[int, SubjectVersion]] = {}
    shared: dict[str, dict[int, SubjectVersion]] = {}
    for row in rows:
        if row.subject.tenant_id == tenant.pk:
            own.setdefault(row.subject.name, {})[row.version] = row
        elif row.shadowed:
            # The tenant's own subject of that name hides the shared one, even when it lacks the version asked.
            own.setdefault(row.subject.name, {})
        else:
            shared.setdefault(row.subject.name, {})[row.version] = row
    # The tenant's own subject wins over a shared one of the same name, as in every other lookup.
    by_subject = {**shared, **own}
    found = []
    for subject, version in wanted:
        versions = by_subject.get(subject)
        number = selectors.parse_version(version)
        if versions and number == selectors.LATEST:
            number = max(versions)
        if not versions or number not in versions:
            if missing is not None:
                missing(subject, version)
            raise VersionNotFound(subject, version) if _has_live_version(tenant, subject) else SubjectNotFound(subject)
        found.append(versions[number])
    return found


def _wanted_rows(wanted: list[tuple[str, object]]) -> Q:
    """Match the one row a numbered version names, and every row of a subject whose latest is asked for.

    Reading only the named rows keeps a subject with many large versions (their texts come along) cheap.
    """
    latest = set()
    numbered = Q(pk__in=[])
    for subject, version in wanted:
        number = selectors.parse_version(version)
        if number == selectors.LATEST:
            latest.add(subject)
        else:
            numbered |= Q(subject__name=subject, version=number)
    return Q(subject__name__in=latest) | numbered if latest else numbered


def _own_versions(tenant: Tenant):
    return SubjectVersion.objects.filter(subject__tenant=tenant, deleted=False)


def _has_live_version(tenant: Tenant, subject: str) -> bool:
    """Return True when the subject has a live version in the tenant or a shared one (only asked on errors)."""
    return (
        SubjectVersion.objects.filter(selectors.in_scope(tenant, "subject__"))
        .filter(subject__name=subject, deleted=False)
        .exists()
    )


def _missing_reference(subject: str, version) -> None:
    raise InvalidSchema(f"A reference points to subject '{subject}' version {version}, which does not exist.")


def _pinned(version: SubjectVersion) -> dict:
    return {
        "subject": version.subject.name,
        "version": version.version,
        "path": root_path_for(version.subject.name),
        "text": version.schema.text,
        "references": selectors.schema_references(version.schema),
    }


def job_get(*, viewer, job_id) -> GenerationJob:
    """Return a job its requester, or someone who may read every subject it read, asks for; 404 otherwise."""
    try:
        job = GenerationJob.objects.select_related("tenant", "artifact").get(pk=uuid.UUID(str(job_id)))
    except (ValueError, GenerationJob.DoesNotExist):
        raise JobNotFound(job_id) from None
    mine = viewer is not None and viewer.is_authenticated and job.requested_by_id == viewer.pk
    if not mine and not can_read_all(viewer, tenant=job.tenant, subject_names=job.subjects):
        raise JobNotFound(job_id)
    return job


def artifact_get(*, viewer, language: str, version: str) -> Artifact:
    """Return a stored archive the viewer may read: one of its jobs read only subjects the viewer may read."""
    artifact = Artifact.objects.filter(language=language, version=version).first()
    if artifact is None:
        raise ArchiveNotFound(language, version)
    grants = (
        GenerationJob.objects.filter(version=version, state=GenerationJob.State.SUCCEEDED)
        .select_related("tenant")
        .order_by("tenant_id", "-created_at")
        .only("tenant", "subjects")[:MAX_GRANTING_JOBS]
    )
    seen = set()
    for job in grants:
        key = (job.tenant_id, tuple(job.subjects))
        if key not in seen:
            seen.add(key)
            if can_read_all(viewer, tenant=job.tenant, subject_names=job.subjects):
                return artifact
    raise ArchiveNotFound(language, version)


def artifact_by_version(*, version: str) -> Artifact | None:
    return Artifact.objects.filter(version=version).first()


def can_read_all(user, *, tenant, subject_names) -> bool:
    """Return True when the user may read the tenant and every subject named, its own or shared ones.

    Another tenant's job or archive stays unknown even when it read only shared subjects.
    """
    if not can_read_tenant(user, tenant):
        return False
    names = set(subject_names)
    return _readable_names(user, tenant, names) == names if names else True


def can_generate(user, *, tenant, subject_names) -> bool:
    """Return True when the user holds the codegen role for every subject named."""
    # A role on the whole tenant (or everywhere) covers each of its subjects: one question instead of one per subject.
    if has_role(user, "codegen", tenant=tenant):
        return True
    return all(has_role(user, "codegen", subject_name=name, tenant=tenant) for name in sorted(set(subject_names)))
