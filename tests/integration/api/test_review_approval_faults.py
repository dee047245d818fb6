"""Approving a review while other writers hold the subject or the broker is gone: it commits, or fails cleanly.

A registration of the subject holds the subject's row lock while it seals its audit entries; an approval that
waits for that lock must not be holding the audit chain's head meanwhile. A transaction that cannot finish
answers 503 with a code to retry on, never 500, and leaves the review as it was.
"""

from datetime import timedelta

import pytest

from registry.celery import app
from schemas_app import dispatch, services
from schemas_app.models import Approval, ChangeRequest, NotificationDelivery, Subject
from schemas_app.notifications import subscription_create
from tests.integration.api.helpers import TICK_V1, TICK_V2_CHANGES_TYPE, put, register
from tests.integration.celery_workers import Broker, forget_connections
from tests.integration.lock_waits import LockHolder, after_a_request_waits, while_held_by, while_locked

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def review_id(api) -> int:
    """A breaking change of ticks-value, prepared and waiting for review (no notice period)."""
    assert put(api, "/config", {"noticeHours": 0}).status_code == 200
    register(api, "ticks-value", TICK_V1)
    response = register(api, "ticks-value", TICK_V2_CHANGES_TYPE)
    assert response.status_code == 202, response.content
    return response.json()["review_id"]


def lock_the_subject():
    Subject.objects.select_for_update().get(name="ticks-value")


def test_an_approval_waiting_for_a_registration_of_its_subject_is_approved_after_it(review_id, admin, owner):
    def seal_an_entry():  # as a registration of the subject does while it holds the subject
        services.config_update(
            tenant=Subject.objects.get(name="ticks-value").tenant,
            subject_name="orders-value",
            changes={"compatibility": "FULL"},
            acting_user=owner,
        )

    registration = LockHolder(
        lock_the_subject, until=after_a_request_waits(seal_an_entry, never="the approval never waited for the subject")
    )
    response = while_held_by(registration, lambda: admin.post(f"/reviews/{review_id}/approve", {}, format="json"))
    assert response.status_code == 200, response.content
    assert ChangeRequest.objects.get(pk=review_id).status == ChangeRequest.Status.APPROVED


def test_an_approval_that_cannot_get_its_locks_answers_503_and_changes_nothing(
    review_id, admin, owner, short_lock_waits
):
    response = while_locked(lock_the_subject, lambda: admin.post(f"/reviews/{review_id}/approve", {}, format="json"))
    assert response.status_code == 503, response.content
    assert response.json()["error_code"] == 50301 and response["Retry-After"]
    assert ChangeRequest.objects.get(pk=review_id).status == ChangeRequest.Status.PENDING
    assert not Approval.objects.exists()
    assert admin.post(f"/reviews/{review_id}/approve", {}, format="json").status_code == 200


@pytest.fixture
def broker_refusing(review_id):
    """Celery sends to a port nobody listens on (connection refused), as while the broker is down.

    Taken after the review was prepared (in-process, without a broker), so only the approval meets it.
    """
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    forget_connections()
    app.set_current()
    app.conf.update(broker_url="redis://127.0.0.1:1/0", task_always_eager=False)
    yield
    app.conf.update(saved)
    forget_connections()


def test_an_approval_whose_notification_the_broker_refuses_is_approved_and_the_notification_sent_later(
    review_id, admin, owner, broker_refusing
):
    tenant = ChangeRequest.objects.get(pk=review_id).tenant
    subscription_create(tenant=tenant, webhook_url="https://hooks.example.org/registry", acting_user=owner)
    response = admin.post(f"/reviews/{review_id}/approve", {}, format="json")
    assert response.status_code == 200, response.content
    assert ChangeRequest.objects.get(pk=review_id).status == ChangeRequest.Status.APPROVED
    delivery = NotificationDelivery.objects.get(event="change.approved")
    assert delivery.status == NotificationDelivery.Status.PENDING and delivery.attempts == 0
    broker = Broker()
    with broker.sending():  # the broker is back
        assert dispatch.requeue_waiting_work() == 0  # not yet waiting too long: its task may be on its way
        assert dispatch.requeue_waiting_work(older_than=timedelta(0)) == 1
        assert broker.depth("notifications") == 1
