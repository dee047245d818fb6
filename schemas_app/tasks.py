"""Celery tasks of the registry app; each takes ids and is safe to run twice."""

from celery import shared_task

from schemas_app.review_preparation import change_request_prepare


@shared_task(name="schemas_app.prepare_change_request")
def prepare_change_request(review_id: int) -> bool:
    """Compute a review's diff, compatibility, lint, semantic version and impact analysis."""
    return change_request_prepare(review_id=review_id)
