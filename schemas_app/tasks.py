"""Celery tasks of the registry app; each takes ids and is safe to run twice."""

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError

from schemas_app import codegen_jobs, dispatch, git_history
from schemas_app.deprecation import deprecation_policy_apply
from schemas_app.notifications import attempt_delivery, give_up
from schemas_app.review_preparation import change_request_prepare


@shared_task(name="schemas_app.prepare_change_request")
def prepare_change_request(review_id: int) -> bool:
    """Compute a review's diff, compatibility, lint, semantic version and impact analysis."""
    return change_request_prepare(review_id=review_id)


@shared_task(name="schemas_app.apply_deprecation_policy")
def apply_deprecation_policy(now: str | None = None) -> dict:
    """Run by Celery beat: warn at grace end, disable at sunset. `now` (ISO 8601) pins the clock.

    `retry_later` names the versions the database gave up on (each logged as a warning); the next run takes them up.
    """
    run = deprecation_policy_apply(now=datetime.fromisoformat(now) if now else None)
    return {"warned": run.warned, "disabled": run.disabled, "retry_later": run.retry_later}


@shared_task(name="schemas_app.deliver_notification", bind=True, max_retries=None)
def deliver_notification(self, delivery_id: int) -> bool | None:
    """Deliver one notification; retry with exponential backoff, recording each attempt, then give up.

    A failure no retry mends (no signing secret) gives up at once.
    """
    while True:
        attempt = attempt_delivery(delivery_id)
        if attempt.delivered is not False:
            return attempt.delivered
        if not attempt.worth_retrying or attempt.attempts >= settings.REGISTRY_WEBHOOK_ATTEMPTS:
            give_up(delivery_id)
            return False
        if not self.request.is_eager:
            raise self.retry(countdown=settings.REGISTRY_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt.attempts - 1))
        # In-process (no broker) nothing would come back later: try again at once.


@shared_task(name="schemas_app.record_version_in_git")
def record_version_in_git(version_id: int) -> str | None:
    """Commit a registered version to the registry's git history."""
    return git_history.record_version(version_id)


@shared_task(name="schemas_app.catch_up_git_history")
def catch_up_git_history() -> int:
    """Run by Celery beat: commit the versions the git history lacks (their commit's writer was killed)."""
    return git_history.catch_up_history()


# Errors worth another try: the database or the archive storage was briefly unreachable.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, DatabaseError, OSError)


@shared_task(
    name="schemas_app.generate_archive", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None
)
def generate_archive(self, job_id: str) -> None:
    """Generate the archive of one GenerationJob; retry transient failures with exponential backoff."""
    try:
        outcome = codegen_jobs.generation_run(job_id=job_id)
    except TRANSIENT_ERRORS as error:
        if self.request.retries >= settings.CODEGEN_MAX_RETRIES:
            codegen_jobs.generation_give_up(job_id=job_id, error=error)
            return
        codegen_jobs.generation_requeue(job_id=job_id)
        raise self.retry(exc=error, countdown=min(2**self.request.retries, 60)) from error
    if outcome is codegen_jobs.RunOutcome.BUSY:
        # A redelivered message met a job that still looks alive; take it over if its worker stops reporting.
        raise self.retry(countdown=settings.CODEGEN_JOB_LEASE_SECONDS)


@shared_task(name="schemas_app.requeue_waiting_work")
def requeue_waiting_work() -> int:
    """Run by Celery beat: send again the tasks a broker failure kept from being queued (schemas_app.dispatch)."""
    return dispatch.requeue_waiting_work()


@shared_task(name="schemas_app.prune_archives", acks_late=True)
def prune_archives() -> int:
    """Delete archives unused for CODEGEN_RETENTION_DAYS."""
    return codegen_jobs.artifacts_prune()
