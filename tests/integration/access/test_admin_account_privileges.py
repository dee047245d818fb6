"""A staff account changes and deletes, in the admin, only the accounts whose privileges it holds itself, never its
own privileges, and revokes and deletes the API tokens of those accounts only; it sets the password or credentials
only of accounts holding strictly less than it does, and its own password on the page that asks the current one.

The second desk's staff account holds the read and write roles there and Django's permissions to see and change
accounts. Beside it, in the same desk: a plain member, an approver (a role the staff lacks), a fellow staff account
that may also delete accounts, a senior one that may also make them, a disabled account that may delete accounts,
peers holding what the staff holds and no more, and a junior staff account holding less. The owner is a superuser.
"""

import pytest
from django.contrib.admin.models import DELETION
from django.contrib.admin.models import LogEntry as RecentAction
from django.contrib.auth.models import Group, Permission
from django.test import Client

from schemas_app import access
from schemas_app.models import ApiToken, Subject, TenantBinding
from schemas_app.tokens import api_token_create

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "taken-over-9431"
ACCOUNT_PERMISSIONS = ("view_user", "change_user")


def permissions(*codenames):
    return Permission.objects.filter(content_type__app_label="auth", codename__in=codenames)


@pytest.fixture
def staff(second_desk_staff, second_tenant, owner):
    user = second_desk_staff(permissions(*ACCOUNT_PERMISSIONS))
    team = user.groups.get()
    for role in ("approve", "codegen", "delete", "audit"):
        access.revoke_role(role, group=team, target=second_tenant, acting_user=owner)
    return user


@pytest.fixture
def desk_account(django_user_model, second_tenant):
    """Return a maker of an account bound to the second desk, with the password "<username>-password"."""

    def make(username, **fields):
        user = django_user_model.objects.create_user(username, f"{username}@example.org", f"{username}-password")
        for name, value in fields.items():
            setattr(user, name, value)
        user.save()
        TenantBinding.objects.create(user=user, tenant=second_tenant)
        return user

    return make


@pytest.fixture
def member(desk_account):
    return desk_account("member")


@pytest.fixture
def approver(desk_account, second_tenant, owner):
    user = desk_account("approver")
    approvers = Group.objects.create(name="second desk approvers")
    access.grant_role("approve", group=approvers, target=second_tenant, acting_user=owner)
    user.groups.add(approvers)
    return user


@pytest.fixture
def fellow_staff(desk_account):
    user = desk_account("fellow", is_staff=True)
    user.user_permissions.add(*permissions(*ACCOUNT_PERMISSIONS, "delete_user"))
    return user


@pytest.fixture
def disabled(desk_account):
    """A disabled account: Django reports no permissions for it, yet it holds them again once enabled."""
    user = desk_account("disabled", is_active=False)
    user.user_permissions.add(*permissions("delete_user"))
    return user


def password_url(user) -> str:
    return f"/admin/auth/user/{user.pk}/password/"


def change_url(user) -> str:
    return f"/admin/auth/user/{user.pk}/change/"


def set_password(console: Client, user):
    return console.post(
        password_url(user), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )


def signs_in_with_the_new_password(user) -> bool:
    return Client().login(username=user.username, password=NEW_PASSWORD)


def change_form(user, **changes) -> dict:
    """Return what the account's change form posts: its current values, with `changes`."""
    form = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "groups": [group.pk for group in user.groups.all()],
        "user_permissions": [permission.pk for permission in user.user_permissions.all()],
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value != ""}


def test_the_staff_account_sets_the_password_of_a_plain_account_of_its_desk(staff_console, member):
    response = set_password(staff_console, member)

    assert response.status_code == 302
    assert signs_in_with_the_new_password(member)


def test_the_staff_account_sets_the_password_of_an_account_whose_roles_its_own_cover(
    staff_console, desk_account, second_tenant, owner
):
    subject_writer = desk_account("subject-writer")
    writers = Group.objects.create(name="orders writers")
    orders = Subject.objects.create(tenant=second_tenant, name="orders-value")
    access.grant_role("write", group=writers, target=orders, acting_user=owner)
    subject_writer.groups.add(writers)

    assert set_password(staff_console, subject_writer).status_code == 302  # the staff writes in the whole desk
    assert signs_in_with_the_new_password(subject_writer)


def test_the_staff_account_cannot_set_a_superusers_password(staff_console, owner):
    response = set_password(staff_console, owner)

    assert response.status_code in (403, 404)
    assert not signs_in_with_the_new_password(owner)


@pytest.mark.parametrize("account", ["approver", "fellow_staff", "disabled"])
def test_the_staff_account_cannot_set_the_password_of_an_account_holding_what_it_does_not(
    staff_console, account, request
):
    user = request.getfixturevalue(account)

    assert staff_console.get(password_url(user)).status_code == 403
    assert set_password(staff_console, user).status_code == 403
    user.is_active = True
    user.save()
    assert not signs_in_with_the_new_password(user)


@pytest.mark.parametrize("account", ["approver", "fellow_staff", "disabled"])
def test_the_staff_account_cannot_rename_an_account_holding_what_it_does_not_or_change_its_email(
    staff_console, account, request
):
    user = request.getfixturevalue(account)

    response = staff_console.post(change_url(user), change_form(user, username="renamed", email="staff@example.org"))

    assert response.status_code == 403
    user.refresh_from_db()
    assert (user.username, user.email) == (account_username(account), f"{account_username(account)}@example.org")


def account_username(fixture_name: str) -> str:
    return {"fellow_staff": "fellow"}.get(fixture_name, fixture_name)


def test_the_staff_account_sees_an_account_holding_what_it_does_not_read_only(staff_console, approver):
    page = staff_console.get(change_url(approver)).content.decode()

    assert 'name="username"' not in page and password_url(approver) not in page


def test_the_staff_account_still_renames_a_plain_account_of_its_desk_and_disables_it(staff_console, member):
    response = staff_console.post(change_url(member), change_form(member, username="renamed", is_active=""))

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.username == "renamed" and not member.is_active


def test_the_staff_account_makes_no_account_staff_or_superuser_nor_gives_it_groups_or_permissions(
    staff_console, member, staff
):
    page = staff_console.get(change_url(member)).content.decode()
    for field in ("is_staff", "is_superuser", "groups", "user_permissions"):
        assert f'name="{field}"' not in page, field

    staff_console.post(
        change_url(member),
        change_form(
            member,
            is_staff="on",
            is_superuser="on",
            groups=[group.pk for group in staff.groups.all()],
            user_permissions=[permission.pk for permission in staff.user_permissions.all()],
        ),
    )

    member.refresh_from_db()
    assert not member.is_staff and not member.is_superuser
    assert not member.groups.exists() and not member.user_permissions.exists()


def test_the_staff_account_changes_none_of_its_own_privileges(staff_console, staff):
    page = staff_console.get(change_url(staff)).content.decode()
    for field in ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"):
        assert f'name="{field}"' not in page, field
    groups = set(staff.groups.all())
    held = set(staff.user_permissions.all())

    staff_console.post(
        change_url(staff),
        change_form(
            staff,
            username="desk-admin-renamed",
            is_active="",
            is_superuser="on",
            groups=[group.pk for group in Group.objects.all()],
            user_permissions=[permission.pk for permission in Permission.objects.all()],
        ),
    )

    staff.refresh_from_db()
    assert staff.username == "desk-admin-renamed"  # its own name stays its own to change
    assert staff.is_active and staff.is_staff and not staff.is_superuser
    assert set(staff.groups.all()) == groups and set(staff.user_permissions.all()) == held


def test_a_superuser_still_sets_any_accounts_password_and_privileges(console, fellow_staff, member):
    assert set_password(console, fellow_staff).status_code == 302
    assert signs_in_with_the_new_password(fellow_staff)
    console.post(change_url(member), change_form(member, is_staff="on"))
    member.refresh_from_db()
    assert member.is_staff


@pytest.fixture
def peer(desk_account, staff):
    """A staff account of the desk holding exactly what the staff account holds: its team, its permissions."""
    user = desk_account("peer", is_staff=True)
    user.groups.set(staff.groups.all())
    user.user_permissions.set(staff.user_permissions.all())
    return user


@pytest.fixture
def disabled_peer(peer):
    peer.is_active = False
    peer.save()
    return peer


@pytest.fixture
def junior_staff(desk_account):
    """A staff account of the desk that may only look at accounts: it holds less than the staff account."""
    user = desk_account("junior", is_staff=True)
    user.user_permissions.add(*permissions("view_user"))
    return user


@pytest.mark.parametrize("account", ["peer", "disabled_peer"])
def test_the_staff_account_cannot_set_the_password_of_a_peer_holding_what_it_holds(staff_console, account, request):
    user = request.getfixturevalue(account)

    assert staff_console.get(password_url(user)).status_code == 403
    assert set_password(staff_console, user).status_code == 403
    user.is_active = True
    user.save()
    assert not signs_in_with_the_new_password(user)


def test_the_staff_account_cannot_rename_a_peer_or_change_its_email_but_still_disables_it(staff_console, peer):
    page = staff_console.get(change_url(peer)).content.decode()
    assert 'name="username"' not in page and 'name="email"' not in page and password_url(peer) not in page

    response = staff_console.post(change_url(peer), change_form(peer, username="renamed", email="staff@example.org"))

    assert response.status_code == 302
    peer.refresh_from_db()
    assert (peer.username, peer.email) == ("peer", "peer@example.org")
    disabled = staff_console.post(change_url(peer), change_form(peer, is_active=""))
    assert disabled.status_code == 302
    peer.refresh_from_db()
    assert not peer.is_active


def test_the_staff_account_sets_the_password_of_a_staff_account_holding_less(staff_console, junior_staff):
    assert set_password(staff_console, junior_staff).status_code == 302
    assert signs_in_with_the_new_password(junior_staff)


def test_the_staff_accounts_own_password_is_changed_on_the_page_that_asks_the_current_one(staff_console, staff):
    shown = staff_console.get(password_url(staff))
    posted = set_password(staff_console, staff)

    assert shown.status_code == posted.status_code == 302
    assert shown.url == posted.url == "/admin/password_change/"
    assert not signs_in_with_the_new_password(staff)


@pytest.fixture
def may_delete(staff):
    """Give the staff account Django's permissions to delete accounts, and to see, revoke and delete tokens."""
    staff.user_permissions.add(
        *permissions("delete_user"),
        *Permission.objects.filter(content_type__model="apitoken", codename__in=("view_apitoken", "delete_apitoken")),
    )


@pytest.fixture
def senior_staff(desk_account):
    """A staff account of the desk that may also make accounts, which the staff account may not."""
    user = desk_account("senior", is_staff=True)
    user.user_permissions.add(*permissions(*ACCOUNT_PERMISSIONS, "delete_user", "add_user"))
    return user


def delete_url(row) -> str:
    return f"/admin/{row._meta.app_label}/{row._meta.model_name}/{row.pk}/delete/"


def list_url(row) -> str:
    return f"/admin/{row._meta.app_label}/{row._meta.model_name}/"


def delete_selected(console: Client, row):
    return console.post(list_url(row), {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})


def token_of(user) -> ApiToken:
    return api_token_create(user=user, name=f"{user.username} ci", acting_user=user)[0]


def recent_deletions() -> list[str]:
    return list(RecentAction.objects.filter(action_flag=DELETION).values_list("object_repr", flat=True))


@pytest.mark.parametrize("account", ["approver", "senior_staff"])
def test_the_staff_account_cannot_delete_an_account_holding_what_it_does_not(
    staff_console, may_delete, account, request
):
    user = request.getfixturevalue(account)

    assert staff_console.get(delete_url(user)).status_code == 403
    assert staff_console.post(delete_url(user), {"post": "yes"}).status_code == 403
    assert delete_selected(staff_console, user).status_code == 403

    assert type(user).objects.filter(pk=user.pk).exists()
    assert recent_deletions() == []


@pytest.mark.parametrize("account", ["approver", "senior_staff"])
def test_the_staff_account_cannot_revoke_or_delete_the_tokens_of_an_account_holding_what_it_does_not(
    staff_console, may_delete, account, request
):
    token = token_of(request.getfixturevalue(account))

    revoked = staff_console.post(list_url(token), {"action": "revoke", "_selected_action": [token.pk]}, follow=True)
    token.refresh_from_db()
    assert token.revoked_at is None
    assert [str(message) for message in revoked.context["messages"]] == [
        f"{token} was not revoked: {token.user} holds privileges you do not."
    ]

    assert staff_console.post(delete_url(token), {"post": "yes"}).status_code == 403
    assert delete_selected(staff_console, token).status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()
    assert recent_deletions() == []


def test_the_staff_account_still_revokes_and_deletes_a_plain_accounts_tokens_and_deletes_the_account(
    staff_console, may_delete, member
):
    first, second = token_of(member), token_of(member)

    staff_console.post(list_url(first), {"action": "revoke", "_selected_action": [first.pk]})
    staff_console.post(delete_url(second), {"post": "yes"})
    first.refresh_from_db()
    assert first.revoked_at is not None and not ApiToken.objects.filter(pk=second.pk).exists()
    delete_selected(staff_console, member)
    assert not type(member).objects.filter(pk=member.pk).exists()


def test_a_peers_page_works_out_the_privileges_once_not_on_each_of_its_checks(
    staff_console, peer, django_assert_max_num_queries
):
    staff_console.get(change_url(peer))  # sessions, content types and permissions cached

    with django_assert_max_num_queries(60):  # 111 when each check of the page worked them out again
        assert staff_console.get(change_url(peer)).status_code == 200
