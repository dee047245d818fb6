"""The bundled catalogue's common/ and schemaregistry/ files are shared: every tenant's accounts read and import them.

`load_schemas` registers them into the shared tenant and the rest of the catalogue into the default tenant.
Service accounts of acme and globex sign in with API tokens, each bound to its tenant with write there.
"""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.test import APIClient

from schemas_app import access
from schemas_app.models import Subject, Tenant, TenantBinding
from tests.conftest_users import api_token
from tests.integration.api.helpers import register

pytestmark = pytest.mark.django_db

SHARED_FILES = {
    "common/base.proto",
    "common/money.proto",
    "common/timestamp.proto",
    "common/user.proto",
    "schemaregistry/options.proto",
    "schemaregistry/registry_service.proto",
}
INVOICE = """syntax = "proto3";
package billing.v1;

import "common/money.proto";

message Invoice {
  string invoice_id = 1;
  common.v1.Money total = 2;
  string tenant_id = 3;
}
"""


@pytest.fixture
def catalogue():
    call_command("load_schemas", stdout=io.StringIO())


def service_account(django_user_model, owner, slug: str) -> APIClient:
    """A token-signed client of an account bound to a new tenant, whose group may write there."""
    tenant = Tenant.objects.create(slug=slug, name=slug.title())
    user = django_user_model.objects.create_user(f"{slug}-bot")
    TenantBinding.objects.create(user=user, tenant=tenant)
    group = Group.objects.create(name=f"{slug} team")
    user.groups.add(group)
    access.grant_role("write", group=group, target=tenant, acting_user=owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token(user)}")
    return client


@pytest.fixture
def acme(django_user_model, owner):
    return service_account(django_user_model, owner, "acme")


@pytest.fixture
def globex(django_user_model, owner):
    return service_account(django_user_model, owner, "globex")


def money_reference(version) -> dict:
    return {"name": "common/money.proto", "subject": "common/money.proto", "version": version}


def test_load_schemas_registers_common_and_schemaregistry_into_the_shared_tenant(catalogue):
    shared = set(Subject.objects.filter(tenant__slug=Tenant.SHARED_SLUG).values_list("name", flat=True))
    assert shared == SHARED_FILES
    assert Tenant.objects.get(slug=Tenant.SHARED_SLUG).shared
    default = set(Subject.objects.filter(tenant__slug=Tenant.DEFAULT_SLUG).values_list("name", flat=True))
    assert "trading/orders.proto" in default and "system/config.proto" in default
    assert not default & SHARED_FILES


def test_loading_the_catalogue_again_registers_nothing_new(catalogue):
    out = io.StringIO()
    call_command("load_schemas", stdout=out)
    assert "(0 new versions)" in out.getvalue()


def test_the_default_tenants_files_reference_the_shared_ones(catalogue, admin):
    orders = admin.get("/subjects/trading%2Forders.proto/versions/latest").json()
    assert {reference["subject"] for reference in orders["references"]} >= {"common/money.proto"}
    referenced_by = admin.get("/subjects/:.shared:common%2Fmoney.proto/versions/1/referencedby").json()
    assert orders["id"] in referenced_by


@pytest.mark.parametrize("tenant", ["acme", "globex"])
def test_each_tenants_account_sees_the_shared_catalogue(catalogue, acme, globex, tenant):
    client = {"acme": acme, "globex": globex}[tenant]
    assert set(client.get("/subjects").json()) == SHARED_FILES
    money = client.get("/subjects/common%2Fmoney.proto/versions/latest")
    assert money.status_code == 200 and "message Money" in money.json()["schema"]
    assert client.get("/contexts").json() == [f".{tenant}", ".shared"]


def test_each_tenants_account_imports_the_shared_catalogue_and_sees_only_its_own_subjects(catalogue, acme, globex):
    assert register(acme, "invoices-value", INVOICE, [money_reference(1)]).status_code == 200
    response = register(globex, "globex-invoices-value", INVOICE, [money_reference(-1)])
    assert response.status_code == 200, response.json()

    assert set(acme.get("/subjects").json()) == SHARED_FILES | {"invoices-value"}
    assert set(globex.get("/subjects").json()) == SHARED_FILES | {"globex-invoices-value"}
    assert globex.get("/subjects/:.acme:invoices-value/versions").json()["error_code"] == 40401
    assert acme.get("/subjects/globex-invoices-value/versions").json()["error_code"] == 40401


def test_the_default_tenants_files_stay_unknown_to_a_bound_account(catalogue, acme):
    assert acme.get("/subjects/trading%2Forders.proto/versions").json()["error_code"] == 40401


def test_a_tenants_account_may_not_write_into_the_shared_catalogue(catalogue, acme):
    text = acme.get("/subjects/common%2Fmoney.proto/versions/latest").json()["schema"]
    response = register(acme, ":.shared:common%2Fmoney.proto", text + "\nmessage Change {}\n")
    assert response.status_code == 403 and response.json()["error_code"] == 40301


def test_a_write_grant_on_the_shared_tenant_lets_the_account_change_it(catalogue, acme, owner, django_user_model):
    group = django_user_model.objects.get(username="acme-bot").groups.get()
    access.grant_role("write", group=group, target=Tenant.objects.get(slug=Tenant.SHARED_SLUG), acting_user=owner)
    text = acme.get("/subjects/common%2Fmoney.proto/versions/latest").json()["schema"]
    response = register(acme, ":.shared:common%2Fmoney.proto", text + "\nmessage Change {}\n")
    assert response.status_code == 200, response.json()
    assert acme.get("/subjects/:.shared:common%2Fmoney.proto/versions").json() == [1, 2]


def test_the_catalogue_page_links_each_import_to_the_tenant_that_holds_it(catalogue, console):
    page = console.get("/ui/subjects/trading/orders.proto/").content.decode()
    assert '<a href="/ui/subjects/common/money.proto/?tenant=shared">' in page
    assert console.get("/ui/subjects/common/money.proto/?tenant=shared").status_code == 200


@pytest.mark.parametrize("tenant", ["acme", "globex"])
def test_the_management_api_lists_a_shared_subjects_versions_to_each_tenant(catalogue, acme, globex, tenant):
    client = {"acme": acme, "globex": globex}[tenant]
    listed = client.get("/schemas/common%2Fmoney.proto/versions")
    assert listed.status_code == 200, listed.json()
    assert [version["version"] for version in listed.json()] == [1]


def test_a_tenants_own_subject_wins_over_the_shared_one_in_the_management_api(catalogue, acme):
    text = acme.get("/subjects/common%2Fmoney.proto/versions/latest").json()["schema"]
    assert register(acme, "common%2Fmoney.proto", text + "\nmessage AcmeOnly {}\n").status_code == 200
    listed = acme.get("/schemas/common%2Fmoney.proto/versions").json()
    assert len(listed) == 1 and "AcmeOnly" in listed[0]["schema"]
