"""Prepare a review: the diff, transitive compatibility, lint, semantic version and impact on referencing subjects.

Run by the Celery task `prepare_change_request` (in-process without a broker). It claims the
review with a conditional update, so a second run of the same task backs off.
"""

import difflib
import logging

from django.db.models import Q
from django.utils import timezone

from protoengine import compatibility, semver
from protoengine.compiler import CompilationFailed
from schemas_app import selectors, services
from schemas_app.models import ChangeRequest, SchemaReference, SubjectVersion, Tenant
from schemas_app.preparation import Reference, compile_stored

logger = logging.getLogger(__name__)


def change_request_prepare(*, review_id: int) -> bool:
    """Compute a review's report; return False when another run has it or it is not waiting."""
    waiting = Q(preparation__in=[ChangeRequest.Preparation.QUEUED, ChangeRequest.Preparation.FAILED])
    claimed = ChangeRequest.objects.filter(waiting, pk=review_id).update(
        preparation=ChangeRequest.Preparation.RUNNING, progress=0, preparation_error=""
    )
    if not claimed:
        return False
    change_request = ChangeRequest.objects.select_related("tenant").get(pk=review_id)
    try:
        report = _report(change_request)
    except Exception as error:  # a failed preparation is shown on the review and can be queued again
        logger.exception("Preparing review %s failed", review_id)
        ChangeRequest.objects.filter(pk=review_id).update(
            preparation=ChangeRequest.Preparation.FAILED, preparation_error=str(error)[:2000]
        )
        return True
    ChangeRequest.objects.filter(pk=review_id, preparation=ChangeRequest.Preparation.RUNNING).update(
        preparation=ChangeRequest.Preparation.READY, progress=100, prepared_at=timezone.now(), **report
    )
    return True


def _progress(review_id: int, percent: int) -> None:
    ChangeRequest.objects.filter(pk=review_id).update(progress=percent)


def _report(change_request: ChangeRequest) -> dict:
    tenant = change_request.tenant
    subject_name = change_request.subject_name
    config = selectors.effective_config(tenant=tenant, subject=subject_name)
    prepared = selectors.prepare_for_subject(
        tenant=tenant,
        subject=subject_name,
        config=config,
        schema=change_request.schema_text,
        references=[Reference(**reference) for reference in change_request.references],
        normalize=change_request.normalize,
        metadata=change_request.metadata,
        rule_set=change_request.rule_set,
    )
    previous = _live_versions(tenant, subject_name)
    base = previous[-1] if previous else None
    diff = unified_diff(
        base.schema.text if base else "",
        prepared.text,
        old_label=f"{subject_name} v{base.version}" if base else "(no version yet)",
        new_label=f"{subject_name} proposed",
    )
    _progress(change_request.pk, 10)

    files_of = selectors.VersionFiles(tenant)
    check = selectors.version_check(
        prepared=prepared,
        previous=previous,
        files_of=files_of,
        level=compatibility.transitive_level(config["compatibilityLevel"]),
        rule_set=config["compatibilityRules"],
    )
    findings = check.findings
    _progress(change_request.pk, 30)
    lint = services.lint_findings(prepared=prepared, lint_except=config["lintExcept"])
    _progress(change_request.pk, 50)
    if base is None:
        change, semantic_version = services.FIRST_VERSION_CHANGE, semver.next_version(None, semver.MAJOR)
    else:
        change = semver.classify_change(files_of(base), prepared.compiled, breaks=check.breaks_latest)
        semantic_version = semver.next_version(base.semantic_version, change)
    _progress(change_request.pk, 60)
    impact = impact_analysis(change_request=change_request, prepared=prepared)
    return {
        "diff": diff,
        "compatibility_findings": [finding.as_dict() for finding in findings],
        "lint_findings": lint,
        "change": change,
        "semantic_version": semantic_version,
        "impact": impact,
        "base_version": base.version if base else None,
    }


def _live_versions(tenant: Tenant, subject_name: str) -> list[SubjectVersion]:
    subject = selectors.Subject.objects.filter(tenant=tenant, name=subject_name).first()
    return selectors.live_versions(subject=subject) if subject else []


def unified_diff(old: str, new: str, *, old_label: str, new_label: str) -> str:
    """Return a unified diff of two schema texts, every line ending in a newline."""
    old_lines = [line if line.endswith("\n") else line + "\n" for line in old.splitlines(keepends=True)]
    new_lines = [line if line.endswith("\n") else line + "\n" for line in new.splitlines(keepends=True)]
    return "".join(difflib.unified_diff(old_lines, new_lines, fromfile=old_label, tofile=new_label))


def impact_analysis(*, change_request: ChangeRequest, prepared) -> list[dict]:
    """Compile every subject that references this one, directly or through others, against the proposed text.

    Each consumer's latest live version is compiled with the proposed file in place of the
    current one and checked against itself at its own compatibility level and rule set.
    """
    tenant = change_request.tenant
    import_names = {prepared.root_path}
    consumers = referencing_versions(tenant=tenant, subject_name=change_request.subject_name)
    results = []
    for done, (consumer, depth) in enumerate(consumers, start=1):
        results.append(_consumer_impact(tenant, consumer, depth, prepared, import_names, change_request.subject_name))
        _progress(change_request.pk, 60 + 40 * done // (len(consumers) + 1))
    return results


def referencing_versions(*, tenant: Tenant, subject_name: str) -> list[tuple[SubjectVersion, int]]:
    """Return the latest live version of each subject that imports this one, directly (depth 1) or transitively."""
    found: dict[str, tuple[SubjectVersion, int]] = {}
    frontier, depth = [subject_name], 0
    while frontier:
        depth += 1
        schema_ids = SchemaReference.objects.filter(subject__in=frontier).values_list("schema_id", flat=True)
        using = (
            SubjectVersion.objects.filter(subject__tenant=tenant, schema_id__in=schema_ids, deleted=False)
            .exclude(subject__name__in=[subject_name, *found])
            .values_list("subject__name", flat=True)
            .distinct()
        )
        frontier = []
        for name in sorted(set(using)):
            latest = selectors.latest_live_version(tenant=tenant, subject=name)
            if latest is not None:
                found[name] = (latest, depth)
                frontier.append(name)
    return list(found.values())


def _consumer_impact(tenant, consumer: SubjectVersion, depth: int, prepared, import_names, subject_name) -> dict:
    entry = {"subject": consumer.subject.name, "version": consumer.version, "depth": depth}
    references = selectors.schema_references(consumer.schema)
    current = selectors.resolve_dependencies(tenant=tenant, references=references)
    # The proposed file replaces the current one under every import path consumers use for it.
    names = import_names | set(SchemaReference.objects.filter(subject=subject_name).values_list("name", flat=True))
    proposed = {**prepared.dependencies, **current}
    for name in names:
        if name in proposed:
            proposed[name] = prepared.text
    config = selectors.effective_config(tenant=tenant, subject=consumer.subject.name)
    try:
        before = compile_stored(subject=consumer.subject.name, text=consumer.schema.text, dependencies=current)
        after = compile_stored(subject=consumer.subject.name, text=consumer.schema.text, dependencies=proposed)
    except CompilationFailed as error:
        entry.update(status="does-not-compile", findings=[finding.as_dict() for finding in error.errors])
        return entry
    level = compatibility.latest_only_level(config["compatibilityLevel"])
    findings = compatibility.check_compatibility(
        after.own_files, [before.own_files], level=level, rule_set=config["compatibilityRules"]
    )
    entry.update(status="breaks" if findings else "ok", findings=[finding.as_dict() for finding in findings])
    return entry
