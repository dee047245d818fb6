"""Roles granted to groups on subjects, prefixes and tenants (schemas_app.access)."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from schemas_app import access
from schemas_app.models import Subject, SubjectPrefixGrant, Tenant, TenantBinding
from tests.integration.api.helpers import TICK_V1, TICK_V2_CHANGES_TYPE, put, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return Tenant.objects.create(slug="acme", name="Acme")


@pytest.fixture
def globex():
    return Tenant.objects.create(slug="globex", name="Globex")


@pytest.fixture
def default():
    return Tenant.objects.get_or_create(slug=Tenant.DEFAULT_SLUG, defaults={"name": "Default"})[0]


@pytest.fixture
def team(django_user_model):
    """A member of the bundled service team group, which holds no role until one is granted."""
    member = django_user_model.objects.create_user("team-member", password="team-password")
    member.groups.add(Group.objects.get(name="service team"))
    return member


@pytest.fixture
def service_team():
    return Group.objects.get(name="service team")


def fresh(user):
    """Return the user read again, without the permission caches of earlier checks."""
    return type(user).objects.get(pk=user.pk)


def test_the_bundled_groups_exist_with_their_roles(django_user_model, default):
    expectations = {
        "service team": set(),
        "platform admin": {"approve", "write"},
        "CI pipeline": {"codegen"},
        "auditor": {"audit"},
        "super admin": set(access.ROLES) - {"read"},
    }
    for name, roles in expectations.items():
        user = django_user_model.objects.create_user(f"member of {name}")
        user.groups.add(Group.objects.get(name=name))
        held = {role for role in access.ROLES if role != "read" and access.has_role(user, role, tenant=default)}
        assert held == roles, name


def test_a_staff_member_of_the_bundled_platform_admin_group_reviews_in_the_console(
    api, admin, django_user_model, client, django_capture_on_commit_callbacks
):
    assert put(admin, "/config", {"noticeHours": 0}).status_code == 200
    register(api, "ticks-value", TICK_V1)
    with django_capture_on_commit_callbacks(execute=True):  # the review's preparation runs once it commits
        pending = register(api, "ticks-value", TICK_V2_CHANGES_TYPE).json()["review_id"]
    reviewer = django_user_model.objects.create_user("platform-admin", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="platform admin"))
    client.force_login(reviewer)
    for page in ("changerequest/", f"changerequest/{pending}/change/", "subject/", "subjectversion/"):
        assert client.get(f"/admin/schemas_app/{page}").status_code == 200, page
    response = client.post(f"/admin/schemas_app/changerequest/{pending}/approve/", follow=True)
    assert "approved and registered" in response.content.decode()
    assert api.get("/subjects/ticks-value/versions").json() == [1, 2]


def test_a_superuser_has_every_role(owner, acme):
    assert all(access.has_role(owner, role, subject_name="anything", tenant=acme) for role in access.ROLES)


def test_an_unknown_role_is_refused_with_the_list_of_roles(owner):
    with pytest.raises(ValueError, match="the roles are read, write"):
        access.has_role(owner, "admin")


def test_a_tenant_grant_covers_every_subject_of_that_tenant_only(team, service_team, acme, globex, owner):
    TenantBinding.objects.create(user=team, tenant=acme)
    access.grant_role("write", group=service_team, target=acme, acting_user=owner)
    assert access.has_role(fresh(team), "write", subject_name="orders-value", tenant=acme)
    assert not access.has_role(fresh(team), "write", subject_name="orders-value", tenant=globex)
    assert not access.has_role(fresh(team), "delete", subject_name="orders-value", tenant=acme)


def test_a_prefix_grant_covers_the_subjects_under_it(team, service_team, default, owner):
    access.grant_role("write", group=service_team, target=access.grant_target(prefix="trading/*"), acting_user=owner)
    assert access.has_role(fresh(team), "write", subject_name="trading/orders.proto", tenant=default)
    assert not access.has_role(fresh(team), "write", subject_name="common/money.proto", tenant=default)


def test_a_package_grant_covers_record_name_subjects_and_the_package_folder():
    grant = SubjectPrefixGrant(prefix="trading.v1")
    assert grant.matches("trading.v1.TickData")
    assert grant.matches("trading/v1/ticks.proto")
    assert not grant.matches("trading.v10.TickData")


def test_a_subject_grant_covers_that_subject_alone(team, service_team, default, owner):
    Subject.objects.create(tenant=default, name="orders-value")
    Subject.objects.create(tenant=default, name="ticks-value")
    target = access.grant_target(subject="orders-value")
    access.grant_role("delete", group=service_team, target=target, acting_user=owner)
    assert access.has_role(fresh(team), "delete", subject_name="orders-value", tenant=default)
    assert not access.has_role(fresh(team), "delete", subject_name="ticks-value", tenant=default)


def test_a_revoked_role_is_gone(team, service_team, acme, owner):
    TenantBinding.objects.create(user=team, tenant=acme)
    access.grant_role("approve", group=service_team, target=acme, acting_user=owner)
    access.revoke_role("approve", group=service_team, target=acme, acting_user=owner)
    assert not access.has_role(fresh(team), "approve", tenant=acme)


def test_a_bound_account_reads_its_tenant_and_the_shared_ones_only(team, acme, globex, default):
    TenantBinding.objects.create(user=team, tenant=acme)
    assert set(access.readable_tenants(team).values_list("slug", flat=True)) == {"acme", Tenant.SHARED_SLUG}
    assert not access.has_role(fresh(team), "read", tenant=globex)


def test_an_unbound_account_reads_the_default_and_shared_tenants(outsider, acme, default):
    assert set(access.readable_tenants(outsider).values_list("slug", flat=True)) == {"default", Tenant.SHARED_SLUG}


def test_a_read_grant_on_a_tenant_opens_it(team, service_team, acme, owner):
    access.grant_role("read", group=service_team, target=acme, acting_user=owner)
    assert access.has_role(fresh(team), "read", tenant=acme)
    assert acme in access.readable_tenants(fresh(team))


def test_anonymous_readers_read_only_when_the_setting_allows_it(settings, acme):
    from django.contrib.auth.models import AnonymousUser

    settings.REGISTRY_ANONYMOUS_READ = False
    assert not access.has_role(AnonymousUser(), "read", tenant=acme)
    settings.REGISTRY_ANONYMOUS_READ = True
    assert access.has_role(AnonymousUser(), "read", tenant=acme)
    assert not access.has_role(AnonymousUser(), "write", tenant=acme)


def test_a_service_team_registers_under_its_prefix_and_nowhere_else(team, service_team, owner):
    access.grant_role("write", group=service_team, target=access.grant_target(prefix="trading/*"), acting_user=owner)
    client = APIClient()
    client.force_authenticate(fresh(team))
    assert register(client, "trading%2Fticks.proto", TICK_V1).status_code == 200
    refused = register(client, "ticks-value", TICK_V1)
    assert refused.status_code == 403 and refused.json()["error_code"] == 40301
