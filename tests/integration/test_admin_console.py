"""The admin as the reviewers' console: it never writes around the services."""

import pytest
from auditlog.models import LogEntry
from django.contrib.admin.models import DELETION
from django.contrib.admin.models import LogEntry as RecentAction
from django.contrib.auth.models import Permission

from schemas_app.models import ChangeRequest, Schema, SubjectConfig, SubjectMode, SubjectVersion
from tests.integration.api.helpers import MONEY, ORDER_WITH_MONEY, TICK_V1, TICK_V2_CHANGES_TYPE, put, register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_reviewer(django_user_model):
    user = django_user_model.objects.create_user("reviewer", "reviewer@example.org", "x", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="approve_changes", content_type__model="tenant"),
        Permission.objects.get(codename="view_changerequest"),
    )
    return user


def test_the_admin_cannot_create_a_version_or_a_schema(api, console):
    assert console.get("/admin/schemas_app/subjectversion/add/").status_code == 403
    assert console.post("/admin/schemas_app/subjectversion/add/", {"version": 1}).status_code == 403
    assert console.get("/admin/schemas_app/schema/add/").status_code == 403
    assert console.get("/admin/schemas_app/subject/add/").status_code == 403
    assert SubjectVersion.objects.count() == 0


def test_deleting_a_version_in_the_admin_soft_deletes_it_first(api, console):
    register(api, "ticks-value", TICK_V1)
    version = SubjectVersion.objects.get()
    console.post(f"/admin/schemas_app/subjectversion/{version.pk}/delete/", {"post": "yes"})
    version.refresh_from_db()
    assert version.deleted and version.deleted_at is not None
    assert api.get("/subjects/ticks-value/versions").json()["error_code"] == 40401
    console.post(f"/admin/schemas_app/subjectversion/{version.pk}/delete/", {"post": "yes"})
    assert not SubjectVersion.objects.filter(pk=version.pk).exists()


def test_the_admin_refuses_to_delete_a_referenced_version(api, console):
    register(api, "common/money.proto", MONEY)
    reference = {"name": "common/money.proto", "subject": "common/money.proto", "version": 1}
    register(api, "trading/order.proto", ORDER_WITH_MONEY, references=[reference])
    money = SubjectVersion.objects.get(subject__name="common/money.proto")
    response = console.post(f"/admin/schemas_app/subjectversion/{money.pk}/delete/", {"post": "yes"}, follow=True)
    assert "One or more references exist" in response.content.decode()
    money.refresh_from_db()
    assert not money.deleted


def test_deleting_a_subject_in_the_admin_goes_through_the_service(api, console):
    register(api, "ticks-value", TICK_V1)
    subject = SubjectVersion.objects.get().subject
    console.post(f"/admin/schemas_app/subject/{subject.pk}/delete/", {"post": "yes"})
    assert SubjectVersion.objects.get().deleted  # soft-deleted, not gone


def test_derived_fields_cannot_be_edited(api, console):
    register(api, "ticks-value", TICK_V1)
    schema, version = Schema.objects.get(), SubjectVersion.objects.get()
    page = console.get(f"/admin/schemas_app/schema/{schema.pk}/change/").content.decode()
    assert 'name="canonical_fingerprint"' not in page and 'name="fingerprint"' not in page
    assert console.post(f"/admin/schemas_app/schema/{schema.pk}/change/", {"fingerprint": "x"}).status_code == 403
    page = console.get(f"/admin/schemas_app/subjectversion/{version.pk}/change/").content.decode()
    for field in ("semantic_version", "version", "state", "change"):
        assert f'name="{field}"' not in page
    assert (
        console.post(f"/admin/schemas_app/subjectversion/{version.pk}/change/", {"state": "disabled"}).status_code
        == 403
    )
    schema.refresh_from_db()
    version.refresh_from_db()
    assert version.state == "active" and schema.fingerprint != "x"


def test_config_saved_in_the_admin_is_validated_by_the_service(console):
    from schemas_app.models import SubjectConfig, Tenant

    tenant = Tenant.objects.get_or_create(slug="default", defaults={"name": "Default"})[0]
    response = console.post(
        "/admin/schemas_app/subjectconfig/add/",
        {"tenant": tenant.pk, "subject_name": "ticks-value", "review_policy": "all", "lint_except": "[]"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SubjectConfig.objects.get(subject_name="ticks-value").review_policy == "all"


def test_the_subject_list_shows_what_a_reviewer_works_with(api, console):
    assert put(api, "/config", {"noticeHours": 0}).status_code == 200
    register(api, "ticks-value", TICK_V1)
    register(api, "ticks-value", TICK_V2_CHANGES_TYPE)
    page = console.get("/admin/schemas_app/subject/").content.decode()
    for heading in ("Tenant", "Latest version", "Versions", "Compatibility", "Review policy", "Open reviews", "Lint"):
        assert heading in page
    assert "1.0.0" in page and 'class="field-open_reviews">1<' in page


def test_the_queue_lists_pending_changes_first_and_approves_through_the_service(api, staff_reviewer, client):
    assert put(api, "/config", {"noticeHours": 0}).status_code == 200
    register(api, "ticks-value", TICK_V1)
    first = register(api, "ticks-value", TICK_V2_CHANGES_TYPE).json()["review_id"]
    api.post(f"/reviews/{first}/withdraw", {}, format="json")
    pending = register(api, "ticks-value", TICK_V2_CHANGES_TYPE.replace("float bid", "int64 bid")).json()["review_id"]
    client.force_login(staff_reviewer)
    queue = client.get("/admin/schemas_app/changerequest/").content.decode()
    assert queue.index(f"/changerequest/{pending}/change/") < queue.index(f"/changerequest/{first}/change/")
    page = client.get(f"/admin/schemas_app/changerequest/{pending}/change/").content.decode()
    assert "side-by-side" in page and "FIELD_WIRE_JSON_COMPATIBLE_TYPE" in page and "2.0.0" in page
    response = client.post(f"/admin/schemas_app/changerequest/{pending}/approve/", follow=True)
    assert "approved and registered" in response.content.decode()
    assert ChangeRequest.objects.get(pk=pending).status == "APPROVED"
    assert api.get("/subjects/ticks-value/versions").json() == [1, 2]


def test_the_console_refuses_self_approval_with_the_services_message(admin, console):
    assert put(admin, "/config", {"noticeHours": 0}).status_code == 200
    register(admin, "ticks-value", TICK_V1)
    review_id = register(admin, "ticks-value", TICK_V2_CHANGES_TYPE).json()["review_id"]
    response = console.post(f"/admin/schemas_app/changerequest/{review_id}/approve/", follow=True)
    assert "nobody approves their own change" in response.content.decode()
    assert ChangeRequest.objects.get(pk=review_id).status == "PENDING_REVIEW"


def delete_selected(console, model: str, rows) -> str:
    """Select the rows on the model's admin list, confirm "Delete selected", and return the list page shown after."""
    response = console.post(
        f"/admin/schemas_app/{model}/",
        {"action": "delete_selected", "_selected_action": [row.pk for row in rows], "post": "yes"},
        follow=True,
    )
    return response.content.decode()


def test_deleting_selected_modes_deletes_the_subjects_and_keeps_the_tenant_wide_one_saying_so(admin, console):
    assert put(admin, "/mode", {"mode": "READONLY"}).status_code == 200
    assert put(admin, "/mode/ticks-value", {"mode": "READWRITE"}).status_code == 200

    page = delete_selected(console, "subjectmode", SubjectMode.objects.all())

    assert list(SubjectMode.objects.values_list("subject_name", "mode")) == [(None, "READONLY")]
    assert "The tenant-wide mode is not deleted" in page and "Successfully deleted" not in page
    assert LogEntry.objects.filter(object_repr="mode of ticks-value: READWRITE", action=LogEntry.Action.DELETE).get()
    assert recent_deletions() == ["mode of ticks-value: READWRITE"]  # the admin's "Recent actions"


def test_deleting_the_tenant_wide_mode_says_it_was_not_deleted(admin, console):
    assert put(admin, "/mode", {"mode": "READONLY"}).status_code == 200
    mode = SubjectMode.objects.get()

    response = console.post(f"/admin/schemas_app/subjectmode/{mode.pk}/delete/", {"post": "yes"}, follow=True)

    page = response.content.decode()
    assert "The tenant-wide mode is not deleted" in page and "deleted successfully" not in page
    assert SubjectMode.objects.filter(pk=mode.pk).exists()
    assert recent_deletions() == []
    assert str(mode) not in console.get("/admin/").content.decode()  # "Recent actions" beside the app list


def recent_deletions() -> list[str]:
    """Return the names of the rows the admin's "Recent actions" list as deleted."""
    return list(RecentAction.objects.filter(action_flag=DELETION).values_list("object_repr", flat=True))


def test_deleting_selected_configs_deletes_each_through_the_service_in_the_admins_name(admin, console, owner):
    assert put(admin, "/config", {"compatibility": "FULL"}).status_code == 200
    assert put(admin, "/config/ticks-value", {"compatibility": "NONE"}).status_code == 200

    delete_selected(console, "subjectconfig", SubjectConfig.objects.all())

    assert not SubjectConfig.objects.exists()
    deleted = LogEntry.objects.filter(action=LogEntry.Action.DELETE, content_type__model="subjectconfig")
    assert sorted(deleted.values_list("object_repr", "actor")) == [
        ("config of the tenant", owner.pk),
        ("config of ticks-value", owner.pk),
    ]
