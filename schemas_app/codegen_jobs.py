"""Writes of code generation: start a job (or answer from the cache), run it in a worker, prune old archives."""

import enum
import errno
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from codegen.archives import Archive, InputSet, archive_version, build_archive
from codegen.generators import GENERATORS, GenerationError, Generator, GeneratorUnavailable, generator_for
from protoengine.compiler import CompilationFailed, parse_protoc_messages
from registry import metrics
from schemas_app import codegen_selectors as selectors
from schemas_app.auditing import audited
from schemas_app.codegen_selectors import can_generate
from schemas_app.dispatch import queue_on_commit
from schemas_app.errors import Forbidden, LanguageNotFound, LanguageUnavailable
from schemas_app.models import Artifact, GenerationJob, Tenant

logger = logging.getLogger(__name__)

# A running job reports progress (and so renews its lease) at most this often.
HEARTBEAT_SECONDS = 0.5

# The storage has no room left: retrying makes none, so the job fails at once and says so.
STORAGE_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


@dataclass(frozen=True)
class GenerationStart:
    """What POST /generate/{language} answers: the job, and whether its archive was already stored."""

    job: GenerationJob
    cached: bool


def available_generator(language: str) -> Generator:
    """Return the language's generator; 404 for an unknown one, 503 naming the package when a plugin is missing."""
    if language not in GENERATORS:
        raise LanguageNotFound(language, ", ".join(sorted(GENERATORS)))
    generator = generator_for(language)
    try:
        generator.check_available()
    except GeneratorUnavailable as missing:
        raise LanguageUnavailable(str(missing)) from None
    return generator


def archive_storage():
    return storages["codegen"]


@audited
def generation_start(*, tenant: Tenant, language: str, selection: dict, acting_user) -> GenerationStart:
    """Start generating `language` code for a selection, or answer at once when its archive is stored.

    The job pins the input set (every text by import path), so the worker generates
    exactly what was asked even if newer versions are registered meanwhile. One transaction (`audited`): one
    the database gave up on (the stored archive's row held past the lock timeout, say) answers 503 with
    Retry-After, and the same request may be sent again.
    """
    generator = available_generator(language)
    chosen = selectors.generation_input(tenant=tenant, selection=selection, viewer=acting_user)
    if not can_generate(acting_user, tenant=tenant, subject_names=chosen.root_subjects):
        raise Forbidden("Starting code generation needs the codegen role for every chosen subject.")
    version = archive_version(generator, chosen.inputs)
    now = timezone.now()
    fields = {
        "tenant": tenant,
        "language": language,
        "requested_by": acting_user if acting_user is not None and acting_user.is_authenticated else None,
        "selection": {**selection, "resolved": list(chosen.pinned_roots)},
        "subjects": list(chosen.subjects),
        "version": version,
    }
    artifact = Artifact.objects.filter(version=version).first()
    if artifact is not None:
        Artifact.objects.filter(pk=artifact.pk).update(last_used_at=now)
        job = GenerationJob.objects.create(
            **fields,
            artifact=artifact,
            state=GenerationJob.State.SUCCEEDED,
            progress_done=artifact.file_count,
            progress_total=artifact.file_count,
            started_at=now,
            finished_at=now,
        )
        return GenerationStart(job=job, cached=True)
    active = GenerationJob.objects.filter(
        version=version,
        tenant=tenant,
        state__in=(GenerationJob.State.QUEUED, GenerationJob.State.RUNNING),
    ).first()
    if active is not None:
        return GenerationStart(job=active, cached=False)
    job = GenerationJob.objects.create(**fields, sources=dict(chosen.inputs.sources), roots=list(chosen.inputs.roots))
    from schemas_app.tasks import generate_archive

    queue_on_commit(generate_archive, str(job.pk))
    return GenerationStart(job=job, cached=False)


def generation_claim(*, job_id) -> GenerationJob | None:
    """Claim a queued job, or a running one whose worker stopped reporting; None when another worker has it."""
    now = timezone.now()
    abandoned_before = now - timedelta(seconds=settings.CODEGEN_JOB_LEASE_SECONDS)
    claimed = (
        GenerationJob.objects.filter(pk=job_id)
        .filter(
            Q(state=GenerationJob.State.QUEUED)
            | Q(state=GenerationJob.State.RUNNING, heartbeat_at__lt=abandoned_before)
        )
        .update(
            state=GenerationJob.State.RUNNING,
            started_at=Coalesce(F("started_at"), now),
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        )
    )
    return GenerationJob.objects.get(pk=job_id) if claimed else None


class RunOutcome(enum.Enum):
    DONE = "done"
    # Another worker holds the job and its lease is fresh: look again once the lease could have lapsed.
    BUSY = "busy"


def generation_run(*, job_id) -> RunOutcome:
    """Run a job in a worker: claim it, reuse or build its archive, store it, and record how it went.

    Safe to run twice and after a killed worker: the claim lets one worker in, an
    archive is stored under a name of its own and only an Artifact row (created once
    both files are complete) makes it downloadable, and the content hash decides
    whether generating is needed at all. Transient errors (database, storage) propagate
    so that the task retries; generation errors fail the job with protoc's message.
    """
    job = generation_claim(job_id=job_id)
    if job is None:
        return RunOutcome.BUSY if _still_running(job_id) else RunOutcome.DONE
    if _lost_too_often(job):
        _fail(job, f"Gave up after {job.attempts - 1} attempts: the worker running the job stopped each time.", [])
        return RunOutcome.DONE
    artifact = selectors.artifact_by_version(version=job.version)
    if artifact is None:
        try:
            archive = build_archive(
                generator_for(job.language),
                InputSet(sources=job.sources, roots=tuple(job.roots)),
                on_progress=_progress_reporter(job.pk),
            )
        except CompilationFailed as failure:
            _fail(job, "The input does not compile.", [_location(finding) for finding in failure.errors])
            return RunOutcome.DONE
        except GenerationError as error:
            _fail(job, str(error), _details_from_protoc(str(error)))
            return RunOutcome.DONE
        if archive.version != job.version:
            # The worker's plugins differ from the web server's: store under what was asked, say so in the log.
            logger.warning("Job %s: the worker's tools give version %s, not %s", job.pk, archive.version, job.version)
        try:
            artifact = _store(job.language, job.version, archive)
        except OSError as error:
            if error.errno not in STORAGE_FULL_ERRNOS:
                raise
            logger.error("Job %s: the archive storage is full: %s", job.pk, error)
            _fail(job, _storage_full_message(error, archive), [])
            return RunOutcome.DONE
    finished_at = timezone.now()
    GenerationJob.objects.filter(pk=job.pk).update(
        state=GenerationJob.State.SUCCEEDED,
        artifact=artifact,
        progress_done=artifact.file_count,
        progress_total=artifact.file_count,
        finished_at=finished_at,
        error=None,
    )
    _record_finished(job, succeeded=True, finished_at=finished_at)
    return RunOutcome.DONE


def _lost_too_often(job: GenerationJob) -> bool:
    # Every claim counts; a job whose worker dies under it each time (out of memory) is not handed back forever.
    return job.attempts > settings.CODEGEN_MAX_RETRIES + 1


def _storage_full_message(error: OSError, archive: Archive) -> str:
    return (
        f"The archive storage is full ({errno.errorcode[error.errno]}: {error.strerror}): no room for the "
        f"{len(archive.zip_bytes) + len(archive.tar_bytes)} bytes of this archive. Free space in the storage "
        "(CODEGEN_ARCHIVE_DIR) or shorten CODEGEN_RETENTION_DAYS, then ask again."
    )


def _still_running(job_id) -> bool:
    return GenerationJob.objects.filter(pk=job_id, state=GenerationJob.State.RUNNING).exists()


def generation_requeue(*, job_id) -> None:
    """Hand a running job back to the queue before a retry, so that the retry may claim it again."""
    GenerationJob.objects.filter(pk=job_id, state=GenerationJob.State.RUNNING).update(state=GenerationJob.State.QUEUED)


def generation_give_up(*, job_id, error: Exception) -> None:
    """Fail a job whose transient errors outlasted its retries."""
    job = GenerationJob.objects.filter(pk=job_id).first()
    if job is not None and job.state != GenerationJob.State.SUCCEEDED:
        _fail(job, f"Gave up after {job.attempts} attempts: {error}", [])


def _store(language: str, version: str, archive: Archive) -> Artifact:
    """Write both files under names of this attempt's own, then commit them by creating the Artifact row."""
    storage = archive_storage()
    stem = f"{language}/{version[:2]}/{version}-{uuid.uuid4().hex[:12]}"
    try:
        zip_name = storage.save(f"{stem}.zip", ContentFile(archive.zip_bytes))
        tar_name = storage.save(f"{stem}.tar.gz", ContentFile(archive.tar_bytes))
    except OSError:
        # A half-written file is never served but takes room (on a full disk, the room others need).
        storage.delete(f"{stem}.zip")
        storage.delete(f"{stem}.tar.gz")
        raise
    artifact, created = Artifact.objects.get_or_create(
        version=version,
        defaults={
            "language": language,
            "zip_name": zip_name,
            "tar_name": tar_name,
            "size": len(archive.zip_bytes),
            "file_count": archive.file_count,
        },
    )
    if not created:
        # Another worker committed the same archive first; ours is a duplicate.
        storage.delete(zip_name)
        storage.delete(tar_name)
    return artifact


def _progress_reporter(job_id):
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= HEARTBEAT_SECONDS:
            last[0] = now
            GenerationJob.objects.filter(pk=job_id).update(
                progress_done=done, progress_total=total, heartbeat_at=timezone.now()
            )

    return report


def _fail(job: GenerationJob, message: str, details: list[dict]) -> None:
    finished_at = timezone.now()
    GenerationJob.objects.filter(pk=job.pk).update(
        state=GenerationJob.State.FAILED,
        error={"message": message, "details": details},
        finished_at=finished_at,
    )
    _record_finished(job, succeeded=False, finished_at=finished_at)


def _record_finished(job: GenerationJob, *, succeeded: bool, finished_at) -> None:
    """Count a job that ran in a worker; answers from the cache ran nothing and are not counted."""
    seconds = (finished_at - job.started_at).total_seconds() if job.started_at else 0.0
    metrics.record_codegen_job(language=job.language, succeeded=succeeded, seconds=seconds)


def _details_from_protoc(message: str) -> list[dict]:
    return [_location(finding) for finding in parse_protoc_messages(message) if finding.line]


def _location(finding) -> dict:
    return {"file": finding.path, "line": finding.line, "column": finding.column, "message": finding.message}


def artifact_touch(*, artifact: Artifact) -> None:
    """Record a download, so that retention counts from the last use."""
    Artifact.objects.filter(pk=artifact.pk).update(last_used_at=timezone.now())


def artifacts_prune(*, now=None) -> int:
    """Delete archives unused for CODEGEN_RETENTION_DAYS (none when it is 0); return how many went."""
    days = settings.CODEGEN_RETENTION_DAYS
    if days == 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    storage = archive_storage()
    pruned = 0
    for artifact in Artifact.objects.filter(last_used_at__lt=cutoff):
        # The row goes first: once it is gone nothing serves the files, whatever happens to them next.
        with transaction.atomic():
            deleted, _ = Artifact.objects.filter(pk=artifact.pk, last_used_at__lt=cutoff).delete()
        if deleted:
            storage.delete(artifact.zip_name)
            storage.delete(artifact.tar_name)
            pruned += 1
    return pruned
