"""Celery tasks of the registry app; each takes ids and is safe to run twice."""

from datetime import datetime

from celery import shared_task

from schemas_app.deprecation import deprecation_policy_apply
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
