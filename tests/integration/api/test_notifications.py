"""Subscribers hear of changes: signed webhooks to a receiver this test runs, retried when it fails, and e-mail."""

import hashlib
import hmac
import json

import pytest
from django.core import mail

from schemas_app.models import NotificationDelivery, Subscription
from tests.integration.api.helpers import TICK_V1, TICK_V2_CHANGES_TYPE, post, put, register
from tests.local_servers import Listener, Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fast_retries(settings):
    settings.REGISTRY_WEBHOOK_BACKOFF_SECONDS = 0
    settings.REGISTRY_WEBHOOK_ATTEMPTS = 4


def subscribe(api, **body) -> dict:
    response = post(api, "/subscriptions", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_breaking_proposal_reaches_the_webhook_at_once_with_a_correct_signature(api, fast_retries):
    with Receiver() as receiver:
        subscription = subscribe(api, subjectPrefix="ticks-", webhookUrl=receiver.url)
        register(api, "ticks-value", TICK_V1)
        review_id = register(api, "ticks-value", TICK_V2_CHANGES_TYPE).json()["review_id"]
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    expected = "sha256=" + hmac.new(subscription["webhookSecret"].encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Registry-Signature"], expected)
    payload = json.loads(body)
    assert payload["event"] == "change.proposed" and payload["reviewId"] == review_id and payload["breaking"]
    assert payload["subject"] == "ticks-value" and payload["noticeEndsAt"]
    assert headers["X-Registry-Event"] == "change.proposed"


def test_a_failing_receiver_is_retried_and_each_attempt_is_recorded(api, fast_retries):
    with Receiver(statuses=[500, 503]) as receiver:
        subscription = subscribe(api, webhookUrl=receiver.url, events=["change.proposed"])
        register(api, "ticks-value", TICK_V1)
        register(api, "ticks-value", TICK_V2_CHANGES_TYPE)
    assert len(receiver.received) == 3
    deliveries = api.get(f"/subscriptions/{subscription['id']}/deliveries").json()
    assert [delivery["status"] for delivery in deliveries] == ["delivered"]
    assert [attempt["statusCode"] for attempt in deliveries[0]["attempts"]] == [500, 503, 200]


def test_a_receiver_that_keeps_failing_is_given_up_after_the_last_attempt(api, fast_retries):
    with Receiver(statuses=[500] * 10) as receiver:
        subscribe(api, webhookUrl=receiver.url)
        register(api, "ticks-value", TICK_V1)
        register(api, "ticks-value", TICK_V2_CHANGES_TYPE)
    assert len(receiver.received) == 4
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 4 and delivery.attempt_log.count() == 4


def test_subscribers_hear_of_approval_and_rejection_by_email(api, admin, fast_retries):
    subscribe(api, subjectPrefix="ticks", email="team@example.org", events=["change.approved", "change.rejected"])
    assert put(api, "/config", {"noticeHours": 0}).status_code == 200
    register(api, "ticks-value", TICK_V1)
    review_id = register(api, "ticks-value", TICK_V2_CHANGES_TYPE).json()["review_id"]
    mail.outbox.clear()
    assert admin.post(f"/reviews/{review_id}/approve", {}, format="json").status_code == 200
    assert [message.to for message in mail.outbox] == [["team@example.org"]]
    assert "change.approved" in mail.outbox[0].subject and '"version": 2' in mail.outbox[0].body


@pytest.mark.parametrize("url", ["ftp://hooks.example.org/registry", "ftps://hooks.example.org/registry"])
def test_a_webhook_is_an_http_or_https_address_only(api, url):
    response = post(api, "/subscriptions", {"webhookUrl": url})
    assert response.status_code == 400 and "not a valid http or https URL" in response.json()["message"]
    assert not Subscription.objects.exists()


def test_subscriptions_are_private_to_their_owner(api, outsider_client):
    subscription = subscribe(api, email="team@example.org")
    assert outsider_client.get(f"/subscriptions/{subscription['id']}").status_code == 404
    assert outsider_client.get("/subscriptions").json() == []


def signature_of(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_webhook_without_a_secret_is_not_sent_nor_retried_and_the_log_says_how_to_get_one(api, fast_retries, caplog):
    with Receiver() as receiver:
        subscription = subscribe(api, webhookUrl=receiver.url)
        # As a subscription added in the admin before it went through the services: no secret.
        Subscription.objects.filter(pk=subscription["id"]).update(webhook_secret="")
        register(api, "ticks-value", TICK_V1)
        register(api, "ticks-value", TICK_V2_CHANGES_TYPE)
    assert receiver.received == []
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 1  # fast_retries allows 4
    (attempt,) = delivery.attempt_log.all()
    assert "no signing secret" in attempt.error and f"POST /subscriptions/{subscription['id']}/rotate" in attempt.error
    assert f"POST /subscriptions/{subscription['id']}/rotate" in caplog.text


def test_a_webhook_stored_with_another_scheme_is_not_fetched_nor_retried(api, fast_retries):
    subscription = subscribe(api, webhookUrl="https://hooks.example.org/registry")
    # As one stored before only http and https were accepted; port 9 (discard) answers nothing here.
    Subscription.objects.filter(pk=subscription["id"]).update(webhook_url="ftp://127.0.0.1:9/registry")
    register(api, "ticks-value", TICK_V1)
    register(api, "ticks-value", TICK_V2_CHANGES_TYPE)
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 1  # fast_retries allows 4
    assert "is not an http or https address" in delivery.attempt_log.get().error


@pytest.mark.parametrize("status", [302, 308])
def test_a_receiver_that_redirects_fails_the_delivery_and_nothing_goes_where_it_points(api, fast_retries, status):
    with Receiver() as elsewhere, Receiver(statuses=[status] * 10, location=elsewhere.url) as receiver:
        subscription = subscribe(api, webhookUrl=receiver.url)
        register(api, "ticks-value", TICK_V1)
        register(api, "ticks-value", TICK_V2_CHANGES_TYPE)
    assert elsewhere.received == []  # neither the body nor its signature
    assert len(receiver.received) == 4  # retried as any other failing answer
    (delivery,) = api.get(f"/subscriptions/{subscription['id']}/deliveries").json()
    assert delivery["status"] == "failed"
    assert [attempt["statusCode"] for attempt in delivery["attempts"]] == [status] * 4
    assert f"the receiver redirected to {elsewhere.url!r}" in delivery["attempts"][0]["error"]


def test_a_receiver_cannot_send_a_delivery_to_an_ftp_address(api, fast_retries, settings):
    settings.REGISTRY_WEBHOOK_TIMEOUT = 1.0
    with Listener() as ftp, Receiver(statuses=[302] * 10, location=f"ftp://127.0.0.1:{ftp.port}/registry") as receiver:
        subscribe(api, webhookUrl=receiver.url)
        register(api, "ticks-value", TICK_V1)
        register(api, "ticks-value", TICK_V2_CHANGES_TYPE)
    assert ftp.connections == 0
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == "failed"
    assert f"redirected to 'ftp://127.0.0.1:{ftp.port}/registry'" in delivery.attempt_log.first().error


def test_rotating_a_webhooks_secret_shows_the_new_one_once_and_signs_with_it(api, outsider_client, fast_retries):
    with Receiver() as receiver:
        subscription = subscribe(api, webhookUrl=receiver.url)
        Subscription.objects.filter(pk=subscription["id"]).update(webhook_secret="")
        assert post(outsider_client, f"/subscriptions/{subscription['id']}/rotate", {}).status_code == 404
        rotated = post(api, f"/subscriptions/{subscription['id']}/rotate", {})
        register(api, "ticks-value", TICK_V1)
        register(api, "ticks-value", TICK_V2_CHANGES_TYPE)
    secret = rotated.json()["webhookSecret"]
    assert rotated.status_code == 200 and len(secret) == 64
    assert "webhookSecret" not in api.get(f"/subscriptions/{subscription['id']}").json()
    (headers, body), *_ = receiver.received
    assert hmac.compare_digest(headers["X-Registry-Signature"], signature_of(secret, body))


def test_an_email_subscription_has_no_secret_to_rotate(api):
    subscription = subscribe(api, email="team@example.org")
    assert post(api, f"/subscriptions/{subscription['id']}/rotate", {}).status_code == 422
