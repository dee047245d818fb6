"""Every role against every endpoint and page, each cell held to the exact answer it gets.

Accounts hold their roles through the bundled groups, as a deployment would grant them. An allowed cell answers
the status the endpoint really gives that role; a denied one answers 401 without credentials (anonymous reads are
off by default) and 403 without the role, both in the JSON error shape. What belongs to another account (its token,
its subscription) answers 404, as an unknown thing would. Admin pages send whoever is not staff to the admin's
login and answer 403 to staff without the model permission; the /ui/ pages send strangers to the people's login and
answer 404 to an account a page is not for.

The world (accounts, a subject, two held changes, a generated archive, a token and a subscription per account) is
built once for the module inside a transaction rolled back at its end. Each cell runs in a savepoint of its own
(pytest-django's), so a cell that deletes, approves or rotates leaves the next cell the same world.
"""

import json
from typing import NamedTuple
from urllib.parse import unquote

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.test import Client, TestCase
from rest_framework.test import APIClient

from schemas_app import notifications, selectors, tokens
from schemas_app.models import ChangeRequest, ReviewComment, Schema, TenantConfig
from schemas_app.review_preparation import change_request_prepare
from tests.conftest import empty_caches
from tests.conftest_users import client_of
from tests.integration.api.helpers import CONTENT_TYPE, TICK_V1, TICK_V2_ADDS_FIELD, TICK_V2_CHANGES_TYPE, register

pytestmark = pytest.mark.django_db

SCHEMA = {"schema": TICK_V2_ADDS_FIELD}
DEPRECATION = {"reason": "matrix", "successor": "ticks-value"}
# Roles each account holds. "signed-in" is any authenticated account; "author" wrote the held change the matrix
# withdraws (only its author may); "superuser" is a Django superuser.
ACCOUNTS = {
    "reader": ("signed-in", "read"),
    "service team member": ("signed-in", "read"),  # the service team holds nothing until a grant
    "platform admin": ("signed-in", "read", "write", "approve", "author"),
    "CI pipeline": ("signed-in", "read", "codegen"),
    "auditor": ("signed-in", "read", "audit"),
    "super admin": ("signed-in", "read", "write", "approve", "codegen", "delete", "audit"),
    "superuser": ("signed-in", "read", "write", "approve", "codegen", "delete", "audit", "superuser"),
}
GROUP_OF = {name: name for name in ("service team", "platform admin", "CI pipeline", "auditor", "super admin")}
GROUP_OF["service team member"] = "service team"

FORBIDDEN = (403, 40301)


class Cell(NamedTuple):
    """One endpoint: who may call it, what they get, and what everyone else gets (status, error code)."""

    method: str
    path: str
    body: dict | None
    role: str
    allowed: int
    denied: tuple[int, int] = FORBIDDEN


# Paths name the world's things: {id} and {guid} the schema, {review} a held change of another author, {withdrawn}
# one the platform admin wrote, {job} and {version} the generated archive, {token} and {subscription} the caller's
# own, {others_token} and {others_subscription} the superuser's.
ENDPOINTS = [
    # Confluent's API
    Cell("get", "/subjects", None, "read", 200),
    Cell("get", "/subjects/ticks-value/versions", None, "read", 200),
    Cell("post", "/subjects/ticks-value/versions", SCHEMA, "write", 200),
    Cell("post", "/subjects/ticks-value", {"schema": TICK_V1}, "read", 200),
    Cell("get", "/subjects/ticks-value/versions/1", None, "read", 200),
    Cell("get", "/subjects/ticks-value/versions/1/schema", None, "read", 200),
    Cell("get", "/subjects/ticks-value/versions/1/referencedby", None, "read", 200),
    Cell("delete", "/subjects/ticks-value/versions/1", None, "delete", 200),
    Cell("delete", "/subjects/ticks-value", None, "delete", 200),
    Cell("get", "/schemas", None, "read", 200),
    Cell("get", "/schemas/types", None, "read", 200),
    Cell("get", "/schemas/ids/{id}", None, "read", 200),
    Cell("get", "/schemas/ids/{id}/versions", None, "read", 200),
    Cell("get", "/schemas/ids/{id}/schema", None, "read", 200),
    Cell("get", "/schemas/ids/{id}/subjects", None, "read", 200),
    Cell("get", "/schemas/guids/{guid}", None, "read", 200),
    Cell("post", "/compatibility/subjects/ticks-value/versions/latest", SCHEMA, "read", 200),
    Cell("post", "/compatibility/subjects/ticks-value/versions", SCHEMA, "read", 200),
    Cell("get", "/config", None, "read", 200),
    Cell("put", "/config", {"compatibility": "BACKWARD"}, "approve", 200),
    Cell("get", "/config/ticks-value", None, "read", 200),
    Cell("put", "/config/ticks-value", {"compatibility": "FULL"}, "approve", 200),
    Cell("delete", "/config/ticks-value", None, "approve", 200),
    Cell("delete", "/config", None, "approve", 200),
    Cell("get", "/mode", None, "read", 200),
    Cell("put", "/mode", {"mode": "READWRITE"}, "approve", 200),
    Cell("get", "/mode/ticks-value", None, "read", 200),
    Cell("put", "/mode/ticks-value", {"mode": "READWRITE"}, "approve", 200),
    Cell("delete", "/mode/ticks-value", None, "approve", 200),
    Cell("get", "/contexts", None, "read", 200),
    Cell("get", "/associations/resources/topic/ticks", None, "read", 200),
    # Deprecation
    Cell("post", "/subjects/ticks-value/versions/1/deprecate", DEPRECATION, "write", 200),
    Cell("post", "/subjects/ticks-value/deprecate", DEPRECATION, "write", 200),
    # The management API
    Cell("get", "/schemas/ticks-value", None, "read", 200),
    Cell("get", "/schemas/ticks-value/versions", None, "read", 200),
    Cell("post", "/schemas/ticks-value", SCHEMA, "write", 201),
    Cell("post", "/schemas/ticks-value/compatibility", SCHEMA, "read", 200),
    Cell("delete", "/schemas/ticks-value", None, "delete", 200),
    Cell("post", "/metrics/message-sizes", {"subject": "ticks-value", "sizes": [12, 40]}, "read", 200),
    # Tokens: an account's own; another's is unknown to it (a superuser sees every account's)
    Cell("get", "/tokens", None, "signed-in", 200),
    Cell("post", "/tokens", {"name": "matrix"}, "signed-in", 201),
    Cell("get", "/tokens/{token}", None, "signed-in", 200),
    Cell("post", "/tokens/{token}/rotate", None, "signed-in", 200),
    Cell("delete", "/tokens/{token}", None, "signed-in", 200),
    Cell("get", "/tokens/{others_token}", None, "superuser", 200, (404, 40410)),
    Cell("delete", "/tokens/{others_token}", None, "superuser", 200, (404, 40410)),
    # Tenants
    Cell("get", "/tenants", None, "read", 200),
    Cell("post", "/tenants", {"slug": "matrix", "name": "Matrix"}, "superuser", 201),
    Cell("get", "/tenants/default", None, "read", 200),
    Cell("get", "/tenants/default/config", None, "read", 200),
    # 422 past the permission check: the world has no system/config.proto to check a configuration against
    # (loading the catalogue for it would cost this module seconds; test_tenant_config.py covers the 200).
    Cell("put", "/tenants/default/config", {"config": {}}, "approve", 422),
    Cell("delete", "/tenants/default/config", None, "approve", 200),
    # Reviews
    Cell("get", "/reviews", None, "read", 200),
    Cell("get", "/reviews/{review}", None, "read", 200),
    Cell("post", "/reviews/{review}/approve", {"overrideReason": "matrix"}, "approve", 200),
    Cell("post", "/reviews/{review}/reject", {"reason": "matrix"}, "approve", 200),
    Cell("post", "/reviews/{review}/comments", {"text": "matrix"}, "signed-in", 201),
    Cell("post", "/reviews/{withdrawn}/withdraw", {"reason": "matrix"}, "author", 200),
    # Subscriptions: an account's own; another's is unknown to it (a superuser sees every account's)
    Cell("get", "/subscriptions", None, "signed-in", 200),
    Cell("post", "/subscriptions", {"email": "matrix@example.org"}, "signed-in", 201),
    Cell("get", "/subscriptions/{subscription}", None, "signed-in", 200),
    Cell("get", "/subscriptions/{subscription}/deliveries", None, "signed-in", 200),
    Cell("post", "/subscriptions/{subscription}/rotate", None, "signed-in", 200),
    Cell("delete", "/subscriptions/{subscription}", None, "signed-in", 204),
    Cell("get", "/subscriptions/{others_subscription}", None, "superuser", 200, (404, 404)),
    Cell("get", "/subscriptions/{others_subscription}/deliveries", None, "superuser", 200, (404, 404)),
    Cell("post", "/subscriptions/{others_subscription}/rotate", None, "superuser", 200, (404, 404)),
    Cell("delete", "/subscriptions/{others_subscription}", None, "superuser", 204, (404, 404)),
    # Code generation, against a job that generated ticks-value and stored its archive
    Cell("get", "/generate/languages", None, "read", 200),
    Cell("post", "/generate/python", {"subject": "ticks-value"}, "codegen", 200),  # 200: the archive is stored
    Cell("get", "/jobs/{job}", None, "read", 200),
    Cell("get", "/generated/python/{version}", None, "read", 200),
    Cell("get", "/generated/python/latest?subject=ticks-value", None, "read", 302),
]


def cell_id(cell: Cell) -> str:
    return f"{cell.method} {cell.path}"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> dict:
    """Build the world once; roll it back when the module ends, so no other test sees it."""
    empty_caches()
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


def build_world() -> dict:
    users = {name: account(name) for name in ACCOUNTS}
    owner = users["superuser"]
    admin = client_of(owner)
    schema_id = register(admin, "ticks-value", TICK_V1).json()["id"]
    # The subject's own settings, so that reading and deleting them find something.
    assert call(admin, "put", "/config/ticks-value", {"compatibility": "BACKWARD"}).status_code == 200
    assert call(admin, "put", "/mode/ticks-value", {"mode": "READWRITE"}).status_code == 200
    author = get_user_model().objects.create_user("matrix-author")
    author.groups.add(Group.objects.get(name="platform admin"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        started = call(admin, "post", "/generate/python", {"subject": "ticks-value"})
    assert started.status_code == 202, started.content
    tenant = selectors.default_tenant()
    # A stored configuration to read (PUT validates against system/config.proto, which this world does not load).
    TenantConfig.objects.create(tenant_id=tenant.pk, config={"tenantId": "default"})
    return {
        "users": {name: user.pk for name, user in users.items()},
        "id": schema_id,
        "guid": str(Schema.objects.get(pk=schema_id).guid),
        "review": held_change(admin, client_of(author), "reviewed-value"),
        "withdrawn": held_change(admin, client_of(users["platform admin"]), "withdrawn-value"),
        "job": started.json()["job_id"],
        "version": started.json()["version"],
        "tokens": {
            name: tokens.api_token_create(user=user, name="matrix", acting_user=user)[0].pk
            for name, user in users.items()
        },
        "subscriptions": {
            name: notifications.subscription_create(
                tenant=tenant,
                email="matrix@example.org",
                webhook_url="https://hooks.example.org/matrix",
                events=["version.sunset"],  # nothing the cells do: no delivery leaves the machine
                acting_user=user,
            ).pk
            for name, user in users.items()
        },
    }


def held_change(admin, author, subject: str) -> int:
    """Register a version, have `author` propose a breaking change to it, and prepare the review; its id."""
    assert register(admin, subject, TICK_V1).status_code == 200
    proposed = register(author, subject, TICK_V2_CHANGES_TYPE)
    assert proposed.status_code == 202, proposed.content
    review_id = proposed.json()["review_id"]
    assert change_request_prepare(review_id=review_id)
    return review_id


def account(name: str):
    if name == "superuser":
        return get_user_model().objects.create_superuser("matrix-superuser", password="x")
    user = get_user_model().objects.create_user(f"matrix-{name}", password="x")
    if name in GROUP_OF:
        user.groups.add(Group.objects.get(name=GROUP_OF[name]))
    return user


def user_of(world, name: str):
    """A fresh copy of the account, so no cell inherits another's cached permissions."""
    return get_user_model().objects.get(pk=world["users"][name])


def path_for(world, path: str, name: str) -> str:
    """The cell's path, naming the world's things and the caller's own token and subscription."""
    return path.format(
        id=world["id"],
        guid=world["guid"],
        review=world["review"],
        withdrawn=world["withdrawn"],
        job=world["job"],
        version=world["version"],
        token=world["tokens"][name],
        subscription=world["subscriptions"][name],
        others_token=world["tokens"]["superuser"],
        others_subscription=world["subscriptions"]["superuser"],
    )


def call(client, method, path, body):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, data=json.dumps(body), content_type=CONTENT_TYPE)


def assert_error_shape(response, status, code):
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert body["error_code"] == code and isinstance(body["message"], str)


@pytest.mark.parametrize("name", ACCOUNTS)
@pytest.mark.parametrize("cell", ENDPOINTS, ids=cell_id)
def test_each_role_gets_its_answer_from_each_endpoint(world, name, cell):
    response = call(client_of(user_of(world, name)), cell.method, path_for(world, cell.path, name), cell.body)
    if cell.role in ACCOUNTS[name]:
        assert response.status_code == cell.allowed, (name, cell, response.content)
    else:
        assert_error_shape(response, *cell.denied)


@pytest.mark.parametrize("cell", ENDPOINTS, ids=cell_id)
def test_each_endpoint_refuses_anonymous_callers_with_401(world, cell):
    response = call(APIClient(), cell.method, path_for(world, cell.path, "superuser"), cell.body)
    assert_error_shape(response, 401, 40101)
    assert response["WWW-Authenticate"].startswith("Basic")


# The admin: anyone who is not staff is sent to its login; staff need the model's view permission (403 page
# otherwise), and superusers have them all. The bundled groups grant roles, not admin permissions, so the matrix adds
# two staff accounts: one with no permission at all, and a platform admin given the review queue.
STAFF = {
    "staff without permissions": (),
    "staff reviewer": ("view_changerequest",),
}
STAFF_GROUPS = {"staff reviewer": "platform admin"}


class Page(NamedTuple):
    """An admin page: the model permission a staff account needs, and what it answers to one that has it."""

    method: str
    path: str
    data: dict | None
    permission: str | None
    allowed: int


CONSOLE = "/admin/schemas_app/changerequest/{review}"
ADMIN_PAGES = [
    Page("get", "/admin/", None, None, 200),  # any staff account: the index lists what it may see
    Page("get", "/admin/schemas_app/subject/", None, "view_subject", 200),
    Page("get", "/admin/schemas_app/subjectversion/", None, "view_subjectversion", 200),
    Page("get", "/admin/schemas_app/schema/", None, "view_schema", 200),
    Page("get", "/admin/schemas_app/subjectconfig/", None, "view_subjectconfig", 200),
    Page("get", "/admin/schemas_app/subjectmode/", None, "view_subjectmode", 200),
    Page("get", "/admin/schemas_app/tenant/", None, "view_tenant", 200),
    Page("get", "/admin/schemas_app/apitoken/", None, "view_apitoken", 200),
    Page("get", "/admin/schemas_app/subscription/", None, "view_subscription", 200),
    Page("get", "/admin/auditlog/logentry/", None, "view_logentry", 200),
    # The reviewers' console: the queue, a review's page, and its buttons (each redirects back to the page)
    Page("get", "/admin/schemas_app/changerequest/", None, "view_changerequest", 200),
    Page("get", CONSOLE + "/change/", None, "view_changerequest", 200),
    Page("post", CONSOLE + "/comment/", {"text": "matrix"}, "view_changerequest", 302),
    Page("post", CONSOLE + "/approve/", {"override_reason": "matrix"}, "view_changerequest", 302),
    Page("post", CONSOLE + "/reject/", {"reason": "matrix"}, "view_changerequest", 302),
]


# What each of the console's buttons leaves the review as, when the button is allowed.
DECIDED_BY = {"approve": "APPROVED", "reject": "REJECTED"}


def staff_account(name: str):
    user = get_user_model().objects.create_user(f"matrix-{name}", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=STAFF[name]))
    if name in STAFF_GROUPS:
        user.groups.add(Group.objects.get(name=STAFF_GROUPS[name]))
    return user


@pytest.fixture(scope="module")
def staff(world, django_db_blocker) -> dict:
    """The staff accounts' ids, made inside the world's transaction."""
    with django_db_blocker.unblock():
        return {name: staff_account(name).pk for name in STAFF}


def browser_of(user) -> Client:
    """A browser's client: it asks for HTML first, as browsers do, so error answers are pages."""
    client = Client(HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    if user is not None:
        client.force_login(user)
    return client


def admin_outcome(user, page: Page) -> str:
    """Return "login" for whoever is not staff, "allowed" for staff holding the page's permission, else "refused"."""
    if user is None or not user.is_staff:
        return "login"
    app_label = page.path.split("/")[2]
    if user.is_superuser or page.permission is None or user.has_perm(f"{app_label}.{page.permission}"):
        return "allowed"
    return "refused"


@pytest.mark.parametrize("name", [None, *ACCOUNTS, *STAFF])
@pytest.mark.parametrize("page", ADMIN_PAGES, ids=cell_id)
def test_each_role_gets_its_answer_from_each_admin_page(world, staff, name, page):
    users = {**world["users"], **staff}
    user = get_user_model().objects.get(pk=users[name]) if name else None
    path = page.path.format(review=world["review"])
    comments = ReviewComment.objects.count()
    response = getattr(browser_of(user), page.method)(path, page.data)
    outcome = admin_outcome(user, page)
    if outcome == "login":
        assert (response.status_code, response["Location"]) == (302, f"/admin/login/?next={path}")
    elif outcome == "refused":
        assert response.status_code == 403, (name, page, response.content[:300])
        assert response["Content-Type"].startswith("text/html")
    else:
        assert response.status_code == page.allowed, (name, page, response.content[:300])
        if page.allowed == 302:
            assert response["Location"] == CONSOLE.format(review=world["review"]) + "/change/"
    if page.path.endswith("/comment/"):
        assert ReviewComment.objects.count() == comments + (outcome == "allowed")
    decided = DECIDED_BY.get(page.path.rsplit("/", 2)[1])
    if decided:
        assert ChangeRequest.objects.get(pk=world["review"]).status == (
            decided if outcome == "allowed" else "PENDING_REVIEW"
        )


# The /ui/ pages: strangers go to the people's login, an account a page is not for gets the 404 page
# (or, for the code generation button, the 403 page that says which role it lacks).
UI_PAGES = [
    Cell("get", "/ui/", None, "read", 200, (404, 0)),
    Cell("get", "/ui/subjects/ticks-value/", None, "read", 200, (404, 0)),
    Cell("get", "/ui/subjects/ticks-value/history/", None, "read", 200, (404, 0)),
    Cell("get", "/ui/subjects/ticks-value/diff/?from=1&to=1", None, "read", 200, (404, 0)),
    Cell("get", "/ui/pii/", None, "read", 200, (404, 0)),
    Cell("get", "/ui/jobs/{job}/", None, "read", 200, (404, 0)),
    Cell("get", "/ui/audit/", None, "audit", 200, (404, 0)),
    Cell("post", "/ui/subjects/ticks-value/generate/", {"language": "python"}, "codegen", 302, (403, 0)),
]


@pytest.mark.parametrize("name", [None, *ACCOUNTS])
@pytest.mark.parametrize("page", UI_PAGES, ids=cell_id)
def test_each_role_gets_its_answer_from_each_ui_page(world, name, page):
    user = user_of(world, name) if name else None
    path = page.path.format(job=world["job"])
    response = getattr(browser_of(user), page.method)(path, page.body)
    if name is None:
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
        assert unquote(response["Location"].split("?next=")[1]) == path
    elif page.role in ACCOUNTS[name]:
        assert response.status_code == page.allowed, (name, page, response.content[:300])
        if page.allowed == 302:
            assert response["Location"].startswith("/ui/jobs/")
    else:
        assert response.status_code == page.denied[0], (name, page, response.content[:300])
        assert response["Content-Type"].startswith("text/html")
