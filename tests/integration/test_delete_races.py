"""Deletes racing registrations: each waits for the other's locks, and the second sees what the first committed.

A write is held uncommitted on a connection of its own while a request meets it; the held write commits once the
request waits for one of its locks (or after a few seconds, when the request never waits, as before these fixes).
"""

import pytest

from schemas_app import services
from schemas_app.models import Schema, SubjectVersion, Tenant
from tests.integration.api.helpers import TICK_V1, post, register
from tests.integration.lock_waits import while_held

pytestmark = pytest.mark.django_db(transaction=True)


def default_tenant() -> Tenant:
    return Tenant.objects.get(slug=Tenant.DEFAULT_SLUG)


@pytest.fixture
def soft_deleted_ticks(api) -> int:
    """ticks-value's only version, soft-deleted: its schema row is purged with it; return the row's id."""
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    assert api.delete("/subjects/ticks-value").status_code == 200
    return schema_id


def test_a_registration_reusing_the_schema_a_purge_is_deleting_stores_it_again(api, owner, soft_deleted_ticks):
    def purge():
        services.subject_delete(tenant=default_tenant(), subject_name="ticks-value", permanent=True, acting_user=owner)

    response, purge_held = while_held(purge, lambda: register(api, "orders-value", TICK_V1))
    assert response.status_code == 200, response.content
    assert purge_held.request_waited
    assert not Schema.objects.filter(pk=soft_deleted_ticks).exists()
    version = SubjectVersion.objects.get(subject__name="orders-value")
    assert version.schema_id == response.json()["id"] != soft_deleted_ticks
    assert Schema.objects.get(pk=version.schema_id).text == TICK_V1


def test_a_purge_meeting_a_registration_reusing_its_schema_keeps_the_schema(api, owner, soft_deleted_ticks):
    def registration():
        services.subject_version_register(
            tenant=default_tenant(), subject_name="orders-value", schema=TICK_V1, acting_user=owner
        )

    response, registration_held = while_held(registration, lambda: api.delete("/subjects/ticks-value?permanent=true"))
    assert response.status_code == 200, response.content
    assert registration_held.request_waited
    assert not SubjectVersion.objects.filter(subject__name="ticks-value").exists()
    assert SubjectVersion.objects.get(subject__name="orders-value").schema_id == soft_deleted_ticks
    assert Schema.objects.filter(pk=soft_deleted_ticks).exists()


def test_a_registration_meeting_the_delete_of_its_existing_version_registers_a_new_one(api, owner):
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]

    def soft_delete_version_one():
        services.subject_version_delete(
            tenant=default_tenant(), subject_name="ticks-value", version=1, acting_user=owner
        )

    response, delete_held = while_held(soft_delete_version_one, lambda: register(api, "ticks-value", TICK_V1))
    assert response.status_code == 200, response.content
    assert response.json()["id"] == schema_id
    live = SubjectVersion.objects.filter(subject__name="ticks-value", deleted=False)
    assert [(version.version, version.schema_id) for version in live] == [(2, schema_id)]
    assert delete_held.request_waited


def test_a_version_deprecated_while_its_delete_is_uncommitted_stays_deleted(api, admin, owner):
    register(api, "ticks-value", TICK_V1)

    def soft_delete_version_one():
        services.subject_version_delete(
            tenant=default_tenant(), subject_name="ticks-value", version=1, acting_user=owner
        )

    response, delete_held = while_held(
        soft_delete_version_one, lambda: post(admin, "/subjects/ticks-value/versions/1/deprecate", {})
    )
    assert delete_held.request_waited
    version = SubjectVersion.objects.get(subject__name="ticks-value")
    assert (version.deleted, version.state) == (True, SubjectVersion.State.ACTIVE)
    assert response.status_code == 404, response.content
    assert response.json()["error_code"] == 40402
