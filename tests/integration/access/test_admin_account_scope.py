"""A staff account of one tenant sees and acts on the accounts, groups and API tokens of the tenants it may read only.

An account is its tenant's (the one it is bound to), a group is the tenants' it holds grants on and its members
are in, a token is its account's. The second desk's staff account (bound to it, its roles there, Django's admin
permissions over accounts, groups and tokens) works beside Acme's accounts, which it must not see.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from schemas_app import access
from schemas_app.models import ApiToken, Tenant, TenantBinding
from schemas_app.tokens import api_token_create

pytestmark = pytest.mark.django_db

ADMIN_MODELS = ("user", "group", "apitoken")


@pytest.fixture
def staff(second_desk_staff):
    return second_desk_staff(
        Permission.objects.filter(content_type__model__in=("user", "group", "apitoken", "tenantconfig"))
    )


def _people_of(tenant: Tenant, *, owner, django_user_model) -> dict:
    """An account bound to the tenant, its group (a read grant on the tenant) and its token."""
    member = django_user_model.objects.create_user(f"member-of-{tenant.slug}", password="member-password")
    TenantBinding.objects.create(user=member, tenant=tenant)
    group = Group.objects.create(name=f"{tenant.slug} readers")
    access.grant_role("read", group=group, target=tenant, acting_user=owner)
    member.groups.add(group)
    token, _ = api_token_create(user=member, name=f"{tenant.slug} ci", acting_user=owner)
    return {"user": member, "group": group, "apitoken": token}


@pytest.fixture
def acme():
    return Tenant.objects.create(slug="acme", name="Acme")


@pytest.fixture
def people(staff, second_tenant, acme, owner, django_user_model):
    """(own, other): the second desk's account, group and token, and Acme's."""
    return (
        _people_of(second_tenant, owner=owner, django_user_model=django_user_model),
        _people_of(acme, owner=owner, django_user_model=django_user_model),
    )


def change_url(row) -> str:
    return f"/admin/{row._meta.app_label}/{row._meta.model_name}/{row.pk}/change/"


def list_url(name: str) -> str:
    return f"/admin/{'schemas_app' if name == 'apitoken' else 'auth'}/{name}/"


def test_the_lists_show_the_staff_accounts_tenants_accounts_groups_and_tokens_and_none_of_another_tenants(
    staff_console, people
):
    own, other = people
    for name in ADMIN_MODELS:
        page = staff_console.get(list_url(name)).content.decode()
        assert change_url(own[name]) in page, name
        assert change_url(other[name]) not in page, name


def test_another_tenants_account_group_and_token_pages_answer_as_for_rows_that_do_not_exist(staff_console, people):
    own, other = people
    for name in ADMIN_MODELS:
        assert staff_console.get(change_url(own[name])).status_code == 200, name
        response = staff_console.get(change_url(other[name]))
        assert response.status_code == 302 and response.url == "/admin/", name


def test_another_tenants_accounts_groups_and_tokens_cannot_be_changed_deleted_or_revoked(staff_console, people):
    _, other = people
    for name in ADMIN_MODELS:
        row = other[name]
        staff_console.post(f"{list_url(name)}{row.pk}/delete/", {"post": "yes"})
        staff_console.post(list_url(name), {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
        assert type(row).objects.filter(pk=row.pk).exists(), name
    staff_console.post(change_url(other["user"]), {"username": "renamed", "is_active": ""})
    staff_console.post(change_url(other["group"]), {"name": "renamed"})
    staff_console.post(list_url("apitoken"), {"action": "revoke", "_selected_action": [other["apitoken"].pk]})
    for name in ADMIN_MODELS:
        other[name].refresh_from_db()
    assert other["user"].username == "member-of-acme" and other["user"].is_active
    assert other["group"].name == "acme readers"
    assert other["apitoken"].revoked_at is None


def test_the_staff_account_still_revokes_and_deletes_its_own_tenants_tokens_groups_and_accounts(staff_console, people):
    own, _ = people
    staff_console.post(list_url("apitoken"), {"action": "revoke", "_selected_action": [own["apitoken"].pk]})
    own["apitoken"].refresh_from_db()
    assert own["apitoken"].revoked_at is not None
    for name in ("apitoken", "group", "user"):
        row = own[name]
        staff_console.post(f"{list_url(name)}{row.pk}/delete/", {"post": "yes"})
        assert not type(row).objects.filter(pk=row.pk).exists(), name


def test_a_group_or_account_that_reaches_another_tenant_is_the_superusers_alone(
    staff_console, people, acme, second_tenant, owner, django_user_model
):
    own, _ = people
    both = Group.objects.create(name="both desks")
    access.grant_role("read", group=both, target=second_tenant, acting_user=owner)
    access.grant_role("write", group=both, target=acme, acting_user=owner)
    own["user"].groups.add(both)
    everywhere = Group.objects.get(name="platform admin")  # a bundled group: its roles hold in every tenant

    groups = staff_console.get(list_url("group")).content.decode()
    users = staff_console.get(list_url("user")).content.decode()

    assert change_url(both) not in groups and change_url(everywhere) not in groups
    assert change_url(own["user"]) not in users  # through "both desks", it writes in Acme
    assert change_url(owner) not in users
    assert change_url(own["group"]) in groups  # its own grants and members' tenants are still the desk's


def test_the_staff_account_hands_out_no_roles_through_an_account_or_a_group(staff_console, people, staff):
    own, other = people
    member = own["user"]
    page = staff_console.get(change_url(member)).content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    staff_console.post(
        change_url(member),
        {
            "username": member.username,
            "is_active": "on",
            "is_superuser": "on",
            "groups": [other["group"].pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    member.refresh_from_db()
    assert not member.is_superuser and list(member.groups.all()) == [own["group"]]
    group_page = staff_console.get(change_url(own["group"])).content.decode()
    assert 'name="permissions"' not in group_page


def test_the_staff_account_makes_and_rotates_its_own_tokens_only_as_over_the_api(staff_console, people, staff):
    own, _ = people
    refused = staff_console.post(
        "/admin/schemas_app/apitoken/add/", {"user": own["user"].pk, "name": "mine", "expires_at": ""}
    )
    assert refused.status_code == 200 and not ApiToken.objects.filter(name="mine").exists()
    made = staff_console.post("/admin/schemas_app/apitoken/add/", {"user": staff.pk, "name": "mine", "expires_at": ""})
    assert made.status_code == 302 and ApiToken.objects.get(name="mine").user == staff

    before = own["apitoken"].digest
    staff_console.post(list_url("apitoken"), {"action": "rotate", "_selected_action": [own["apitoken"].pk]})
    own["apitoken"].refresh_from_db()
    assert own["apitoken"].digest == before


def test_a_superuser_still_sees_every_tenants_accounts_groups_and_tokens(owner, people):
    staff_console = Client()
    staff_console.force_login(owner)
    for rows in people:
        for name in ADMIN_MODELS:
            assert change_url(rows[name]) in staff_console.get(list_url(name)).content.decode(), name
