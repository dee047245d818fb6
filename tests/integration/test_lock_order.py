"""Writers that meet on a row while another seals its audit entries: each takes the audit chain's head last.

Every audited write seals its entries into the chain, locking the chain's one head row until it commits. A
writer holding some row while it seals (a registration holds its subject, a deprecation its versions, a
configuration change its row) waits for the head; so a write that took the head first and then waited for
that row deadlocked with it, and PostgreSQL aborted one of them (500/50001). Each test holds a row on a
second connection, waits until the request under test waits for it, then seals an entry as that writer
would, and expects both to commit.
"""

import pytest

from schemas_app import services
from schemas_app.models import NotificationDelivery, Subject, SubjectConfig, SubjectVersion, Subscription, Tenant
from schemas_app.notifications import subscription_create
from tests.integration.api.helpers import TICK_V1, TICK_V2_ADDS_FIELD, post, put, register
from tests.integration.lock_waits import LockHolder, after_a_request_waits, while_held_by

pytestmark = pytest.mark.django_db(transaction=True)


def while_held(owner, lock, request, then=lambda: None):
    """Send `request` while another writer holds what `lock` locks; return its answer once both have finished.

    Once the request waits for the held rows, that writer runs `then()` (locking more, as it would) and seals an
    audited entry into the chain while the rows are still held, then commits.
    """

    def then_seal_an_entry():
        then()
        services.config_update(
            tenant=Tenant.objects.get(slug=Tenant.DEFAULT_SLUG),
            subject_name="unrelated-value",
            changes={"compatibility": "FULL"},
            acting_user=owner,
        )

    until = after_a_request_waits(then_seal_an_entry, never="the request never waited for the held row")
    return while_held_by(LockHolder(lock, until), request)


def test_a_subject_deprecated_while_a_writer_holds_its_second_version_waits_for_it(api, admin, owner):
    register(api, "ticks-value", TICK_V1)
    register(api, "ticks-value", TICK_V2_ADDS_FIELD)

    def hold_version_two():  # as deprecating or deleting that version alone does
        SubjectVersion.objects.select_for_update().get(subject__name="ticks-value", version=2)

    response = while_held(owner, hold_version_two, lambda: post(admin, "/subjects/ticks-value/deprecate", {}))
    assert response.status_code == 200, response.content
    assert set(SubjectVersion.objects.values_list("state", flat=True)) == {SubjectVersion.State.DEPRECATED}


def test_a_subject_purged_while_a_writer_holds_its_configuration_waits_for_it(api, admin, owner):
    register(api, "ticks-value", TICK_V1)
    assert put(admin, "/config/ticks-value", {"compatibility": "NONE"}).status_code == 200
    assert admin.delete("/subjects/ticks-value").status_code == 200

    def hold_the_configuration():  # as changing it does
        SubjectConfig.objects.select_for_update().get(subject_name="ticks-value")

    response = while_held(owner, hold_the_configuration, lambda: admin.delete("/subjects/ticks-value?permanent=true"))
    assert response.status_code == 200, response.content
    assert not Subject.objects.get(name="ticks-value").versions.exists()
    assert not SubjectConfig.objects.filter(subject_name="ticks-value").exists()


def test_a_deprecation_notifying_a_subscription_a_writer_holds_waits_for_it(api, admin, owner):
    register(api, "ticks-value", TICK_V1)
    tenant = Tenant.objects.get(slug=Tenant.DEFAULT_SLUG)
    subscription_create(tenant=tenant, webhook_url="https://hooks.example.org/registry", acting_user=owner)

    def hold_the_subscription():  # as deleting it does; the delivery's reference to it is checked at commit
        Subscription.objects.select_for_update().get()

    response = while_held(
        owner, hold_the_subscription, lambda: post(admin, "/subjects/ticks-value/versions/1/deprecate", {})
    )
    assert response.status_code == 200, response.content
    assert NotificationDelivery.objects.filter(event="version.deprecated").exists()


def test_a_subject_deprecated_while_its_delete_holds_a_later_version_first_waits_for_the_delete(api, admin, owner):
    register(api, "ticks-value", TICK_V1)
    register(api, "ticks-value", TICK_V2_ADDS_FIELD)

    def hold_as_a_delete_meeting_version_two_first():  # a delete locks the subject, then the versions in table order
        Subject.objects.select_for_update().get(name="ticks-value")
        SubjectVersion.objects.select_for_update().get(subject__name="ticks-value", version=2)

    def and_then_version_one():
        SubjectVersion.objects.select_for_update().get(subject__name="ticks-value", version=1)

    response = while_held(
        owner,
        hold_as_a_delete_meeting_version_two_first,
        lambda: post(admin, "/subjects/ticks-value/deprecate", {}),
        then=and_then_version_one,
    )
    assert response.status_code == 200, response.content
    assert set(SubjectVersion.objects.values_list("state", flat=True)) == {SubjectVersion.State.DEPRECATED}
