"""Code generation over the shared catalogue: files of a tenant import the shared common/ files, and generate.

`load_schemas` puts the bundled common/ and schemaregistry/ files into the shared tenant; a job reads its
imports from there, yet a job of one tenant stays unknown to another even when it read only shared files.
"""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.test import APIClient

from schemas_app import access
from schemas_app.models import Tenant, TenantBinding
from tests.integration.api.helpers import register
from tests.integration.codegen.helpers import ORDERS, body_of, zip_names

pytestmark = pytest.mark.django_db

INVOICE = """syntax = "proto3";
package billing.v1;

import "common/money.proto";

message Invoice {
  string invoice_id = 1;
  common.v1.Money total = 2;
}
"""


@pytest.fixture
def shared_catalogue():
    call_command("load_schemas", stdout=io.StringIO())


def pipeline_of(django_user_model, owner, slug: str) -> APIClient:
    """A client of an account bound to a new tenant, whose group may write and generate there."""
    tenant = Tenant.objects.create(slug=slug, name=slug.title())
    user = django_user_model.objects.create_user(f"{slug}-ci")
    TenantBinding.objects.create(user=user, tenant=tenant)
    group = Group.objects.create(name=f"{slug} pipeline")
    user.groups.add(group)
    for role in ("write", "codegen"):
        access.grant_role(role, group=group, target=tenant, acting_user=owner)
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def acme(django_user_model, owner):
    return pipeline_of(django_user_model, owner, "acme")


@pytest.fixture
def globex(django_user_model, owner):
    return pipeline_of(django_user_model, owner, "globex")


def generate(client, run_on_commit, body):
    return run_on_commit(lambda: client.post("/generate/python", body, format="json"))


def test_a_default_tenant_file_generates_with_its_shared_imports(ci, shared_catalogue, run_on_commit):
    started = generate(ci, run_on_commit, {"subject": ORDERS})

    assert started.status_code == 202, started.json()
    assert {"common/money.proto", "common/timestamp.proto", ORDERS} <= set(started.json()["subjects"])
    download = ci.get(started.json()["download_url"])
    assert download.status_code == 200
    assert {"trading/orders_pb2.py", "common/money_pb2.py"} <= zip_names(body_of(download))


def test_a_tenants_file_generates_with_its_shared_imports_and_stays_its_own(
    acme, globex, ci, shared_catalogue, run_on_commit
):
    reference = {"name": "common/money.proto", "subject": "common/money.proto", "version": 1}
    assert register(acme, "invoices-value", INVOICE, [reference]).status_code == 200

    started = generate(acme, run_on_commit, {"subject": "invoices-value"})

    assert started.status_code == 202, started.json()
    assert acme.get(started.json()["download_url"]).status_code == 200
    for stranger in (globex, ci):
        assert stranger.get(started.json()["status_url"]).json()["error_code"] == 40451
        assert stranger.get(started.json()["download_url"]).status_code == 404


def test_a_job_of_another_tenant_stays_unknown_when_it_read_only_shared_files(
    acme, globex, shared_catalogue, run_on_commit
):
    started = generate(acme, run_on_commit, {"subject": "common/money.proto"})

    assert started.status_code == 202, started.json()
    assert acme.get(started.json()["status_url"]).json()["state"] == "succeeded"
    assert globex.get(started.json()["status_url"]).status_code == 404
    assert globex.get(started.json()["download_url"]).status_code == 404


def test_a_tenants_own_subject_hides_the_shared_one_of_the_same_name_even_for_a_version_only_the_shared_has(
    acme, globex, shared_catalogue, run_on_commit
):
    from schemas_app import selectors, services

    shared_money = selectors.subject_version_get(
        tenant=selectors.shared_tenant(), subject="common/money.proto", version="latest"
    ).schema.text
    services.subject_version_register(
        tenant=selectors.shared_tenant(),
        subject_name="common/money.proto",
        schema=shared_money.replace("}", "  string note = 99;\n}", 1),
        acting_user=services.system_account(),
    )
    assert register(acme, "common/money.proto", shared_money).status_code == 200  # acme's own, version 1 only

    hidden = generate(acme, run_on_commit, {"subject": "common/money.proto", "version": "2"})
    seen = generate(globex, run_on_commit, {"subject": "common/money.proto", "version": "2"})

    assert (hidden.status_code, hidden.json()["error_code"]) == (404, 40402)
    assert seen.status_code == 202, seen.json()
