"""Subscriptions made, changed, rotated and deleted in the admin go through the services /subscriptions uses.

The console is the owner's, a superuser; `staff` is the second desk's admin, holding the admin's permissions on
subscriptions and deliveries, who sees and changes its own subscriptions and their deliveries only.
"""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission

from schemas_app import notifications, selectors
from schemas_app.models import NotificationDelivery, Subscription

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.org/registry"


@pytest.fixture
def staff(second_desk_staff):
    models = ("subscription", "notificationdelivery")
    return second_desk_staff(Permission.objects.filter(content_type__model__in=models))


@pytest.fixture
def tenant():
    return selectors.default_tenant()


def subscription_form(tenant, owner, **fields) -> dict:
    return {
        "tenant": tenant.pk,
        "owner": owner.pk,
        "subject_prefix": "ticks",
        "webhook_url": "",
        "email": "",
        "events": "[]",
        "active": "on",
        **fields,
    }


def messages_of(page) -> list[str]:
    return [str(message) for message in page.context["messages"]]


def test_a_webhook_added_in_the_admin_gets_its_secret_as_over_the_api_shown_once(console, owner, tenant):
    page = console.post(
        "/admin/schemas_app/subscription/add/", subscription_form(tenant, owner, webhook_url=HOOK), follow=True
    )

    subscription = Subscription.objects.get(webhook_url=HOOK)
    assert len(subscription.webhook_secret) == 64
    assert any(subscription.webhook_secret in message for message in messages_of(page))
    change_page = console.get(f"/admin/schemas_app/subscription/{subscription.pk}/change/")
    assert subscription.webhook_secret not in change_page.content.decode()
    assert LogEntry.objects.get_for_object(subscription).get().actor == owner


def test_the_admin_refuses_what_the_api_refuses(console, owner, tenant):
    unknown_event = console.post(
        "/admin/schemas_app/subscription/add/", subscription_form(tenant, owner, email="a@example.org", events='["x"]')
    )
    no_channel = console.post("/admin/schemas_app/subscription/add/", subscription_form(tenant, owner))
    not_a_list = console.post(
        "/admin/schemas_app/subscription/add/", subscription_form(tenant, owner, email="a@example.org", events='"x"')
    )
    not_http = console.post(
        "/admin/schemas_app/subscription/add/", subscription_form(tenant, owner, webhook_url="ftp://example.org/hook")
    )

    assert "Unknown events [&#x27;x&#x27;]" in unknown_event.content.decode()
    assert "needs a webhookUrl, an email, or both" in no_channel.content.decode()
    assert "events is a list of event names" in not_a_list.content.decode()
    assert "not a valid http or https URL" in not_http.content.decode()
    assert not Subscription.objects.exists()


def test_adding_a_webhook_to_an_email_subscription_gives_it_a_secret_shown_once(console, owner, tenant):
    subscription = notifications.subscription_create(tenant=tenant, email="a@example.org", acting_user=owner)

    page = console.post(
        f"/admin/schemas_app/subscription/{subscription.pk}/change/",
        subscription_form(tenant, owner, email="a@example.org", webhook_url=HOOK, events='["change.proposed"]'),
        follow=True,
    )

    subscription.refresh_from_db()
    assert subscription.webhook_url == HOOK and subscription.events == ["change.proposed"]
    assert len(subscription.webhook_secret) == 64
    assert any(subscription.webhook_secret in message for message in messages_of(page))


def test_a_webhook_given_another_address_gets_a_new_secret_shown_once(console, owner, tenant):
    subscription = notifications.subscription_create(tenant=tenant, webhook_url=HOOK, acting_user=owner)
    previous = subscription.webhook_secret

    page = console.post(
        f"/admin/schemas_app/subscription/{subscription.pk}/change/",
        subscription_form(tenant, owner, webhook_url="https://elsewhere.example.org/registry"),
        follow=True,
    )

    subscription.refresh_from_db()
    assert len(subscription.webhook_secret) == 64 and subscription.webhook_secret != previous
    assert any(subscription.webhook_secret in message for message in messages_of(page))


def test_a_change_that_keeps_the_webhooks_address_keeps_its_secret(console, owner, tenant):
    subscription = notifications.subscription_create(tenant=tenant, webhook_url=HOOK, acting_user=owner)
    previous = subscription.webhook_secret

    page = console.post(
        f"/admin/schemas_app/subscription/{subscription.pk}/change/",
        subscription_form(tenant, owner, webhook_url=HOOK, events='["change.proposed"]'),
        follow=True,
    )

    subscription.refresh_from_db()
    assert subscription.events == ["change.proposed"] and subscription.webhook_secret == previous
    assert not any(previous in message for message in messages_of(page))


def test_a_webhook_removed_takes_its_secret_with_it(console, owner, tenant):
    subscription = notifications.subscription_create(tenant=tenant, webhook_url=HOOK, acting_user=owner)

    console.post(
        f"/admin/schemas_app/subscription/{subscription.pk}/change/",
        subscription_form(tenant, owner, email="a@example.org"),
    )

    subscription.refresh_from_db()
    assert (subscription.webhook_url, subscription.webhook_secret) == ("", "")


def test_a_change_keeps_the_subscriptions_tenant_and_owner(console, owner, writer, tenant, second_tenant):
    subscription = notifications.subscription_create(tenant=tenant, email="a@example.org", acting_user=owner)

    console.post(
        f"/admin/schemas_app/subscription/{subscription.pk}/change/",
        subscription_form(second_tenant, writer, email="b@example.org"),
    )

    subscription.refresh_from_db()
    assert (subscription.tenant, subscription.owner, subscription.email) == (tenant, owner, "b@example.org")


def test_rotating_in_the_admin_shows_the_new_secret_once_for_ones_own_webhooks_only(
    staff_console, staff, writer, second_tenant
):
    mine = notifications.subscription_create(tenant=second_tenant, webhook_url=HOOK, acting_user=staff)
    Subscription.objects.filter(pk=mine.pk).update(webhook_secret="")  # made in the admin before the fix
    theirs = notifications.subscription_create(tenant=second_tenant, webhook_url=HOOK, acting_user=writer)
    before = theirs.webhook_secret

    page = staff_console.post(
        "/admin/schemas_app/subscription/",
        {"action": "rotate_secrets", "_selected_action": [mine.pk, theirs.pk]},
        follow=True,
    )

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert len(mine.webhook_secret) == 64 and theirs.webhook_secret == before
    shown = messages_of(page)
    assert any(mine.webhook_secret in message for message in shown)
    assert not any(theirs.webhook_secret in message for message in shown)


def test_deletes_one_by_one_and_in_bulk_go_through_the_service(staff_console, staff, second_tenant):
    one, two, three = (
        notifications.subscription_create(tenant=second_tenant, email="a@example.org", acting_user=staff)
        for _ in range(3)
    )

    staff_console.post(f"/admin/schemas_app/subscription/{one.pk}/delete/", {"post": "yes"})
    staff_console.post(
        "/admin/schemas_app/subscription/",
        {"action": "delete_selected", "_selected_action": [two.pk, three.pk], "post": "yes"},
    )

    assert not Subscription.objects.exists()
    deletions = LogEntry.objects.filter(action=LogEntry.Action.DELETE, object_pk__in=[one.pk, two.pk, three.pk])
    assert deletions.count() == 3 and {entry.actor for entry in deletions} == {staff}


def change_url(row) -> str:
    return f"/admin/schemas_app/{row._meta.model_name}/{row.pk}/change/"


def delivery_to(subscription, payload: dict) -> NotificationDelivery:
    return NotificationDelivery.objects.create(
        subscription=subscription, event="change.proposed", channel="webhook", payload=payload
    )


@pytest.fixture
def theirs_and_mine(staff, writer, second_tenant):
    """(theirs, mine): the writer's and the staff account's webhooks on the second desk, with a delivery each."""
    theirs = notifications.subscription_create(
        tenant=second_tenant, webhook_url="https://writer.example.org/hook", acting_user=writer
    )
    mine = notifications.subscription_create(tenant=second_tenant, webhook_url=HOOK, acting_user=staff)
    delivery_to(theirs, {"subject": "writers-private-subject"})
    delivery_to(mine, {"subject": "desk-subject"})
    return theirs, mine


def test_staff_see_their_own_subscriptions_and_deliveries_only_as_over_the_api(staff_console, theirs_and_mine):
    theirs, mine = theirs_and_mine

    subscriptions = staff_console.get("/admin/schemas_app/subscription/").content.decode()
    deliveries = staff_console.get("/admin/schemas_app/notificationdelivery/").content.decode()

    assert change_url(mine) in subscriptions and change_url(theirs) not in subscriptions
    assert "writer.example.org" not in subscriptions
    assert change_url(mine.deliveries.get()) in deliveries and change_url(theirs.deliveries.get()) not in deliveries
    for row in (theirs, theirs.deliveries.get()):  # answered as for rows that do not exist, as the API's 404
        response = staff_console.get(change_url(row))
        assert response.status_code == 302 and response.url == "/admin/", row
    assert "desk-subject" in staff_console.get(change_url(mine.deliveries.get())).content.decode()


def test_a_superuser_sees_every_subscription_and_delivery(console, theirs_and_mine):
    subscriptions = console.get("/admin/schemas_app/subscription/").content.decode()
    deliveries = console.get("/admin/schemas_app/notificationdelivery/").content.decode()

    for subscription in theirs_and_mine:
        assert change_url(subscription) in subscriptions
        assert change_url(subscription.deliveries.get()) in deliveries
    assert "writers-private-subject" in console.get(change_url(theirs_and_mine[0].deliveries.get())).content.decode()
