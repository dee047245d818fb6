"""Named users shared by the tests: an owner who may do everything, a writer, an outsider, and a second tenant's writer.

The writer works in the default tenant (the one the Confluent API serves); `second_tenant_writer` is bound to
`second_tenant` and holds its roles there only, so tests can show that one tenant never sees the other.
A CI account, `generator`, holds only the codegen role. Clients signed in as them: `api` (the writer), `admin` (the
owner on the API), `ci`, `outsider_client`, and `console` (the owner in a browser, on the admin site and the pages).
"""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

# Model permissions hold a role everywhere: the writer registers, deletes and configures in any tenant it sees.
WRITER_PERMISSIONS = ("write_schemas", "delete_schemas", "approve_changes")


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_superuser("owner", "owner@example.org", "owner-password")


@pytest.fixture
def writer(django_user_model):
    user = django_user_model.objects.create_user("writer", "writer@example.org", "writer-password")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="schemas_app", content_type__model="tenant", codename__in=WRITER_PERMISSIONS
        )
    )
    return user


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("outsider", "outsider@example.org", "outsider-password")


@pytest.fixture
def generator(django_user_model):
    """A CI user holding the codegen role everywhere it may read (a model permission)."""
    user = django_user_model.objects.create_user("ci-bot", "ci@example.org", "ci-password")
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="schemas_app", content_type__model="tenant", codename="start_codegen"
        )
    )
    return user


def client_of(user) -> APIClient:
    """Return an API client signed in as the user."""
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(writer):
    """A client signed in as the writer, sending Confluent's content type."""
    return client_of(writer)


@pytest.fixture
def admin(owner):
    """A client signed in as the owner, a superuser: for the steps the writer may not take (configuring, approving)."""
    return client_of(owner)


@pytest.fixture
def ci(generator):
    """A client signed in as the CI user, which generates code."""
    return client_of(generator)


@pytest.fixture
def outsider_client(outsider):
    """A client signed in as the outsider, who holds no role anywhere."""
    return client_of(outsider)


@pytest.fixture
def console(owner):
    """A browser session of the owner, a superuser: the admin site and the UI pages."""
    client = Client()
    client.force_login(owner)
    return client


def api_token(user) -> str:
    """Return the secret of a new API token of the user."""
    from schemas_app.tokens import api_token_create

    return api_token_create(user=user, name="tests", acting_user=user)[1]


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def second_tenant():
    from schemas_app.models import Tenant

    return Tenant.objects.create(slug="second-desk", name="Second desk")


@pytest.fixture
def second_tenant_writer(django_user_model, second_tenant):
    from guardian.shortcuts import assign_perm

    from schemas_app.access import permission_of
    from schemas_app.models import TenantBinding

    user = django_user_model.objects.create_user("second-writer", "second@example.org", "second-password")
    TenantBinding.objects.create(user=user, tenant=second_tenant)
    for role in ("read", "write", "delete"):
        assign_perm(permission_of(role), user, second_tenant)
    return user


@pytest.fixture
def second_desk_staff(django_user_model, second_tenant, owner):
    """Return a maker of second desk's staff account: bound to it, every role granted there through its team group,
    and the Django permissions the admin tests give it (a queryset of Permission)."""
    from django.contrib.auth.models import Group

    from schemas_app import access
    from schemas_app.models import TenantBinding

    def make(permissions):
        user = django_user_model.objects.create_user("desk-admin", password="desk-password", is_staff=True)
        TenantBinding.objects.create(user=user, tenant=second_tenant)
        team = Group.objects.create(name="second desk team")
        user.groups.add(team)
        for role in access.ROLES:
            access.grant_role(role, group=team, target=second_tenant, acting_user=owner)
        user.user_permissions.add(*permissions)
        return user

    return make
