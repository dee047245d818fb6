"""Celery tasks queued once a transaction commits, and queued again when the broker could not take them then.

A task is sent after the commit so that it reads what the transaction wrote. By then the request's work is done:
a broker that cannot take the task (down, or away longer than Celery's publish retries) must not turn a committed
request into an error, and must not lose the work. So the failure is logged, and the row the task works on stays
in its waiting state, from which `requeue_waiting_work` (Celery beat) sends its task again. A review's preparation
and a code generation job claim their row first, so one sent twice runs once; a notification sent twice may be
delivered twice (at least once, as after a lost worker: receivers tell by its X-Registry-Delivery id).
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# A row waiting longer than this is taken to have lost its task: queues are drained in seconds, not minutes.
WAITING_TOO_LONG = timedelta(minutes=10)


def queue_on_commit(task, *args) -> None:
    """Send `task(*args)` to Celery once the current transaction commits; a broker failure is logged, not raised."""
    transaction.on_commit(lambda: send(task, *args))


def send(task, *args) -> bool:
    """Send `task(*args)` now; return False (logged) when the broker could not take it."""
    try:
        task.delay(*args)
    except (KombuError, RedisError):
        logger.warning("Task %s%r not queued: the broker refused it; it is sent again later", task.name, args)
        return False
    return True


def requeue_waiting_work(*, older_than: timedelta = WAITING_TOO_LONG) -> int:
    """Send again the tasks of reviews, deliveries and code generation jobs still waiting after `older_than`.

    Return how many were sent. A delivery counts as waiting until its first attempt: one retried with backoff
    has a task of its own, scheduled.
    """
    from schemas_app.models import ChangeRequest, GenerationJob, NotificationDelivery
    from schemas_app.tasks import deliver_notification, generate_archive, prepare_change_request

    before = timezone.now() - older_than
    waiting = [
        (prepare_change_request, pk)
        for pk in ChangeRequest.objects.filter(
            status=ChangeRequest.Status.PENDING, preparation=ChangeRequest.Preparation.QUEUED, created_at__lte=before
        ).values_list("pk", flat=True)
    ]
    waiting += [
        (deliver_notification, pk)
        for pk in NotificationDelivery.objects.filter(
            status=NotificationDelivery.Status.PENDING, attempts=0, created_at__lte=before
        ).values_list("pk", flat=True)
    ]
    waiting += [
        (generate_archive, str(pk))
        for pk in GenerationJob.objects.filter(state=GenerationJob.State.QUEUED, created_at__lte=before).values_list(
            "pk", flat=True
        )
    ]
    return sum(send(task, pk) for task, pk in waiting)
