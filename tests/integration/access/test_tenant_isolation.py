"""Tenant isolation: an account bound to acme sees acme and the shared catalogue, and nothing of globex, by any path.

Whatever belongs only to globex answers acme's account exactly as something that does not exist.
"""

import uuid

import pytest
from django.contrib.auth.models import Group

from schemas_app import access
from schemas_app.models import Schema, Tenant, TenantBinding
from tests.conftest_users import client_of
from tests.integration.api.helpers import MONEY, ORDER_WITH_MONEY, TICK_V1, TICK_V2_ADDS_FIELD, post, put, register

pytestmark = pytest.mark.django_db

GLOBEX_ONLY = TICK_V1.replace("double volume = 4;", "double volume = 4;\n  string globex_desk = 7;")


@pytest.fixture
def tenants():
    return Tenant.objects.create(slug="acme", name="Acme"), Tenant.objects.create(slug="globex", name="Globex")


@pytest.fixture
def alice(django_user_model, tenants, owner):
    """acme's service account: bound to acme, in a group holding write, approve and delete there."""
    user = django_user_model.objects.create_user("alice", password="alice-password")
    TenantBinding.objects.create(user=user, tenant=tenants[0])
    group = Group.objects.create(name="acme team")
    user.groups.add(group)
    for role in ("write", "approve", "delete"):
        access.grant_role(role, group=group, target=tenants[0], acting_user=owner)
    return client_of(user)


@pytest.fixture
def world(admin, tenants):
    """acme's and globex's subjects, and money in the shared catalogue; returns globex's schema id and guid."""
    assert register(admin, ":.shared:common%2Fmoney.proto", MONEY).status_code == 200
    reference = {"name": "common/money.proto", "subject": "common/money.proto", "version": 1}
    response = register(admin, ":.acme:orders-value", ORDER_WITH_MONEY, [reference])
    assert response.status_code == 200, response.json()
    assert register(admin, ":.acme:ticks-value", TICK_V1).status_code == 200
    globex_id = register(admin, ":.globex:ticks-value", GLOBEX_ONLY).json()["id"]
    assert register(admin, ":.globex:secret-value", TICK_V1).status_code == 200
    return globex_id, str(Schema.objects.get(pk=globex_id).guid)


def unknown_id() -> int:
    return Schema.objects.order_by("-id").values_list("id", flat=True).first() + 1000


def assert_same_answer(response, expected_status, expected_code):
    assert response.status_code == expected_status, response.content
    assert response.json()["error_code"] == expected_code


def test_listing_shows_the_own_and_shared_subjects_only(alice, world):
    assert alice.get("/subjects").json() == ["common/money.proto", "orders-value", "ticks-value"]
    subjects = {version["subject"] for version in alice.get("/schemas").json()}
    assert subjects == {"common/money.proto", "orders-value", "ticks-value"}


def test_an_unqualified_subject_is_the_bound_tenants_own(alice, world):
    assert alice.get("/subjects/ticks-value/versions/1").json()["schema"] == TICK_V1
    assert alice.get("/subjects/ticks-value/versions").json() == [1]


def test_an_id_of_another_tenant_answers_exactly_as_an_unknown_id(alice, world):
    globex_id, _ = world
    for suffix in ("", "/schema", "/versions", "/subjects"):
        hidden = alice.get(f"/schemas/ids/{globex_id}{suffix}")
        missing = alice.get(f"/schemas/ids/{unknown_id()}{suffix}")
        assert_same_answer(hidden, 404, 40403)
        assert hidden.json()["message"] == missing.json()["message"].replace(str(unknown_id()), str(globex_id))


def test_a_guid_of_another_tenant_answers_exactly_as_an_unknown_guid(alice, world):
    _, globex_guid = world
    hidden = alice.get(f"/schemas/guids/{globex_guid}")
    assert_same_answer(hidden, 404, 40403)
    missing_guid = str(uuid.uuid4())
    missing = alice.get(f"/schemas/guids/{missing_guid}")
    assert hidden.json()["message"] == missing.json()["message"].replace(missing_guid, globex_guid)


def test_guessing_every_id_finds_only_the_own_and_shared_schemas(alice, world):
    found = {
        schema_id for schema_id in range(1, unknown_id()) if alice.get(f"/schemas/ids/{schema_id}").status_code == 200
    }
    visible = {version["id"] for version in alice.get("/schemas").json()}
    assert found == visible and world[0] not in found


def test_an_id_both_tenants_hold_is_visible_to_each(alice, world):
    shared_text_id = alice.get("/subjects/ticks-value/versions/1").json()["id"]
    assert alice.get(f"/schemas/ids/{shared_text_id}").status_code == 200
    assert alice.get(f"/schemas/ids/{shared_text_id}/subjects").json() == ["ticks-value"]


@pytest.mark.parametrize("context", ["globex", "no-such-tenant"])
def test_another_tenants_context_answers_as_an_unknown_one_by_every_subject_path(alice, world, context):
    subject = f":.{context}:secret-value"
    for response in (
        alice.get(f"/subjects/{subject}/versions"),
        alice.get(f"/subjects/{subject}/versions/1"),
        alice.get(f"/subjects/{subject}/versions/1/schema"),
        alice.get(f"/subjects/{subject}/versions/1/referencedby"),
        post(alice, f"/subjects/{subject}", {"schema": TICK_V1}),
        post(alice, f"/compatibility/subjects/{subject}/versions/latest", {"schema": TICK_V2_ADDS_FIELD}),
        alice.get(f"/config/{subject}"),
        alice.get(f"/mode/{subject}"),
        put(alice, f"/config/{subject}", {"compatibility": "NONE"}),
        put(alice, f"/mode/{subject}", {"mode": "READONLY"}),
        register(alice, subject, TICK_V2_ADDS_FIELD),
        alice.delete(f"/subjects/{subject}/versions/1"),
        alice.delete(f"/subjects/{subject}"),
        alice.get(f"/schemas/{subject}"),
        post(alice, f"/schemas/{subject}", {"schema": TICK_V1}),
    ):
        assert_same_answer(response, 404, 40401)
        assert response.json()["message"] == f"Subject '{subject}' not found."


def test_nothing_was_changed_in_the_other_tenant(alice, admin, world):
    register(alice, ":.globex:secret-value", TICK_V2_ADDS_FIELD)
    alice.delete("/subjects/:.globex:secret-value")
    assert admin.get("/subjects/:.globex:secret-value/versions").json() == [1]


def test_contexts_list_the_tenants_the_caller_may_see(alice, admin, world):
    assert alice.get("/contexts").json() == [".acme", ".shared"]
    assert admin.get("/contexts").json() == [".", ".acme", ".globex", ".shared"]


def test_a_context_reaches_the_own_tenant_too(alice, world):
    assert alice.get("/subjects/:.acme:ticks-value/versions").json() == [1]


def test_the_shared_catalogue_is_read_and_referenced_from_the_tenant(alice, world):
    assert alice.get("/subjects/common%2Fmoney.proto/versions/1").json()["schema"] == MONEY
    order = alice.get("/subjects/orders-value/versions/1").json()
    assert order["references"][0]["subject"] == "common/money.proto"


def test_the_tenant_registers_in_its_own_tenant_only(alice, admin, world):
    assert register(alice, "ticks-value", TICK_V2_ADDS_FIELD).json()["id"]
    assert admin.get("/subjects/:.acme:ticks-value/versions").json() == [1, 2]
    assert admin.get("/subjects/:.globex:ticks-value/versions").json() == [1]
    assert admin.get("/subjects/ticks-value/versions").status_code == 404


def test_the_tenant_may_not_write_into_the_shared_catalogue(alice, world):
    response = register(alice, ":.shared:common%2Fmoney.proto", MONEY.replace("int32 nanos = 2;", ""))
    assert_same_answer(response, 403, 40301)


@pytest.fixture
def globex_archive(admin, world, django_capture_on_commit_callbacks) -> dict:
    """A Python archive of globex's secret-value, generated in-process by the owner; its job id and version."""
    with django_capture_on_commit_callbacks(execute=True):
        started = post(admin, "/generate/python", {"subject": "secret-value", "tenant": "globex"})
    assert started.status_code == 202, started.content
    return {"job": started.json()["job_id"], "version": started.json()["version"]}


def test_another_tenants_generation_job_answers_exactly_as_an_unknown_job(alice, globex_archive):
    unknown = str(uuid.uuid4())
    hidden = alice.get(f"/jobs/{globex_archive['job']}")
    assert_same_answer(hidden, 404, 40451)
    missing = alice.get(f"/jobs/{unknown}")
    assert hidden.json()["message"] == missing.json()["message"].replace(unknown, globex_archive["job"])


def test_another_tenants_archive_answers_exactly_as_an_unknown_archive(alice, globex_archive):
    unknown = "0" * 64
    for suffix in ("", "?format=tar.gz"):
        hidden = alice.get(f"/generated/python/{globex_archive['version']}{suffix}")
        assert_same_answer(hidden, 404, 40452)
        missing = alice.get(f"/generated/python/{unknown}{suffix}")
        assert hidden.json()["message"] == missing.json()["message"].replace(unknown, globex_archive["version"])


@pytest.mark.parametrize("tenant", ["globex", "no-such-tenant"])
def test_code_generation_in_another_tenant_answers_as_in_an_unknown_one(alice, globex_archive, tenant):
    for response in (
        post(alice, "/generate/python", {"subject": "secret-value", "tenant": tenant}),
        post(alice, "/generate/python", {"all": True, "tenant": tenant}),
        alice.get("/generated/python/latest", {"subject": "secret-value", "tenant": tenant}),
    ):
        assert_same_answer(response, 404, 404)
        assert response.json()["message"] == f"Tenant '{tenant}' not found."


def test_code_generation_of_another_tenants_subject_answers_as_an_unknown_subject(alice, globex_archive):
    for response in (
        post(alice, "/generate/python", {"subject": "secret-value"}),
        post(alice, "/generate/python", {"subjects": ["secret-value"]}),
        alice.get("/generated/python/latest", {"subject": "secret-value"}),
    ):
        assert_same_answer(response, 404, 40401)
        assert response.json()["message"] == "Subject 'secret-value' not found."
