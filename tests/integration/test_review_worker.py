"""A real Celery worker on a Redis broker prepares reviews, and approval waits for it."""

import os
import time

import pytest
from celery import Celery, current_app
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.auth.models import Permission

import schemas_app.tasks  # noqa: F401  (registers the shared tasks)
from schemas_app.models import ChangeRequest
from tests.conftest_users import client_of
from tests.integration.api.helpers import TICK_V1, TICK_V2_CHANGES_TYPE, put, register
from tests.integration.celery_workers import Broker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def celery_worker():
    """Run a worker thread on the registry's queues under a Redis key prefix of this test's own.

    A thread, not a `celery worker` process (tests.integration.celery_workers): the tests change settings
    in this process that the worker must read. A Celery app of its own is made current for the test, so nothing
    cached by the project's app (eager mode, connections) leaks in, and tasks queued by the code under test go to
    it; it takes the project's routes and queues, so a review's preparation and a webhook travel the queues they
    do in production.
    """
    broker = Broker()
    worker_app = Celery(f"registry-test-{os.getpid()}", set_as_current=False)
    worker_app.conf.update(
        broker_url=broker.url,
        broker_transport_options={"global_keyprefix": broker.key_prefix},
        result_backend=None,
        task_always_eager=False,
        task_routes=settings.CELERY_TASK_ROUTES,
        task_queues=settings.CELERY_TASK_QUEUES,
        task_serializer="json",
        accept_content=["json"],
        worker_enable_remote_control=False,
        broker_connection_retry_on_startup=True,
    )
    project_app = current_app._get_current_object()
    worker_app.set_current()
    try:
        with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield broker.key_prefix
    finally:
        project_app.set_current()
        worker_app.close()
        broker.forget()  # tasks a failed run left behind


def wait_until_prepared(review_id: int, timeout: float = 30) -> ChangeRequest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        change_request = ChangeRequest.objects.get(pk=review_id)
        if change_request.preparation in ("ready", "failed"):
            return change_request
        time.sleep(0.1)
    raise AssertionError(f"review {review_id} was not prepared within {timeout} s")


def test_a_worker_prepares_the_review_and_then_it_can_be_approved(api, django_user_model, celery_worker):
    assert put(api, "/config", {"noticeHours": 0}).status_code == 200
    register(api, "ticks-value", TICK_V1)
    review_id = register(api, "ticks-value", TICK_V2_CHANGES_TYPE).json()["review_id"]

    prepared = wait_until_prepared(review_id)
    assert prepared.preparation == "ready" and prepared.progress == 100
    assert prepared.semantic_version == "2.0.0" and "+  float bid = 2;" in prepared.diff

    reviewer = django_user_model.objects.create_user("reviewer", "reviewer@example.org", "x")
    reviewer.user_permissions.add(Permission.objects.get(codename="approve_changes", content_type__model="tenant"))
    assert client_of(reviewer).post(f"/reviews/{review_id}/approve", {}, format="json").json()["status"] == "APPROVED"


def test_a_worker_retries_a_failing_webhook_with_backoff_until_it_is_delivered(api, settings, celery_worker):
    from schemas_app.models import NotificationDelivery
    from tests.integration.api.test_notifications import Receiver

    settings.REGISTRY_WEBHOOK_BACKOFF_SECONDS = 0
    with Receiver(statuses=[500, 502]) as receiver:
        assert api.post("/subscriptions", {"webhookUrl": receiver.url}, format="json").status_code == 201
        register(api, "ticks-value", TICK_V1)
        register(api, "ticks-value", TICK_V2_CHANGES_TYPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not NotificationDelivery.objects.filter(status="delivered").exists():
            time.sleep(0.1)
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert [attempt.status_code for attempt in delivery.attempt_log.all()] == [500, 502, 200]
    assert len(receiver.received) == 3
