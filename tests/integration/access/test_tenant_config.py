"""TenantConfig: validated against the registry's own system/config.proto, over /tenants/{slug}/config."""

import io
import json

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command

from schemas_app import access, tenants
from schemas_app.models import Tenant, TenantBinding, TenantConfig
from tests.conftest_users import client_of
from tests.integration.api.helpers import TICK_V1, register

pytestmark = pytest.mark.django_db

VALID = {
    "tenantId": "acme",
    "riskLimits": {"maxOrderQuantity": 1000},
    "tradingSettings": {
        "tradingEnabled": True,
        "allowedSymbols": ["AAPL", "MSFT"],
        "baseCurrency": "USD",
        "maxOpenOrders": 50,
        "timeZone": "America/New_York",
    },
}


@pytest.fixture
def catalogue():
    call_command("load_schemas", stdout=io.StringIO())


@pytest.fixture
def acme():
    return Tenant.objects.create(slug="acme", name="Acme")


def put_config(client, slug, body):
    return client.put(f"/tenants/{slug}/config", data=json.dumps(body), content_type="application/json")


def test_a_valid_config_round_trips_in_the_messages_json_mapping(catalogue, admin, acme):
    stored = put_config(admin, "acme", {"config": VALID})
    assert stored.status_code == 200, stored.content
    assert admin.get("/tenants/acme/config").json()["config"] == VALID


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"tradingSettings": {"maxOpenOrders": "many"}}, 'at "TenantConfig.tradingSettings.maxOpenOrders"'),
        ({"tradingSettings": {"leverage": 3}}, 'no field named "leverage" at "TenantConfig.tradingSettings"'),
        ({"riskLimit": {}}, 'no field named "riskLimit" at "TenantConfig"'),
        ({"tenantId": "globex"}, '"TenantConfig.tenant_id"'),
    ],
)
def test_a_config_that_breaks_the_schema_is_refused_naming_the_field(catalogue, admin, acme, config, named):
    refused = put_config(admin, "acme", {"config": config})
    assert refused.status_code == 422 and refused.json()["error_code"] == 42220
    assert named in refused.json()["message"]
    assert admin.get("/tenants/acme/config").status_code == 404


def test_changes_are_audited(catalogue, admin, acme):
    put_config(admin, "acme", {"config": VALID})
    admin.delete("/tenants/acme/config")
    actions = list(
        LogEntry.objects.filter(content_type__model="tenantconfig")
        .order_by("timestamp")
        .values_list("action", flat=True)
    )
    assert actions == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE, LogEntry.Action.DELETE]


def test_tenants_are_listed_as_the_caller_sees_them_and_created_by_superusers(admin, acme, django_user_model):
    created = admin.post("/tenants", data={"slug": "globex", "name": "Globex"}, format="json")
    assert created.status_code == 201
    member = django_user_model.objects.create_user("member")
    TenantBinding.objects.create(user=member, tenant=acme)
    client = client_of(member)
    assert [tenant["slug"] for tenant in client.get("/tenants").json()] == ["acme", "shared"]
    hidden, unknown = client.get("/tenants/globex/config"), client.get("/tenants/nowhere/config")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["message"].replace("globex", "nowhere") == unknown.json()["message"]
    refused = client.post("/tenants", data={"slug": "mine", "name": "Mine"}, format="json")
    assert refused.status_code == 403 and refused.json()["error_code"] == 40301


def test_changing_a_config_needs_the_approve_role_on_the_tenant(catalogue, acme, django_user_model, owner):
    member = django_user_model.objects.create_user("member")
    TenantBinding.objects.create(user=member, tenant=acme)
    client = client_of(member)
    assert put_config(client, "acme", {"config": VALID}).status_code == 403
    group = member.groups.create(name="acme admins")
    access.grant_role("approve", group=group, target=acme, acting_user=owner)
    client.force_authenticate(type(member).objects.get(pk=member.pk))
    assert put_config(client, "acme", {"config": VALID}).status_code == 200


def test_a_tenant_config_can_make_message_tenant_id_blocking(catalogue, admin, acme):
    without_tenant = TICK_V1.replace("  string tenant_id = 6;\n", "")
    assert register(admin, ":.acme:ticks-value", without_tenant).status_code == 200
    put_config(admin, "acme", {"config": VALID, "blockingLintRules": ["MESSAGE_TENANT_ID"]})
    refused = register(admin, ":.acme:quotes-value", without_tenant)
    assert refused.status_code == 422 and refused.json()["error_code"] == 42201
    assert "MESSAGE_TENANT_ID" in refused.json()["message"]
    assert register(admin, ":.acme:quotes-value", TICK_V1).status_code == 200


def test_blocking_rules_are_remembered_and_a_deleted_config_stops_blocking_on_the_next_registration(
    catalogue, admin, acme, django_assert_num_queries
):
    without_tenant = TICK_V1.replace("  string tenant_id = 6;\n", "")
    put_config(admin, "acme", {"config": VALID, "blockingLintRules": ["MESSAGE_TENANT_ID"]})
    assert register(admin, ":.acme:quotes-value", without_tenant).status_code == 422
    with django_assert_num_queries(0):
        assert tenants.blocking_lint_rules(tenant=acme) == ["MESSAGE_TENANT_ID"]
    assert admin.delete("/tenants/acme/config").status_code == 200
    assert register(admin, ":.acme:quotes-value", without_tenant).status_code == 200


def test_blocking_rules_changed_in_the_admin_count_from_the_next_registration(catalogue, console, admin, acme):
    without_tenant = TICK_V1.replace("  string tenant_id = 6;\n", "")
    form = {"tenant": acme.pk, "config": json.dumps(VALID)}
    assert (
        console.post("/admin/schemas_app/tenantconfig/add/", {**form, "blocking_lint_rules": "[]"}).status_code == 302
    )
    assert register(admin, ":.acme:ticks-value", without_tenant).status_code == 200
    row = TenantConfig.objects.get(tenant=acme)
    changed = console.post(
        f"/admin/schemas_app/tenantconfig/{row.pk}/change/", {**form, "blocking_lint_rules": '["MESSAGE_TENANT_ID"]'}
    )
    assert changed.status_code == 302
    refused = register(admin, ":.acme:quotes-value", without_tenant)
    assert refused.status_code == 422 and "MESSAGE_TENANT_ID" in refused.json()["message"]


def test_the_admin_refuses_a_config_that_breaks_the_schema_and_stores_a_valid_one(catalogue, console, acme):
    form = {"tenant": acme.pk, "blocking_lint_rules": "[]"}
    refused = console.post("/admin/schemas_app/tenantconfig/add/", {**form, "config": '{"riskLimit": {}}'})
    assert refused.status_code == 200 and "riskLimit" in refused.content.decode()
    stored = console.post("/admin/schemas_app/tenantconfig/add/", {**form, "config": json.dumps(VALID)})
    assert stored.status_code == 302
    assert TenantConfig.objects.get(tenant=acme).config == VALID


def change_form(row: TenantConfig, config: dict, **fields) -> dict:
    return {"tenant": row.tenant_id, "config": json.dumps(config), "blocking_lint_rules": "[]", **fields}


def test_a_config_stays_its_tenants_when_its_change_form_names_another_tenant(catalogue, console, owner, acme):
    other = Tenant.objects.create(slug="other", name="Other")
    row = tenants.tenant_config_update(tenant=acme, config=VALID, acting_user=owner)

    changed = console.post(
        f"/admin/schemas_app/tenantconfig/{row.pk}/change/", change_form(row, {"tenantId": "acme"}, tenant=other.pk)
    )

    assert changed.status_code == 302
    assert list(TenantConfig.objects.values_list("tenant__slug", "config")) == [("acme", {"tenantId": "acme"})]


def test_the_admins_change_form_checks_a_config_against_its_own_tenant(catalogue, console, owner, acme):
    row = tenants.tenant_config_update(tenant=acme, config=VALID, acting_user=owner)

    refused = console.post(f"/admin/schemas_app/tenantconfig/{row.pk}/change/", change_form(row, {"riskLimit": {}}))

    assert refused.status_code == 200 and "has no field named &quot;riskLimit&quot;" in refused.content.decode()
    row.refresh_from_db()
    assert row.config == VALID


def test_selected_configs_are_deleted_and_stop_blocking_on_the_next_registration(catalogue, console, admin, acme):
    without_tenant = TICK_V1.replace("  string tenant_id = 6;\n", "")
    put_config(admin, "acme", {"config": VALID, "blockingLintRules": ["MESSAGE_TENANT_ID"]})
    assert register(admin, ":.acme:quotes-value", without_tenant).status_code == 422

    console.post(
        "/admin/schemas_app/tenantconfig/",
        {"action": "delete_selected", "_selected_action": [TenantConfig.objects.get().pk], "post": "yes"},
    )

    assert not TenantConfig.objects.exists()
    assert register(admin, ":.acme:quotes-value", without_tenant).status_code == 200
