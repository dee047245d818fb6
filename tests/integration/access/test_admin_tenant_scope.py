"""A staff account of one tenant sees and changes, in every admin page, only rows of the tenants it may read.

The staff account is made by hand, as an operator would: staff without superuser, bound to its own tenant,
holding its roles there as guardian object permissions and every admin permission as a model permission.
Its own tenant's rows show, so that a missing row elsewhere means something.
"""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from guardian.models import GroupObjectPermission

from schemas_app import access, services
from schemas_app.models import (
    Approval,
    ChangeRequest,
    NotificationDelivery,
    ReviewComment,
    Schema,
    Subject,
    SubjectConfig,
    SubjectMode,
    SubjectPrefixGrant,
    SubjectVersion,
    Subscription,
    Tenant,
    TenantBinding,
    TenantConfig,
)
from tests.conftest_users import client_of
from tests.integration.api.helpers import TICK_V1, register

pytestmark = pytest.mark.django_db

OWN_TICKS = TICK_V1.replace("double volume = 4;", "double volume = 4;\n  string desk = 7;")


@pytest.fixture
def staff(second_desk_staff):
    """Second desk's staff account: bound to it, its roles granted there, every admin page's permissions."""
    return second_desk_staff(
        Permission.objects.filter(content_type__app_label__in=("schemas_app", "auditlog")).exclude(
            codename__in=access.PERMISSION_OF_ROLE.values()
        )
    )


def _rows_of(tenant: Tenant, *, text: str, owner, subscriber) -> dict:
    """Make one row of every tenant-owned kind in the tenant (its subscription is `subscriber`'s, since one sees
    one's own subscriptions only); return them by admin model name."""
    admin_api = client_of(owner)
    context = "" if tenant.slug == Tenant.DEFAULT_SLUG else f":.{tenant.slug}:"
    assert register(admin_api, f"{context}ticks-value", text).status_code == 200
    version = SubjectVersion.objects.get(subject__tenant=tenant)
    config = services.config_update(
        tenant=tenant, subject_name="ticks-value", changes={"compatibility": "FULL"}, acting_user=owner
    )
    services.mode_update(tenant=tenant, subject_name="ticks-value", mode="READONLY", acting_user=owner)
    subscription = Subscription.objects.create(tenant=tenant, owner=subscriber, subject_prefix="ticks")
    member = owner._meta.model.objects.create_user(f"member-of-{tenant.slug}")
    return {
        "tenant": tenant,
        "subject": version.subject,
        "subjectversion": version,
        "schema": version.schema,
        "subjectconfig": config,
        "subjectmode": SubjectMode.objects.get(tenant=tenant, subject_name="ticks-value"),
        "tenantconfig": TenantConfig.objects.create(tenant=tenant),
        "changerequest": ChangeRequest.objects.create(
            tenant=tenant, subject_name="ticks-value", schema_text=text, fingerprint="0" * 64, author=owner
        ),
        "subscription": subscription,
        "notificationdelivery": NotificationDelivery.objects.create(
            subscription=subscription, event="change.proposed", channel="email", payload={}
        ),
        "subjectprefixgrant": SubjectPrefixGrant.objects.create(prefix="ticks", tenant=tenant),
        "tenantbinding": TenantBinding.objects.create(user=member, tenant=tenant),
    }


@pytest.fixture
def rows(staff, second_tenant, owner):
    """(own rows, other rows): the second desk's, and the default tenant's, one of each kind."""
    other = Tenant.objects.get_or_create(slug=Tenant.DEFAULT_SLUG, defaults={"name": "Default"})[0]
    return (
        _rows_of(second_tenant, text=OWN_TICKS, owner=owner, subscriber=staff),
        _rows_of(other, text=TICK_V1, owner=owner, subscriber=owner),
    )


def change_url(row) -> str:
    return f"/admin/{row._meta.app_label}/{row._meta.model_name}/{row.pk}/change/"


def test_every_admin_list_shows_the_staff_accounts_own_tenants_rows_and_none_of_another_tenants(staff_console, rows):
    own, other = rows
    for name in own:
        page = staff_console.get(f"/admin/schemas_app/{name}/").content.decode()
        assert change_url(own[name]) in page, name
        assert change_url(other[name]) not in page, name


def test_another_tenants_change_pages_answer_as_for_rows_that_do_not_exist(staff_console, rows):
    own, other = rows
    for name in own:
        assert staff_console.get(change_url(own[name])).status_code == 200, name
        response = staff_console.get(change_url(other[name]))
        assert response.status_code == 302 and response.url == "/admin/", name


def test_another_tenants_rows_cannot_be_changed_or_deleted(staff_console, rows):
    _, other = rows
    for name in ("subjectconfig", "subjectmode", "subscription", "tenantbinding", "subjectprefixgrant"):
        row = other[name]
        staff_console.post(f"/admin/schemas_app/{name}/{row.pk}/delete/", {"post": "yes"})
        assert type(row).objects.filter(pk=row.pk).exists(), name
    version = other["subjectversion"]
    staff_console.post(
        "/admin/schemas_app/subjectversion/",
        {"action": "delete_selected", "_selected_action": [version.pk], "post": "yes"},
    )
    version.refresh_from_db()
    assert not version.deleted
    config = other["subjectconfig"]
    staff_console.post(change_url(config), {"compatibility_level": "NONE", "lint_except": "[]"})
    config.refresh_from_db()
    assert config.compatibility_level == "FULL"


def test_forms_and_filters_offer_only_the_staff_accounts_tenants(staff_console, rows, second_tenant):
    _, other = rows
    form = staff_console.get("/admin/schemas_app/subjectconfig/add/").content.decode()
    assert f'<option value="{second_tenant.pk}">' in form
    assert f'<option value="{other["tenant"].pk}">' not in form
    response = staff_console.post(
        "/admin/schemas_app/subjectconfig/add/",
        {"tenant": other["tenant"].pk, "subject_name": "orders-value", "lint_except": "[]"},
    )
    assert response.status_code == 200 and not SubjectConfig.objects.filter(subject_name="orders-value").exists()
    subjects = staff_console.get("/admin/schemas_app/subject/").content.decode()
    assert f"tenant__id__exact={other['tenant'].pk}" not in subjects  # Django's own filter lists every tenant


def test_the_audit_trail_shows_the_entries_of_the_staff_accounts_tenants_only(staff_console, rows):
    own, other = rows
    subject_type = ContentType.objects.get_for_model(Subject)
    own_entry = LogEntry.objects.filter(content_type=subject_type, object_id=own["subject"].pk).first()
    other_entries = LogEntry.objects.filter(content_type=subject_type, object_id=other["subject"].pk)
    assert own_entry is not None and other_entries.exists()
    page = staff_console.get("/admin/auditlog/logentry/?all=").content.decode()
    assert change_url(own_entry) in page
    for entry in other_entries:
        assert change_url(entry) not in page
        assert staff_console.get(change_url(entry)).status_code == 302
    schema_type = ContentType.objects.get_for_model(Schema)
    other_schema = LogEntry.objects.filter(content_type=schema_type, object_id=other["schema"].pk).get()
    assert change_url(other_schema) not in page


def test_a_superuser_still_sees_every_tenant(console, rows):
    _, other = rows
    for name in other:
        assert change_url(other[name]) in console.get(f"/admin/schemas_app/{name}/").content.decode(), name


def audited_rows_of(rows: dict, owner) -> dict:
    """The tenant's rows whose changes the audit log records, with an approval and a comment of its change request
    and a role granted on its subject (the rows' own tenant holds them all)."""
    review, subject = rows["changerequest"], rows["subject"]
    team = Group.objects.create(name=f"readers of {subject.tenant.slug}")
    access.grant_role("read", group=team, target=subject, acting_user=owner)
    audited = {name: row for name, row in rows.items() if name != "notificationdelivery"}  # not an audited kind
    return {
        **audited,
        "approval": Approval.objects.create(change_request=review, approver=owner),
        "reviewcomment": ReviewComment.objects.create(change_request=review, author=owner, text="fine"),
        "groupobjectpermission": GroupObjectPermission.objects.get(group=team),
    }


def test_both_auditors_views_show_every_kind_of_the_tenants_entries_and_none_of_another_tenants(
    staff_console, rows, owner
):
    own, other = (audited_rows_of(tenant_rows, owner) for tenant_rows in rows)
    own_entries = {name: LogEntry.objects.get_for_object(row).latest("pk").pk for name, row in own.items()}
    other_entries = {name: LogEntry.objects.get_for_object(row).latest("pk").pk for name, row in other.items()}
    exported = {row["id"] for row in staff_console.get("/ui/audit/?export=json").json()}
    admin_page = staff_console.get("/admin/auditlog/logentry/?all=").content.decode()

    assert {name for name, entry in own_entries.items() if entry not in exported} == set()
    assert {name for name, entry in other_entries.items() if entry in exported} == set()
    assert {name for name, entry in own_entries.items() if f"/logentry/{entry}/change/" not in admin_page} == set()
    assert {name for name, entry in other_entries.items() if f"/logentry/{entry}/change/" in admin_page} == set()
    group_entry = LogEntry.objects.get_for_object(Group.objects.get(name="readers of second-desk")).get().pk
    assert group_entry not in exported  # an account's or group's history is the superusers' alone
