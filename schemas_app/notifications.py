"""Notifications to subscribers: signed webhooks and e-mail, delivered by a Celery task with retries.

`notify()` runs inside the transaction of the change it reports and queues one delivery per
subscription and channel once that transaction commits. Each attempt is recorded.
"""

import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator
from django.db.models import Q
from django.utils import timezone

from schemas_app.auditing import audited
from schemas_app.dispatch import queue_on_commit
from schemas_app.errors import BadRequest, Forbidden, InvalidRequest, NotFound
from schemas_app.models import DeliveryAttempt, NotificationDelivery, Subscription, Tenant
from schemas_app.redirects import RedirectsRefused

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Registry-Signature"

# A webhook is an HTTP POST: urllib would also open ftp:// and file:// addresses, which are no receivers.
WEBHOOK_SCHEMES = ("http", "https")


class Undeliverable(Exception):
    """A failure no later attempt mends until someone changes the subscription: the delivery fails at once."""


class UnsignedWebhook(Undeliverable):
    """A webhook subscription without a signing secret: its deliveries would be forgeable, so none is sent."""


class NotAnHttpWebhook(Undeliverable):
    """A webhook address stored before only http and https were accepted: urllib would fetch an ftp:// one."""


class WebhookRedirectsRefused(RedirectsRefused):
    """A webhook's address is configured explicitly: a redirect fails the attempt instead of taking the signature on."""

    answerer = "the receiver"
    advice = "webhooks follow no redirects, so give the subscription the address that takes deliveries"


_webhook_opener = urllib.request.build_opener(WebhookRedirectsRefused)


def sign(secret: str, body: bytes) -> str:
    """Return the signature header value of a body: "sha256=" and the hex HMAC-SHA256 under the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def subscription_validated(*, webhook_url: str, email: str, events) -> None:
    """Raise BadRequest unless the webhook address, e-mail and events make a subscription, as the API asks."""
    if not isinstance(events, list | tuple) or not all(isinstance(event, str) for event in events):
        raise BadRequest(f"events is a list of event names; choose from {list(Subscription.EVENTS)}")
    unknown = sorted(set(events) - set(Subscription.EVENTS))
    if unknown:
        raise BadRequest(f"Unknown events {unknown}; choose from {list(Subscription.EVENTS)}")
    if not webhook_url and not email:
        raise BadRequest("A subscription needs a webhookUrl, an email, or both")
    if webhook_url:
        try:
            URLValidator(schemes=WEBHOOK_SCHEMES)(webhook_url)
        except ValidationError:
            raise BadRequest(f"webhookUrl {webhook_url!r} is not a valid http or https URL") from None


@audited
def subscription_create(
    *,
    tenant: Tenant,
    subject_prefix: str = "",
    webhook_url: str = "",
    email: str = "",
    events: list[str] = (),
    active: bool = True,
    owner=None,
    acting_user,
) -> Subscription:
    """Subscribe to changes of subjects starting with a prefix; a webhook gets a new signing secret.

    The subscription is the acting user's; only a superuser makes one for another `owner`.
    """
    subscription_validated(webhook_url=webhook_url, email=email, events=events)
    owner = owner or acting_user
    if owner.pk != acting_user.pk and not acting_user.is_superuser:
        raise Forbidden("Only a superuser subscribes another account")
    return Subscription.objects.create(
        tenant=tenant,
        owner=owner,
        subject_prefix=subject_prefix,
        webhook_url=webhook_url,
        webhook_secret=new_webhook_secret() if webhook_url else "",
        email=email,
        events=list(events),
        active=active,
    )


@audited
def subscription_update(
    *,
    tenant: Tenant,
    subscription_id,
    subject_prefix: str,
    webhook_url: str,
    email: str,
    events: list[str],
    active: bool,
    acting_user,
) -> tuple[Subscription, str | None]:
    """Change one's subscription; return it and, when its webhook got a new signing secret, that secret.

    A webhook given another address gets a new secret, as a rotation does: the previous receiver knows the old one
    and could sign deliveries the new receiver would take for ours. A webhook removed takes its secret with it.
    """
    subscription = subscription_get(tenant=tenant, subscription_id=subscription_id, viewer=acting_user)
    subscription_validated(webhook_url=webhook_url, email=email, events=events)
    new_secret = None
    if not webhook_url:
        subscription.webhook_secret = ""
    elif webhook_url != subscription.webhook_url or not subscription.webhook_secret:
        subscription.webhook_secret = new_secret = new_webhook_secret()
    subscription.subject_prefix, subscription.webhook_url, subscription.email = subject_prefix, webhook_url, email
    subscription.events, subscription.active = list(events), active
    subscription.save()
    return subscription, new_secret


@audited
def subscription_secret_rotate(*, tenant: Tenant, subscription_id, acting_user) -> tuple[Subscription, str]:
    """Give one's webhook subscription a new signing secret (returned once); the old one stops signing at once."""
    subscription = subscription_get(tenant=tenant, subscription_id=subscription_id, viewer=acting_user)
    if not subscription.webhook_url:
        raise InvalidRequest(f"Subscription {subscription_id} has no webhook to sign for")
    subscription.webhook_secret = new_webhook_secret()
    subscription.save(update_fields=["webhook_secret"])
    return subscription, subscription.webhook_secret


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


@audited
def subscription_delete(*, tenant: Tenant, subscription_id, acting_user) -> None:
    subscription = subscription_get(tenant=tenant, subscription_id=subscription_id, viewer=acting_user)
    subscription.delete()


def seen_by(viewer, *, path: str = "") -> Q:
    """Return the condition a subscription meets when the viewer sees it: its own; superusers see all.

    Django superusers only: the "super admin" group's six roles say nothing about other people's subscriptions.
    `path` leads from the rows filtered to their subscription ("subscription__" for deliveries).
    """
    return Q() if viewer.is_superuser else Q(**{f"{path}owner": viewer})


def subscription_get(*, tenant: Tenant, subscription_id, viewer) -> Subscription:
    """Return a subscription of the tenant that the viewer sees (`seen_by`); 404 otherwise."""
    found = subscription_list(tenant=tenant, viewer=viewer).filter(pk=subscription_id).first()
    if found is None:
        raise NotFound(f"Subscription {subscription_id} not found.")
    return found


def subscription_list(*, tenant: Tenant, viewer):
    """Return the tenant's subscriptions the viewer sees (`seen_by`), with their owners."""
    return Subscription.objects.filter(seen_by(viewer), tenant=tenant).select_related("owner")


# A subscription's deliveries page shows this many, newest first.
DELIVERIES_SHOWN = 100


def delivery_list(*, subscription: Subscription) -> list[NotificationDelivery]:
    """Return the subscription's newest deliveries, each with its attempts."""
    return list(subscription.deliveries.prefetch_related("attempt_log")[:DELIVERIES_SHOWN])


def notify(*, tenant: Tenant, subject_name: str, event: str, payload: dict) -> list[NotificationDelivery]:
    """Queue the event for every active subscription matching the subject, delivered after commit."""
    from schemas_app.tasks import deliver_notification

    body = {"event": event, "tenant": tenant.slug, "subject": subject_name, **payload}
    deliveries = []
    for subscription in Subscription.objects.filter(tenant=tenant, active=True):
        if not subscription.wants(event, subject_name):
            continue
        for channel in ("webhook", "email"):
            if (channel == "webhook" and subscription.webhook_url) or (channel == "email" and subscription.email):
                deliveries.append(
                    NotificationDelivery.objects.create(
                        subscription=subscription, event=event, channel=channel, payload=body
                    )
                )
    for delivery in deliveries:
        queue_on_commit(deliver_notification, delivery.pk)
    return deliveries


class Attempt(NamedTuple):
    """What one attempt at a delivery came to."""

    delivered: bool | None  # True delivered, False failed, None nothing to do
    attempts: int  # attempts made so far
    worth_retrying: bool = True  # False for an Undeliverable failure


def attempt_delivery(delivery_id: int) -> Attempt:
    """Make one attempt at a pending delivery and record it."""
    delivery = (
        NotificationDelivery.objects.select_related("subscription")
        .filter(pk=delivery_id, status=NotificationDelivery.Status.PENDING)
        .first()
    )
    if delivery is None:
        return Attempt(None, 0)  # delivered or given up already: a second run of the task does nothing
    status_code, error, worth_retrying = None, "", True
    try:
        if delivery.channel == "webhook":
            status_code = _post_webhook(delivery)
        else:
            _send_email(delivery)
    except Exception as failure:  # every failure is recorded on the attempt, and retried unless Undeliverable
        error = f"{type(failure).__name__}: {failure}"[:2000]
        worth_retrying = not isinstance(failure, Undeliverable)
        if isinstance(failure, urllib.error.HTTPError):
            status_code = failure.code
    DeliveryAttempt.objects.create(delivery=delivery, status_code=status_code, error=error)
    NotificationDelivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1)
    if error:
        return Attempt(False, delivery.attempts + 1, worth_retrying)
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        status=NotificationDelivery.Status.DELIVERED, delivered_at=timezone.now()
    )
    return Attempt(True, delivery.attempts + 1)


def give_up(delivery_id: int) -> None:
    NotificationDelivery.objects.filter(pk=delivery_id, status=NotificationDelivery.Status.PENDING).update(
        status=NotificationDelivery.Status.FAILED
    )


def _post_webhook(delivery: NotificationDelivery) -> int:
    subscription = delivery.subscription
    if urllib.parse.urlsplit(subscription.webhook_url).scheme.lower() not in WEBHOOK_SCHEMES:
        raise NotAnHttpWebhook(
            f"subscription {subscription.pk}'s webhook {subscription.webhook_url!r} is not an http or https address:"
            " give it one; nothing is sent elsewhere"
        )
    if not subscription.webhook_secret:
        # Signed with an empty key, a body's signature is one anybody computes: the receiver could not tell ours.
        logger.warning(
            "Webhook delivery %s not sent: subscription %s has no signing secret; its owner gets one with "
            "POST /subscriptions/%s/rotate or the admin's rotate action",
            delivery.pk,
            subscription.pk,
            subscription.pk,
        )
        raise UnsignedWebhook(
            f"subscription {subscription.pk} has no signing secret: rotate it (POST /subscriptions/{subscription.pk}"
            "/rotate) to get one; nothing is sent unsigned"
        )
    body = json.dumps(delivery.payload, sort_keys=True).encode()
    request = urllib.request.Request(
        subscription.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "schema-registry-webhooks",
            "X-Registry-Event": delivery.event,
            "X-Registry-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: sign(subscription.webhook_secret, body),
        },
    )
    with _webhook_opener.open(request, timeout=settings.REGISTRY_WEBHOOK_TIMEOUT) as response:
        return response.status


def _send_email(delivery: NotificationDelivery) -> None:
    payload = delivery.payload
    subject = f"[schema registry] {delivery.event}: {payload.get('subject')}"
    body = json.dumps(payload, indent=2, sort_keys=True)
    send_mail(subject, body, settings.REGISTRY_NOTIFICATION_FROM, [delivery.subscription.email])
