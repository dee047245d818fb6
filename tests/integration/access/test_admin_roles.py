"""The admin changes what the API would change: reading a tenant shows its rows, the API's role changes them.

The staff account is the second desk's admin: bound to the second desk, holding every role there, and every
admin permission of Django. It reads the shared catalogue, as every account does, without any role on it.
"""

import io
import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from schemas_app import access, selectors, services
from schemas_app.models import SubjectConfig, SubjectVersion, Subscription, Tenant, TenantConfig
from tests.integration.api.helpers import TICK_V1, register

pytestmark = pytest.mark.django_db

CONFIG = {"riskLimits": {"maxOrderQuantity": 1000}}


@pytest.fixture
def catalogue():
    call_command("load_schemas", stdout=io.StringIO())


@pytest.fixture
def staff(second_desk_staff):
    return second_desk_staff(
        Permission.objects.filter(content_type__app_label="schemas_app").exclude(
            codename__in=access.PERMISSION_OF_ROLE.values()
        )
    )


@pytest.fixture
def shared(catalogue) -> Tenant:
    return selectors.shared_tenant()


@pytest.fixture
def shared_config(shared, owner) -> TenantConfig:
    return TenantConfig.objects.create(tenant=shared, config={"tenantId": shared.slug})


def config_form(tenant: Tenant, config: dict) -> dict:
    return {"tenant": tenant.pk, "config": json.dumps(config), "blocking_lint_rules": "[]"}


def test_a_staff_account_sees_a_shared_tenants_config_but_cannot_change_it_as_the_api_refuses(
    staff_console, staff, shared, shared_config
):
    page = staff_console.get(f"/admin/schemas_app/tenantconfig/{shared_config.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()

    staff_console.post(f"/admin/schemas_app/tenantconfig/{shared_config.pk}/change/", config_form(shared, CONFIG))

    shared_config.refresh_from_db()
    assert "riskLimits" not in shared_config.config
    api = APIClient()
    api.force_authenticate(staff)
    refused = api.put(f"/tenants/{shared.slug}/config", data={"config": CONFIG}, format="json")
    assert refused.status_code == 403


def test_a_staff_account_cannot_add_a_config_to_a_tenant_it_only_reads(staff_console, shared):
    response = staff_console.post("/admin/schemas_app/tenantconfig/add/", config_form(shared, CONFIG))

    assert response.status_code == 200 and "needs the approve role" in response.content.decode()
    assert not TenantConfig.objects.filter(tenant=shared).exists()


def test_a_staff_account_cannot_move_its_own_config_to_a_tenant_it_only_reads(staff_console, second_tenant, shared):
    own = TenantConfig.objects.create(tenant=second_tenant, config={})

    staff_console.post(f"/admin/schemas_app/tenantconfig/{own.pk}/change/", config_form(shared, CONFIG))

    assert not TenantConfig.objects.filter(tenant=shared).exists()


def test_a_staff_account_cannot_delete_a_config_of_a_tenant_it_only_reads_one_by_one_or_selected(
    staff_console, shared_config
):
    staff_console.post(f"/admin/schemas_app/tenantconfig/{shared_config.pk}/delete/", {"post": "yes"})
    staff_console.post(
        "/admin/schemas_app/tenantconfig/",
        {"action": "delete_selected", "_selected_action": [shared_config.pk], "post": "yes"},
    )

    assert TenantConfig.objects.filter(pk=shared_config.pk).exists()


def test_a_staff_account_changes_adds_and_deletes_its_own_tenants_config(staff_console, second_tenant, catalogue):
    added = staff_console.post(
        "/admin/schemas_app/tenantconfig/add/", config_form(second_tenant, {"tenantId": "second-desk"})
    )
    assert added.status_code == 302
    row = TenantConfig.objects.get(tenant=second_tenant)

    changed = staff_console.post(
        f"/admin/schemas_app/tenantconfig/{row.pk}/change/", config_form(second_tenant, CONFIG)
    )
    assert changed.status_code == 302
    row.refresh_from_db()
    assert "riskLimits" in row.config

    staff_console.post(f"/admin/schemas_app/tenantconfig/{row.pk}/delete/", {"post": "yes"})
    assert not TenantConfig.objects.filter(pk=row.pk).exists()


@pytest.fixture
def shared_ticks(shared, owner) -> SubjectVersion:
    admin_api = APIClient()
    admin_api.force_authenticate(owner)
    assert register(admin_api, f":.{shared.slug}:ticks-value", TICK_V1).status_code == 200
    services.config_update(
        tenant=shared, subject_name="ticks-value", changes={"compatibility": "FULL"}, acting_user=owner
    )
    return SubjectVersion.objects.get(subject__tenant=shared, subject__name="ticks-value")


def test_a_subject_config_of_a_shared_tenant_changes_only_with_the_approve_role_on_its_subject(
    staff_console, staff, shared, shared_ticks, owner
):
    config = SubjectConfig.objects.get(tenant=shared, subject_name="ticks-value")
    form = {"compatibility_level": "NONE", "lint_except": "[]"}
    staff_console.post(f"/admin/schemas_app/subjectconfig/{config.pk}/change/", form)
    config.refresh_from_db()
    assert config.compatibility_level == "FULL"

    access.grant_role("approve", group=staff.groups.get(), target=shared_ticks.subject, acting_user=owner)
    assert staff_console.post(f"/admin/schemas_app/subjectconfig/{config.pk}/change/", form).status_code == 302
    config.refresh_from_db()
    assert config.compatibility_level == "NONE"


def test_a_version_of_a_shared_tenant_is_neither_deleted_nor_deprecated_without_the_apis_roles(
    staff_console, shared_ticks
):
    staff_console.post(f"/admin/schemas_app/subjectversion/{shared_ticks.pk}/delete/", {"post": "yes"})
    for action in ("delete_selected", "deprecate_versions"):
        staff_console.post(
            "/admin/schemas_app/subjectversion/",
            {"action": action, "_selected_action": [shared_ticks.pk], "post": "yes"},
        )
    staff_console.post(f"/admin/schemas_app/subject/{shared_ticks.subject.pk}/delete/", {"post": "yes"})

    shared_ticks.refresh_from_db()
    assert not shared_ticks.deleted and shared_ticks.state == SubjectVersion.State.ACTIVE


def test_only_superusers_grant_roles_in_the_admin(staff_console, second_tenant, owner):
    team = Group.objects.get(name="second desk team")
    for url in (
        f"/admin/schemas_app/tenant/{second_tenant.pk}/permissions/",
        f"/admin/schemas_app/tenant/{second_tenant.pk}/permissions/group-manage/{team.pk}/",
    ):
        assert staff_console.get(url).status_code in (302, 403), url
    superuser = Client()
    superuser.force_login(owner)
    assert superuser.get(f"/admin/schemas_app/tenant/{second_tenant.pk}/permissions/").status_code == 200


def test_a_staff_account_changes_its_own_subscriptions_only_as_over_the_api(
    staff_console, staff, second_tenant, writer
):
    theirs = Subscription.objects.create(tenant=second_tenant, owner=writer, subject_prefix="ticks")
    mine = Subscription.objects.create(tenant=second_tenant, owner=staff, subject_prefix="ticks")

    staff_console.post(f"/admin/schemas_app/subscription/{theirs.pk}/delete/", {"post": "yes"})
    staff_console.post(
        "/admin/schemas_app/subscription/",
        {"action": "delete_selected", "_selected_action": [theirs.pk], "post": "yes"},
    )
    refused = staff_console.post(
        "/admin/schemas_app/subscription/add/",
        {"tenant": second_tenant.pk, "owner": writer.pk, "subject_prefix": "quotes", "events": "[]", "active": "on"},
    )

    assert Subscription.objects.filter(pk=theirs.pk).exists()
    assert refused.status_code == 200 and not Subscription.objects.filter(subject_prefix="quotes").exists()
    staff_console.post(f"/admin/schemas_app/subscription/{mine.pk}/delete/", {"post": "yes"})
    assert not Subscription.objects.filter(pk=mine.pk).exists()
