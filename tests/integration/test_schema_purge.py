"""A permanent delete purges the schema rows of its versions that no other row points at, and keeps the others.

A schema row is pointed at by subject versions (of any subject, any tenant) and by the tenant configurations
validated against it; its own references are part of it and go with it.
"""

import json

import pytest
from django.db import connection
from django.db.models import ForeignObjectRel

from schemas_app import services
from schemas_app.models import Schema, SchemaReference, Tenant, TenantConfig
from tests.integration.api.helpers import MONEY, ORDER_WITH_MONEY, TICK_V1, register
from tests.integration.lock_waits import while_held

pytestmark = pytest.mark.django_db

# A system/config.proto of its own: TenantConfig needs only the tenant_id field the registry fills in.
CONFIG_PROTO = """syntax = "proto3";
package system.v1;

message TenantConfig {
  string tenant_id = 1;
  int32 max_open_orders = 2;
}
"""
CONFIG_SUBJECT = "system%2Fconfig.proto"

# The two permanent deletes: the whole soft-deleted subject, or its one soft-deleted version.
PURGES = [
    ("/subjects/{subject}", "/subjects/{subject}?permanent=true"),
    ("/subjects/{subject}/versions/1", "/subjects/{subject}/versions/1?permanent=true"),
]


def purge(client, subject: str, soft: str, permanent: str):
    assert client.delete(soft.format(subject=subject)).status_code == 200
    return client.delete(permanent.format(subject=subject))


@pytest.mark.parametrize(("soft", "permanent"), PURGES)
def test_a_purge_keeps_the_schema_a_tenant_config_was_validated_against(api, admin, soft, permanent):
    schema_id = register(api, CONFIG_SUBJECT, CONFIG_PROTO).json()["id"]
    Tenant.objects.create(slug="acme", name="Acme")
    stored = admin.put(
        "/tenants/acme/config", data=json.dumps({"config": {"maxOpenOrders": 5}}), content_type="application/json"
    )
    assert stored.status_code == 200, stored.content

    response = purge(api, CONFIG_SUBJECT, soft, permanent)

    assert response.status_code == 200, response.content
    assert TenantConfig.objects.get(tenant__slug="acme").schema_id == schema_id
    assert Schema.objects.get(pk=schema_id).text == CONFIG_PROTO
    assert admin.get("/tenants/acme/config").json()["config"] == {"tenantId": "acme", "maxOpenOrders": 5}


@pytest.mark.parametrize(("soft", "permanent"), PURGES)
def test_a_purge_keeps_the_schema_another_subjects_version_uses(api, soft, permanent):
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    assert register(api, "quotes-value", TICK_V1).json()["id"] == schema_id

    response = purge(api, "ticks-value", soft, permanent)

    assert response.status_code == 200, response.content
    assert Schema.objects.filter(pk=schema_id).exists()
    assert api.get(f"/schemas/ids/{schema_id}").status_code == 200


@pytest.mark.parametrize(("soft", "permanent"), PURGES)
def test_a_purge_deletes_a_schema_nothing_points_at_with_its_own_references(api, soft, permanent):
    register(api, "common%2Fmoney.proto", MONEY)
    reference = {"name": "common/money.proto", "subject": "common/money.proto", "version": 1}
    schema_id = register(api, "orders-value", ORDER_WITH_MONEY, [reference]).json()["id"]

    response = purge(api, "orders-value", soft, permanent)

    assert response.status_code == 200, response.content
    assert not Schema.objects.filter(pk=schema_id).exists()
    assert not SchemaReference.objects.filter(schema_id=schema_id).exists()


def test_every_foreign_key_to_the_schema_table_is_a_relation_the_purge_looks_at():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' AND confrelid = %s::regclass",
            [Schema._meta.db_table],
        )
        in_the_database = {table for (table,) in cursor.fetchall()}
    relations = [field for field in Schema._meta.get_fields(include_hidden=True) if isinstance(field, ForeignObjectRel)]
    assert in_the_database == {relation.related_model._meta.db_table for relation in relations}


CONFIG_PROTO_V2 = CONFIG_PROTO.replace(
    "  int32 max_open_orders = 2;\n", "  int32 max_open_orders = 2;\n  string desk = 3;\n"
)


def purge_config_version(number: int, owner):
    """Soft-delete and then purge one version of system/config.proto, in the caller's transaction."""
    tenant = Tenant.objects.get(slug=Tenant.DEFAULT_SLUG)
    for permanent in (False, True):
        services.subject_version_delete(
            tenant=tenant, subject_name="system/config.proto", version=number, permanent=permanent, acting_user=owner
        )


def put_acme_config(client):
    return client.put(
        "/tenants/acme/config", data=json.dumps({"config": {"maxOpenOrders": 5}}), content_type="application/json"
    )


@pytest.mark.django_db(transaction=True)
def test_a_tenant_config_validated_against_a_schema_a_purge_is_deleting_answers_that_none_is_registered(
    api, admin, owner
):
    register(api, CONFIG_SUBJECT, CONFIG_PROTO)
    Tenant.objects.create(slug="acme", name="Acme")

    response, purge_held = while_held(lambda: purge_config_version(1, owner), lambda: put_acme_config(admin))

    assert purge_held.request_waited
    assert response.status_code == 422, response.content
    assert response.json()["error_code"] == 42220
    assert "system/config.proto is not registered" in response.json()["message"]
    assert not TenantConfig.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_tenant_config_validated_against_a_version_a_purge_is_deleting_is_stored_against_the_one_left(
    api, admin, owner
):
    first = register(api, CONFIG_SUBJECT, CONFIG_PROTO).json()["id"]
    second = register(api, CONFIG_SUBJECT, CONFIG_PROTO_V2).json()["id"]
    Tenant.objects.create(slug="acme", name="Acme")

    response, purge_held = while_held(lambda: purge_config_version(2, owner), lambda: put_acme_config(admin))

    assert purge_held.request_waited
    assert response.status_code == 200, response.content
    assert TenantConfig.objects.get(tenant__slug="acme").schema_id == first
    assert not Schema.objects.filter(pk=second).exists()
