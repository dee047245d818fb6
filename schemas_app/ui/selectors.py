"""Reads behind the browser pages, always scoped to what the viewer may read first.

Whatever depends only on a stored schema (its highlighted text, its documentation) or on a pair of
schemas (their diff, findings and bump) is cached under the schema ids: stored schemas never change.
"""

import re
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, Subquery
from django.http import Http404
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from codegen.archives import archive_version
from codegen.generators import GENERATORS, GeneratorUnavailable, generator_for
from protoengine import compatibility, semver
from protoengine.compiler import CompilationFailed
from protoengine.documentation import FileDoc, document
from schemas_app import access, audit_scope, codegen_selectors, selectors
from schemas_app.errors import RegistryError
from schemas_app.models import Artifact, ChangeRequest, Schema, Subject, SubjectConfig, SubjectVersion, Tenant
from schemas_app.preparation import compile_stored, root_path_for
from schemas_app.ui.highlight import DiffRow, highlighted_lines, side_by_side

CATALOGUE_PAGE_SIZE = 50
AUDIT_PAGE_SIZE = 100
CACHE_SECONDS = 24 * 3600
_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)
ACTIONS = {"create": LogEntry.Action.CREATE, "update": LogEntry.Action.UPDATE, "delete": LogEntry.Action.DELETE}


# --- catalogue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueRow:
    subject: Subject
    version: SubjectVersion
    package: str
    pending_review: bool

    @property
    def state(self) -> str:
        return "pending review" if self.pending_review else self.version.state


def catalogue(*, viewer, query: str = "", page: int | str = 1):
    """Return a page of the subjects the viewer may read (latest live version each), filtered by the query.

    The query matches subject names and the latest schema's text, so message, enum, service and field
    names and comments all match. Rows come sorted by tenant and name; `groups` groups the page by
    tenant and package.
    """
    latest = SubjectVersion.objects.filter(subject=OuterRef("pk"), deleted=False).order_by("-version")
    subjects = (
        access.readable_subjects(viewer)
        .annotate(latest_id=Subquery(latest.values("pk")[:1]))
        .filter(latest_id__isnull=False)
        .select_related("tenant")
        .order_by("tenant__slug", "name")
    )
    query = query.strip()
    if query:
        in_text = SubjectVersion.objects.filter(pk=OuterRef("latest_id"), schema__text__icontains=query)
        subjects = subjects.filter(Q(name__icontains=query) | Exists(in_text))
    paginator = Paginator(subjects, CATALOGUE_PAGE_SIZE)
    page_obj = paginator.get_page(page)
    rows_subjects = list(page_obj.object_list)
    versions = SubjectVersion.objects.select_related("created_by", "schema").in_bulk(
        [subject.latest_id for subject in rows_subjects]
    )
    pending = set(
        ChangeRequest.objects.filter(
            status=ChangeRequest.Status.PENDING,
            subject_name__in=[subject.name for subject in rows_subjects],
        ).values_list("tenant_id", "subject_name")
    )
    rows = []
    for subject in rows_subjects:
        version = versions[subject.latest_id]
        found = _PACKAGE.search(version.schema.text[:20000])
        rows.append(
            CatalogueRow(
                subject=subject,
                version=version,
                package=found.group(1) if found else "",
                pending_review=(subject.tenant_id, subject.name) in pending,
            )
        )
    groups: dict[tuple[str, str], list[CatalogueRow]] = {}
    for row in rows:
        groups.setdefault((row.subject.tenant.slug, row.package), []).append(row)
    return page_obj, groups


# --- one subject -------------------------------------------------------------------------------


def readable_subject(*, viewer, name: str, tenant_slug: str | None = None) -> Subject:
    """Return the subject of that name the viewer may read (in the named tenant if given); 404 otherwise."""
    subjects = access.readable_subjects(viewer).filter(name=name).select_related("tenant").order_by("tenant_id")
    if tenant_slug:
        subjects = subjects.filter(tenant__slug=tenant_slug)
    subject = subjects.first()
    if subject is None:
        raise Http404("No such subject")
    return subject


def version_rows(subject: Subject) -> list[SubjectVersion]:
    """Return the subject's live versions, oldest first, without their schema text."""
    return list(
        SubjectVersion.objects.filter(subject=subject, deleted=False)
        .select_related("created_by")
        .only("version", "semantic_version", "change", "state", "created_at", "created_by__username", "schema_id")
        .order_by("version")
    )


def version_of(subject: Subject, number) -> SubjectVersion:
    """Return one live version ("latest" or a number) with its schema; 404 when absent."""
    versions = SubjectVersion.objects.select_related("schema", "created_by", "subject__tenant").filter(
        subject=subject, deleted=False
    )
    try:
        found = (
            versions.order_by("-version").first() if number in (None, "latest") else versions.get(version=int(number))
        )
    except (SubjectVersion.DoesNotExist, ValueError, OverflowError):
        found = None
    if found is None:
        raise Http404("No such version")
    return found


def source_html(schema: Schema) -> str:
    """Return the schema's highlighted text as one ordered list with a numbered anchor per line (cached)."""

    def render() -> str:
        lines = highlighted_lines(schema.text)
        items = "".join(
            f'<li id="L{n}"><a class="ln" href="#L{n}" aria-label="line {n}">{n}</a><code>{line}</code></li>'
            for n, line in enumerate(lines, start=1)
        )
        return f'<ol class="source highlight">{items}</ol>'

    return mark_safe(cache.get_or_set(f"ui:source:{schema.pk}", render, CACHE_SECONDS))


def compiled(version: SubjectVersion):
    """Return the compile of a stored version, own file first (cached by the compiler)."""
    references = selectors.schema_references(version.schema)
    dependencies = selectors.resolve_dependencies(tenant=version.subject.tenant, references=references)
    return compile_stored(
        subject=version.subject.name, text=version.schema.text, dependencies=dependencies, schema_id=version.schema_id
    )


def documentation(version: SubjectVersion) -> FileDoc | None:
    """Return the documentation of a version's file (cached per schema); None if it no longer compiles."""

    def build():
        try:
            files = compiled(version)
            own = files.file(root_path_for(version.subject.name))
        except (RegistryError, CompilationFailed):  # a schema whose references vanished still shows its text
            return None
        return document(own, [file for file in files.files if file.name != own.name])

    return cache.get_or_set(f"ui:doc:{version.schema_id}:{version.subject.name}", build, CACHE_SECONDS)


@dataclass(frozen=True)
class Link:
    label: str
    subject: str
    version: int
    tenant: str


def imports_of(version: SubjectVersion) -> list[Link]:
    """Return links to what the version imports, each in the tenant that holds it (its own, or a shared one)."""
    references = selectors.schema_references(version.schema)
    holders = (
        Subject.objects.filter(selectors.in_scope(version.subject.tenant), name__in={ref.subject for ref in references})
        .order_by("-tenant__shared")
        .values_list("name", "tenant__slug")
    )
    # Ordered shared first, so the tenant's own subject of a name overwrites a shared one.
    tenant_of = dict(holders)
    return [
        Link(
            label=ref.name,
            subject=ref.subject,
            version=ref.version,
            tenant=tenant_of.get(ref.subject, version.subject.tenant.slug),
        )
        for ref in references
    ]


def imported_by(*, viewer, version: SubjectVersion) -> list[Link]:
    """Return the live versions of readable subjects that reference this version."""
    schema_ids = selectors.referenced_by(
        tenant=version.subject.tenant, subject=version.subject.name, version=version.version
    )
    referencing = (
        SubjectVersion.objects.filter(
            schema_id__in=schema_ids, deleted=False, subject__in=access.readable_subjects(viewer)
        )
        .select_related("subject__tenant")
        .order_by("subject__name", "version")
    )
    return [
        Link(
            label=f"{row.subject.name} v{row.version}",
            subject=row.subject.name,
            version=row.version,
            tenant=row.subject.tenant.slug,
        )
        for row in referencing
    ]


def type_links(doc: FileDoc | None, version: SubjectVersion) -> dict[str, str]:
    """Map each type the file may name to a URL fragment or page: same file an anchor, else the declaring subject."""
    if doc is None:
        return {}
    by_import = {ref.name: ref for ref in selectors.schema_references(version.schema)}
    links = {}
    for name, path in doc.declared_in.items():
        if path == doc.path:
            links[name] = f"#{name}"
        elif path in by_import:
            ref = by_import[path]
            links[name] = f"/ui/subjects/{ref.subject}/versions/{ref.version}/#{name}"
    return links


def documentation_html(version: SubjectVersion) -> str:
    """Return the rendered documentation section of a version, cached per schema (large files have many rows)."""

    def render() -> str:
        doc = documentation(version)
        return render_to_string("ui/_documentation.html", {"doc": doc, "links": type_links(doc, version)})

    key = f"ui:dochtml:{version.schema_id}:{version.subject.name}"
    return mark_safe(cache.get_or_set(key, render, CACHE_SECONDS))


def subject_reviews(subject: Subject) -> list[ChangeRequest]:
    """Return the subject's ten latest change requests with their authors and comments."""
    return list(
        ChangeRequest.objects.filter(tenant=subject.tenant, subject_name=subject.name)
        .select_related("author")
        .prefetch_related("comments__author")
        .order_by("-pk")[:10]
    )


def subject_settings(subject: Subject) -> dict:
    return selectors.effective_config(tenant=subject.tenant, subject=subject.name)


# --- code generation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeLanguage:
    """One language on a subject page's code section."""

    name: str
    label: str
    # Why the registry cannot generate it here (a missing plugin and its package), or "".
    unavailable: str
    # The stored archive of this version's input set, when the viewer may download it.
    artifact: Artifact | None


def code_languages(*, viewer, version: SubjectVersion) -> list[CodeLanguage]:
    """Return every code generation language with the viewer's download of this version's archive, if stored.

    An archive is named by the content hash of its input set, so one generated through the API,
    the command line or another page is found here too; downloads follow the API's read checks.
    """
    subject = version.subject
    try:
        chosen = codegen_selectors.generation_input(
            tenant=subject.tenant,
            selection={"subject": subject.name, "version": str(version.version)},
            viewer=viewer,
        )
    except RegistryError:
        chosen = None  # an input that cannot be assembled has no archive; starting a job will say why
    rows = []
    for name in GENERATORS:
        generator = generator_for(name)
        try:
            generator.check_available()
            unavailable = ""
        except GeneratorUnavailable as missing:
            unavailable = str(missing)
        version_hash = archive_version(generator, chosen.inputs) if chosen and not unavailable else None
        rows.append((name, generator.label, unavailable, version_hash))
    stored = set(
        Artifact.objects.filter(version__in=[row[3] for row in rows if row[3]]).values_list("version", flat=True)
    )
    return [
        CodeLanguage(
            name, label, unavailable, _downloadable(viewer, name, version_hash) if version_hash in stored else None
        )
        for name, label, unavailable, version_hash in rows
    ]


def _downloadable(viewer, language: str, version: str) -> Artifact | None:
    try:
        return codegen_selectors.artifact_get(viewer=viewer, language=language, version=version)
    except RegistryError:
        return None


def codegen_refusal(*, viewer, subject: Subject) -> str:
    """Return why the viewer may not start code generation for the subject, or "" when they may."""
    if not viewer.is_authenticated:
        return "Log in with an account that holds the codegen role to generate code."
    if codegen_selectors.can_generate(viewer, tenant=subject.tenant, subject_names=[subject.name]):
        return ""
    return (
        "Generating code needs the codegen role for this subject; you can download archives that were already "
        "generated. Ask a platform admin for the role."
    )


# --- diff --------------------------------------------------------------------------------------


DIFF_CONTEXT = 8


@dataclass(frozen=True)
class Diff:
    table_html: str
    changed_lines: int
    findings: list[dict]
    bump: str
    level: str


def diff_table_html(rows: list[DiffRow], context: int = DIFF_CONTEXT) -> str:
    """Render the rows of a diff as table rows; unchanged runs longer than twice the context fold into one row."""
    changed = [index for index, row in enumerate(rows) if row.kind != "same"]
    shown = set()
    for index in changed:
        shown.update(range(max(0, index - context), min(len(rows), index + context + 1)))
    parts, folded = [], 0
    for index, row in enumerate(rows):
        if index not in shown and row.kind == "same":
            folded += 1
            continue
        if folded:
            parts.append(f'<tr class="diff-fold"><td colspan="4">{folded} unchanged lines</td></tr>')
            folded = 0
        marker = ' data-changed="true"' if row.kind != "same" else ""
        old_id = f' id="L{row.old_number}"' if row.old_number else ""
        new_id = f' id="R{row.new_number}"' if row.new_number else ""
        parts.append(
            f'<tr class="diff-{row.kind}"{marker}><td class="ln"{old_id}>{row.old_number or ""}</td>'
            f'<td class="old"><code>{row.old_html}</code></td><td class="ln"{new_id}>{row.new_number or ""}</td>'
            f'<td class="new"><code>{row.new_html}</code></td></tr>'
        )
    if folded:
        parts.append(f'<tr class="diff-fold"><td colspan="4">{folded} unchanged lines</td></tr>')
    return "".join(parts)


def diff(*, old: SubjectVersion, new: SubjectVersion) -> Diff:
    """Return the side-by-side diff of two versions with the engine's findings and the semantic bump (cached)."""
    config = subject_settings(new.subject)
    level = compatibility.latest_only_level(config["compatibilityLevel"])
    rule_set = config["compatibilityRules"]
    key = f"ui:diff:{old.schema_id}:{new.schema_id}:{new.subject.name}:{level}:{rule_set}"

    def build() -> Diff:
        rows = side_by_side(old.schema.text, new.schema.text)
        table = diff_table_html(rows)
        changed_lines = sum(row.kind != "same" for row in rows)
        try:
            old_set, new_set = compiled(old), compiled(new)
        except (RegistryError, CompilationFailed):  # the texts still diff when references vanished
            return Diff(table_html=table, changed_lines=changed_lines, findings=[], bump="unknown", level=level)
        checked = level if level != "NONE" else compatibility.BACKWARD
        check = compatibility.check_new_version(new_set, [old_set], level=checked, rule_set=rule_set)
        bump = semver.classify_change(old_set, new_set, breaks=check.breaks_latest)
        findings = [finding.as_dict() for finding in check.findings]
        return Diff(table_html=table, changed_lines=changed_lines, findings=findings, bump=bump, level=checked)

    return cache.get_or_set(key, build, CACHE_SECONDS)


# --- audit trail -------------------------------------------------------------------------------


def _content_types() -> dict[str, ContentType]:
    """The content types of a subject's history: the subject, its versions and its settings."""
    return ContentType.objects.get_for_models(Subject, SubjectVersion, SubjectConfig)


def subject_history(subject: Subject) -> list[dict]:
    """Return the audit entries of a subject, its versions and its settings, newest first."""
    types = _content_types()
    version_numbers = dict(SubjectVersion.objects.filter(subject=subject).values_list("pk", "version"))
    config_ids = SubjectConfig.objects.filter(tenant=subject.tenant, subject_name=subject.name).values_list(
        "pk", flat=True
    )
    entries = (
        LogEntry.objects.select_related("actor")
        .filter(
            Q(content_type=types[Subject], object_pk=str(subject.pk))
            | Q(content_type=types[SubjectVersion], object_pk__in=[str(pk) for pk in version_numbers])
            | Q(content_type=types[SubjectConfig], object_pk__in=[str(pk) for pk in config_ids])
        )
        .order_by("-timestamp", "-pk")
    )
    history = []
    for entry in entries:
        number = (
            version_numbers.get(int(entry.object_pk)) if entry.content_type_id == types[SubjectVersion].pk else None
        )
        history.append({"entry": entry, "version": number, "previous": number - 1 if number and number > 1 else None})
    return history


def require_auditor(viewer) -> None:
    """Let through only accounts holding the audit role somewhere; 404 for the others, as for any hidden page."""
    if not access.has_role(viewer, "audit"):
        raise Http404("Not an auditor")


def audit_entries(
    *, viewer, subject: str = "", tenant: str = "", actor: str = "", action: str = "", since=None, until=None
):
    """Return the audit entries the auditor may see, matching the filters, newest first (the auditors' view).

    An auditor sees the entries of the rows of the tenants it holds the role on (a role held everywhere: the tenants
    it reads); superusers see every entry.
    """
    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")
    audited = _audited_tenants(viewer)
    if audited is not None:
        entries = entries.filter(audit_scope.entries_of_tenants(audited))
    if subject:
        entries = entries.filter(object_repr__icontains=subject)
    if tenant:
        entries = entries.filter(audit_scope.entries_of_tenants(Tenant.objects.filter(slug=tenant)))
    if actor:
        entries = entries.filter(actor__username=actor)
    if action in ACTIONS:
        entries = entries.filter(action=ACTIONS[action])
    if since:
        entries = entries.filter(timestamp__date__gte=since)
    if until:
        entries = entries.filter(timestamp__date__lte=until)
    return entries


def _audited_tenants(viewer):
    """Return the tenants the auditor audits (`access.tenants_with_role`), or None for superusers: all of it."""
    if access.sees_every_tenant(viewer):
        return None
    return access.tenants_with_role(viewer, "audit")


def audit_row(entry: LogEntry) -> dict:
    """Return one audit entry as the flat record the exports carry."""
    return {
        "id": entry.pk,  # the number `verify_audit` names an entry by
        "timestamp": entry.timestamp.isoformat(),
        "actor": entry.actor.username if entry.actor else "",
        "action": entry.get_action_display(),
        "object_type": entry.content_type.model,
        "object": entry.object_repr,
        "changes": entry.changes_str if hasattr(entry, "changes_str") else str(entry.changes),
        "remote_addr": entry.remote_addr or "",
    }


# --- personal data inventory -------------------------------------------------------------------


def pii_inventory(*, viewer) -> list[dict]:
    """Return every field marked pii or classified in the latest active version of each readable subject."""
    latest = SubjectVersion.objects.filter(subject=OuterRef("subject_id"), deleted=False).order_by("-version")
    versions = (
        SubjectVersion.objects.filter(
            subject__in=access.readable_subjects(viewer), deleted=False, state=SubjectVersion.State.ACTIVE
        )
        .filter(pk=Subquery(latest.values("pk")[:1]))
        .filter(Q(schema__text__contains="registry.v1.pii") | Q(schema__text__contains="registry.v1.classification"))
        .select_related("schema", "subject__tenant", "created_by")
        .order_by("subject__tenant__slug", "subject__name")
    )
    owners = dict(
        SubjectVersion.objects.filter(subject__in=[v.subject_id for v in versions], version=1)
        .select_related("created_by")
        .values_list("subject_id", "created_by__username")
    )
    inventory = []
    for version in versions:
        doc = documentation(version)
        if doc is None:
            continue
        for message, field in doc.pii_fields():
            inventory.append(
                {
                    "tenant": version.subject.tenant.slug,
                    "subject": version.subject.name,
                    "version": version.version,
                    "message": message.full_name,
                    "field": field.name,
                    "pii": field.pii,
                    "classification": field.classification,
                    "owner": owners.get(version.subject_id) or "",
                }
            )
    return inventory
