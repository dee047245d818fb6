"""Every role against every endpoint: allowed answers are neither 401 nor 403; denied ones are, in the JSON shape.

The code generation endpoints are held to the exact status each allowed answer has.

Accounts hold their roles through the bundled groups, as a deployment would grant them. Without credentials
every endpoint answers 401 (anonymous reads are off by default); signed in without the role, 403.
"""

import json

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from tests.integration.api.helpers import CONTENT_TYPE, TICK_V1, TICK_V2_ADDS_FIELD, register

pytestmark = pytest.mark.django_db

SCHEMA = {"schema": TICK_V2_ADDS_FIELD}
# Roles each account holds; "signed-in" is any authenticated account, "superuser" a Django superuser.
ACCOUNTS = {
    "reader": ("read",),
    "service team member": ("read",),  # the service team holds nothing until a grant
    "platform admin": ("read", "write", "approve"),
    "CI pipeline": ("read", "codegen"),
    "auditor": ("read", "audit"),
    "super admin": ("read", "write", "approve", "codegen", "delete", "audit"),
    "superuser": ("read", "write", "approve", "codegen", "delete", "audit", "superuser"),
}
GROUP_OF = {name: name for name in ("service team", "platform admin", "CI pipeline", "auditor", "super admin")}
GROUP_OF["service team member"] = "service team"

# (method, path, body, role needed)
ENDPOINTS = [
    ("get", "/subjects", None, "read"),
    ("get", "/subjects/ticks-value/versions", None, "read"),
    ("post", "/subjects/ticks-value/versions", SCHEMA, "write"),
    ("post", "/subjects/ticks-value", {"schema": TICK_V1}, "read"),
    ("get", "/subjects/ticks-value/versions/1", None, "read"),
    ("get", "/subjects/ticks-value/versions/1/schema", None, "read"),
    ("get", "/subjects/ticks-value/versions/1/referencedby", None, "read"),
    ("delete", "/subjects/ticks-value/versions/1", None, "delete"),
    ("delete", "/subjects/ticks-value", None, "delete"),
    ("get", "/schemas", None, "read"),
    ("get", "/schemas/types", None, "read"),
    ("get", "/schemas/ids/{id}", None, "read"),
    ("get", "/schemas/ids/{id}/versions", None, "read"),
    ("get", "/schemas/guids/00000000-0000-0000-0000-000000000000", None, "read"),
    ("post", "/compatibility/subjects/ticks-value/versions/latest", SCHEMA, "read"),
    ("get", "/config", None, "read"),
    ("put", "/config", {"compatibility": "BACKWARD"}, "approve"),
    ("get", "/config/ticks-value", None, "read"),
    ("put", "/config/ticks-value", {"compatibility": "FULL"}, "approve"),
    ("delete", "/config/ticks-value", None, "approve"),
    ("get", "/mode", None, "read"),
    ("put", "/mode/ticks-value", {"mode": "READWRITE"}, "approve"),
    ("delete", "/mode/ticks-value", None, "approve"),
    ("get", "/contexts", None, "read"),
    ("get", "/schemas/ticks-value", None, "read"),
    ("get", "/schemas/ticks-value/versions", None, "read"),
    ("post", "/schemas/ticks-value", SCHEMA, "write"),
    ("post", "/schemas/ticks-value/compatibility", SCHEMA, "read"),
    ("delete", "/schemas/ticks-value", None, "delete"),
    ("get", "/tokens", None, "read"),
    ("post", "/tokens", {"name": "matrix"}, "read"),
    ("get", "/tenants", None, "read"),
    ("post", "/tenants", {"slug": "matrix", "name": "Matrix"}, "superuser"),
    ("get", "/tenants/default", None, "read"),
    ("put", "/tenants/default/config", {"config": {}}, "approve"),
    ("delete", "/tenants/default/config", None, "approve"),
    ("get", "/reviews", None, "read"),
]
# Code generation, against a job that generated ticks-value and stored its archive:
# (method, path, body, role needed, the allowed answer's status).
CODEGEN_ENDPOINTS = [
    ("get", "/generate/languages", None, "read", 200),
    ("post", "/generate/python", {"subject": "ticks-value"}, "codegen", 200),  # 200: the archive is stored
    ("get", "/jobs/{job}", None, "read", 200),
    ("get", "/generated/python/{version}", None, "read", 200),
    ("get", "/generated/python/latest?subject=ticks-value", None, "read", 302),
]


@pytest.fixture
def schema_id(owner):
    admin = APIClient()
    admin.force_authenticate(owner)
    return register(admin, "ticks-value", TICK_V1).json()["id"]


@pytest.fixture
def generated(owner, schema_id, django_capture_on_commit_callbacks) -> dict:
    """The owner's job for ticks-value in Python, run in-process once it commits; its id and archive version."""
    admin = APIClient()
    admin.force_authenticate(owner)
    with django_capture_on_commit_callbacks(execute=True):
        started = call(admin, "post", "/generate/python", {"subject": "ticks-value"})
    assert started.status_code == 202, started.content
    assert admin.get(f"/jobs/{started.json()['job_id']}").json()["state"] == "succeeded"
    return {"job": started.json()["job_id"], "version": started.json()["version"]}


def account(django_user_model, name: str):
    if name == "superuser":
        return django_user_model.objects.create_superuser("matrix-superuser", password="x")
    user = django_user_model.objects.create_user(f"matrix-{name}", password="x")
    if name in GROUP_OF:
        user.groups.add(Group.objects.get(name=GROUP_OF[name]))
    return user


def call(client, method, path, body):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, data=json.dumps(body), content_type=CONTENT_TYPE)


def assert_error_shape(response, status, code):
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert body["error_code"] == code and isinstance(body["message"], str)


@pytest.mark.parametrize("name", ACCOUNTS)
@pytest.mark.parametrize(("method", "path", "body", "role"), ENDPOINTS, ids=lambda value: str(value)[:40])
def test_each_role_against_each_endpoint(django_user_model, schema_id, name, method, path, body, role):
    client = APIClient()
    client.force_authenticate(account(django_user_model, name))
    response = call(client, method, path.format(id=schema_id), body)
    if role in ACCOUNTS[name]:
        assert response.status_code not in (401, 403), (name, method, path, response.content)
    else:
        assert_error_shape(response, 403, 40301)


@pytest.mark.parametrize(("method", "path", "body", "role"), ENDPOINTS, ids=lambda value: str(value)[:40])
def test_each_endpoint_refuses_anonymous_callers_with_401(schema_id, method, path, body, role):
    response = call(APIClient(), method, path.format(id=schema_id), body)
    assert_error_shape(response, 401, 40101)
    assert response["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("name", ACCOUNTS)
@pytest.mark.parametrize(("method", "path", "body", "role", "allowed"), CODEGEN_ENDPOINTS, ids=str)
def test_each_role_against_each_code_generation_endpoint(
    django_user_model, generated, name, method, path, body, role, allowed
):
    client = APIClient()
    client.force_authenticate(account(django_user_model, name))
    response = call(client, method, path.format(**generated), body)
    if role in ACCOUNTS[name]:
        assert response.status_code == allowed, (name, method, path, response.content)
    else:
        assert_error_shape(response, 403, 40301)


@pytest.mark.parametrize(("method", "path", "body", "role", "allowed"), CODEGEN_ENDPOINTS, ids=str)
def test_each_code_generation_endpoint_refuses_anonymous_callers_with_401(generated, method, path, body, role, allowed):
    response = call(APIClient(), method, path.format(**generated), body)
    assert_error_shape(response, 401, 40101)
    assert response["WWW-Authenticate"].startswith("Basic")
