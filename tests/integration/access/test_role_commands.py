"""grant_role and revoke_role do from the shell what the admin does."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from schemas_app import access
from schemas_app.models import Subject, Tenant

pytestmark = pytest.mark.django_db


def run(*arguments) -> str:
    out = io.StringIO()
    call_command(*arguments, stdout=out)
    return out.getvalue()


@pytest.fixture
def member(django_user_model):
    user = django_user_model.objects.create_user("member")
    user.groups.add(Group.objects.get(name="service team"))
    return user


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def test_grant_role_on_a_prefix_then_revoke_it(member):
    default = Tenant.objects.get_or_create(slug=Tenant.DEFAULT_SLUG, defaults={"name": "Default"})[0]
    assert "write granted to group 'service team'" in run(
        "grant_role", "write", "--group", "service team", "--prefix", "trading/*"
    )
    assert access.has_role(fresh(member), "write", subject_name="trading/orders.proto", tenant=default)
    run("revoke_role", "write", "--group", "service team", "--prefix", "trading/*")
    assert not access.has_role(fresh(member), "write", subject_name="trading/orders.proto", tenant=default)


def test_grant_role_on_a_tenant_and_on_a_subject(member):
    acme = Tenant.objects.create(slug="acme", name="Acme")
    Subject.objects.create(tenant=acme, name="orders-value")
    run("grant_role", "approve", "--group", "service team", "--tenant", "acme")
    run("grant_role", "delete", "--group", "service team", "--subject", "orders-value", "--tenant", "acme")
    assert access.has_role(fresh(member), "approve", tenant=acme)
    assert acme in access.readable_tenants(fresh(member)), "a role on a tenant implies reading it"
    assert access.has_role(fresh(member), "delete", subject_name="orders-value", tenant=acme)
    assert not access.has_role(fresh(member), "delete", subject_name="other-value", tenant=acme)


def test_unknown_targets_and_groups_are_refused_with_a_sentence():
    with pytest.raises(CommandError, match="Unknown tenant 'nowhere'"):
        run("grant_role", "write", "--group", "service team", "--tenant", "nowhere")
    with pytest.raises(CommandError, match="Unknown subject"):
        run("grant_role", "write", "--group", "service team", "--subject", "no-such-subject")
    with pytest.raises(CommandError, match="No group is named 'ghosts'"):
        run("revoke_role", "write", "--group", "ghosts", "--prefix", "x*")
