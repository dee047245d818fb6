"""Celery tasks of the registry app; each takes ids and is safe to run twice."""

from datetime import datetime

from celery import shared_task
from django.conf import settings

from schemas_app import git_history
from schemas_app.deprecation import deprecation_policy_apply
from schemas_app.notifications import attempt_delivery, give_up
from schemas_app.review_preparation import change_request_prepare


@shared_task(name="schemas_app.prepare_change_request")
def prepare_change_request(review_id: int) -> bool:
    """Compute a review's diff, compatibility, lint, semantic version and impact analysis."""
    return change_request_prepare(review_id=review_id)


@shared_task(name="schemas_app.apply_deprecation_policy")
def apply_deprecation_policy(now: str | None = None) -> dict:
    """Run by Celery beat: warn at grace end, disable at sunset. `now` (ISO 8601) pins the clock."""
    run = deprecation_policy_apply(now=datetime.fromisoformat(now) if now else None)
    return {"warned": run.warned, "disabled": run.disabled}


@shared_task(name="schemas_app.deliver_notification", bind=True, max_retries=None)
def deliver_notification(self, delivery_id: int) -> bool | None:
    """Deliver one notification; retry with exponential backoff, recording each attempt, then give up."""
    while True:
        delivered, attempts = attempt_delivery(delivery_id)
        if delivered is not False:
            return delivered
        if attempts >= settings.REGISTRY_WEBHOOK_ATTEMPTS:
            give_up(delivery_id)
            return False
        if not self.request.is_eager:
            raise self.retry(countdown=settings.REGISTRY_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempts - 1))
        # In-process (no broker) nothing would come back later: try again at once.


@shared_task(name="schemas_app.record_version_in_git")
def record_version_in_git(version_id: int) -> str | None:
    """Commit a registered version to the registry's git history."""
    return git_history.record_version(version_id)
