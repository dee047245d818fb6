"""The admin's audit trail is the auditors' view: it needs the audit role, and shows the tenants one audits.

`staff` is the second desk's admin, bound to it, holding its roles there (as `second_desk_staff` grants them) and
the admin's permissions on the audit log and on subscriptions. Entries about a subscription show who subscribed
where; staff otherwise see only their own subscriptions, so another account's are the auditors' to read.
"""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group, Permission

from schemas_app import access
from schemas_app.models import Subject, Subscription, Tenant
from tests.conftest_users import client_of
from tests.integration.api.helpers import TICK_V1, register

pytestmark = pytest.mark.django_db

LOG = "/admin/auditlog/logentry/"


@pytest.fixture
def staff(second_desk_staff):
    models = ("logentry", "subscription")
    return second_desk_staff(Permission.objects.filter(content_type__model__in=models, codename__startswith="view_"))


@pytest.fixture
def team():
    return Group.objects.get(name="second desk team")


def entry_url(entry: LogEntry) -> str:
    return f"{LOG}{entry.pk}/change/"


def entry_of(row) -> LogEntry:
    return LogEntry.objects.get_for_object(row).first()


def test_a_staff_account_without_the_audit_role_sees_no_audit_entry(staff, staff_console, team, owner, second_tenant):
    access.revoke_role("audit", group=team, target=second_tenant, acting_user=owner)
    assert register(client_of(owner), ":.second-desk:ticks-value", TICK_V1).status_code == 200
    own_subject = entry_of(Subject.objects.get(tenant=second_tenant))

    assert staff_console.get(LOG).status_code == 403
    assert staff_console.get(entry_url(own_subject)).status_code == 403
    assert LOG not in staff_console.get("/admin/").content.decode()


def test_an_auditor_of_its_tenant_sees_every_entry_there_another_accounts_subscription_included(
    staff, staff_console, owner, second_tenant
):
    others = entry_of(Subscription.objects.create(tenant=second_tenant, owner=owner, subject_prefix="ticks"))

    assert entry_url(others) in staff_console.get(f"{LOG}?all=").content.decode()
    assert staff_console.get(entry_url(others)).status_code == 200


def test_an_auditor_of_one_subject_does_not_see_another_accounts_subscription_history_in_its_tenant(
    staff, staff_console, team, owner, second_tenant
):
    assert register(client_of(owner), ":.second-desk:ticks-value", TICK_V1).status_code == 200
    access.revoke_role("audit", group=team, target=second_tenant, acting_user=owner)
    access.grant_role(
        "audit", group=team, target=Subject.objects.get(tenant=second_tenant, name="ticks-value"), acting_user=owner
    )
    others = entry_of(Subscription.objects.create(tenant=second_tenant, owner=owner, subject_prefix="ticks"))

    assert entry_url(others) not in staff_console.get(f"{LOG}?all=").content.decode()
    assert staff_console.get(entry_url(others)).status_code == 302  # as for an entry that does not exist


def test_an_auditor_does_not_see_another_accounts_subscription_history_in_a_tenant_it_only_reads(
    staff, staff_console, owner
):
    shared = Tenant.objects.create(slug="shared-desk", name="Shared desk", shared=True)
    others = entry_of(Subscription.objects.create(tenant=shared, owner=owner, subject_prefix="ticks"))

    assert entry_url(others) not in staff_console.get(f"{LOG}?all=").content.decode()
    assert staff_console.get(entry_url(others)).status_code == 302


def test_a_superuser_sees_every_subscriptions_history(console, staff, owner, second_tenant):
    others = entry_of(Subscription.objects.create(tenant=second_tenant, owner=staff, subject_prefix="ticks"))

    assert entry_url(others) in console.get(f"{LOG}?all=").content.decode()
