"""The admin shows and edits role grants on subject, tenant and group pages, and makes API tokens."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from schemas_app import access
from schemas_app.models import ApiToken, ChangeRequest, Subject, Tenant
from tests.integration.api.helpers import TICK_V1

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return Tenant.objects.create(slug="acme", name="Acme")


def test_a_tenant_page_lists_its_grants_and_links_to_editing_them(console, owner, acme):
    access.grant_role("write", group=Group.objects.get(name="service team"), target=acme, acting_user=owner)
    page = console.get(f"/admin/schemas_app/tenant/{acme.pk}/change/").content.decode()
    assert "service team: write" in page and "Object permissions" in page
    assert console.get(f"/admin/schemas_app/tenant/{acme.pk}/permissions/").status_code == 200


def test_a_subject_page_lists_its_grants(console, owner, acme):
    subject = Subject.objects.create(tenant=acme, name="orders-value")
    access.grant_role("delete", group=Group.objects.get(name="service team"), target=subject, acting_user=owner)
    page = console.get(f"/admin/schemas_app/subject/{subject.pk}/change/").content.decode()
    assert "service team: delete" in page


def test_a_group_page_lists_the_grants_it_holds(console, owner, acme):
    team = Group.objects.get(name="service team")
    access.grant_role("approve", group=team, target=acme, acting_user=owner)
    page = console.get(f"/admin/auth/group/{team.pk}/change/").content.decode()
    assert "Role grants on subjects, prefixes and tenants" in page and "approve_changes" in page.lower()


def test_a_token_made_in_the_admin_shows_its_secret_once(console, writer):
    response = console.post(
        "/admin/schemas_app/apitoken/add/", {"user": writer.pk, "name": "ci", "expires_at": ""}, follow=True
    )
    token = ApiToken.objects.get()
    page = response.content.decode()
    assert "it is not shown again: sr_" in page
    secret = page.split("it is not shown again: ")[1].split("<")[0].strip()
    assert secret.startswith(token.prefix) and secret != token.digest
    assert secret not in console.get("/admin/schemas_app/apitoken/").content.decode()


def test_admin_pages_send_strangers_to_the_login_and_refuse_accounts_without_permission(outsider):
    assert Client().get("/admin/schemas_app/apitoken/").status_code == 302
    outsider.is_staff = True
    outsider.save()
    signed_in = Client()
    signed_in.force_login(outsider)
    assert signed_in.get("/admin/schemas_app/apitoken/").status_code == 403


@pytest.fixture
def held(writer) -> ChangeRequest:
    """A review waiting in the default tenant."""
    return ChangeRequest.objects.create(
        tenant=Tenant.objects.get_or_create(slug=Tenant.DEFAULT_SLUG, defaults={"name": "Default"})[0],
        subject_name="ticks-value",
        schema_text=TICK_V1,
        fingerprint="0" * 64,
        author=writer,
    )


@pytest.fixture
def other_tenants_reviewer(second_tenant_writer) -> Client:
    """The console of a staff reviewer bound to the second tenant."""
    second_tenant_writer.is_staff = True
    second_tenant_writer.save()
    second_tenant_writer.user_permissions.add(Permission.objects.get(codename="view_changerequest"))
    console = Client()
    console.force_login(second_tenant_writer)
    return console


def test_the_review_queue_lists_only_reviews_of_tenants_the_reviewer_can_read(held, other_tenants_reviewer, console):
    assert "ticks-value" not in other_tenants_reviewer.get("/admin/schemas_app/changerequest/").content.decode()
    assert other_tenants_reviewer.get(f"/admin/schemas_app/changerequest/{held.pk}/change/").status_code == 302
    assert "ticks-value" in console.get("/admin/schemas_app/changerequest/").content.decode()


def test_the_review_console_buttons_answer_404_for_a_review_of_a_tenant_the_reviewer_cannot_read(
    held, other_tenants_reviewer
):
    console = other_tenants_reviewer
    for button, data in (("comment", {"text": "hello"}), ("reject", {"reason": "no"})):
        response = console.post(f"/admin/schemas_app/changerequest/{held.pk}/{button}/", data)
        assert response.status_code == 404, (button, response.status_code)
    held.refresh_from_db()
    assert held.status == ChangeRequest.Status.PENDING and not held.comments.exists()
