"""A remembered credential never outlives a change: the request after a change of grant, group, binding,
token or password answers as the change says, though the request before it was answered from memory.

Each test signs in twice before the change (the second answer comes from the remembered access context),
changes one thing, and asks again. Once remembered, a signed-in lookup reads no database at all.
"""

import base64

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from schemas_app import access, access_cache
from schemas_app.models import Tenant, TenantBinding
from schemas_app.tokens import api_token_revoke, api_token_rotate
from tests.conftest_users import api_token
from tests.integration.api.helpers import TICK_V1, TICK_V2_ADDS_FIELD, register

pytestmark = pytest.mark.django_db

ACME_TICKS = "/subjects/:.acme:ticks-value/versions/1"


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def basic(username: str, password: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_header(username, password))
    return client


def remembered(client: APIClient, path: str) -> None:
    """Ask twice, so that the second answer comes from the remembered context; both must succeed."""
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200, response.content


@pytest.fixture
def acme(admin):
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    assert register(admin, ":.acme:ticks-value", TICK_V1).status_code == 200
    assert register(admin, "ticks-value", TICK_V2_ADDS_FIELD).status_code == 200
    return tenant


@pytest.fixture
def reader(django_user_model):
    """A plain service account in a group of its own."""
    user = django_user_model.objects.create_user("reader", password="reader-password")
    user.groups.add(Group.objects.create(name="readers"))
    return user


def test_a_revoked_tenant_grant_closes_the_tenant_at_the_next_request(reader, acme, owner):
    group = reader.groups.get()
    access.grant_role("read", group=group, target=acme, acting_user=owner)
    client = bearer(api_token(reader))
    remembered(client, ACME_TICKS)

    access.revoke_role("read", group=group, target=acme, acting_user=owner)

    assert client.get(ACME_TICKS).json()["error_code"] == 40401


def test_a_new_tenant_grant_opens_the_tenant_at_the_next_request(reader, acme, owner):
    client = bearer(api_token(reader))
    assert client.get(ACME_TICKS).json()["error_code"] == 40401
    assert client.get(ACME_TICKS).json()["error_code"] == 40401

    access.grant_role("read", group=reader.groups.get(), target=acme, acting_user=owner)

    assert client.get(ACME_TICKS).status_code == 200


def test_leaving_the_group_closes_its_tenants_at_the_next_request(reader, acme, owner):
    group = reader.groups.get()
    access.grant_role("read", group=group, target=acme, acting_user=owner)
    client = bearer(api_token(reader))
    remembered(client, ACME_TICKS)

    reader.groups.remove(group)

    assert client.get(ACME_TICKS).json()["error_code"] == 40401


def test_a_new_binding_moves_the_account_to_its_tenant_at_the_next_request(reader, acme):
    client = bearer(api_token(reader))
    remembered(client, "/subjects/ticks-value/versions/1")
    default_id = client.get("/subjects/ticks-value/versions/1").json()["id"]

    TenantBinding.objects.create(user=reader, tenant=acme)

    answer = client.get("/subjects/ticks-value/versions/1").json()
    assert answer["id"] != default_id
    assert client.get(f"/schemas/ids/{default_id}").json()["error_code"] == 40403


def test_a_remembered_token_is_refused_at_once_when_rotated(reader, acme):
    token = api_token(reader)
    client = bearer(token)
    remembered(client, "/subjects/ticks-value/versions/1")

    _, new_secret = api_token_rotate(token=reader.api_tokens.get(), acting_user=reader)

    assert client.get("/subjects/ticks-value/versions/1").status_code == 401
    assert bearer(new_secret).get("/subjects/ticks-value/versions/1").status_code == 200


def test_a_remembered_token_is_refused_at_once_when_revoked(reader, acme):
    client = bearer(api_token(reader))
    remembered(client, "/subjects/ticks-value/versions/1")

    api_token_revoke(token=reader.api_tokens.get(), acting_user=reader)

    assert client.get("/subjects/ticks-value/versions/1").status_code == 401


def test_a_remembered_password_is_refused_at_once_when_changed(reader, acme):
    client = basic("reader", "reader-password")
    remembered(client, "/subjects/ticks-value/versions/1")

    reader.set_password("a-new-password")
    reader.save()

    assert client.get("/subjects/ticks-value/versions/1").status_code == 401
    assert basic("reader", "a-new-password").get("/subjects/ticks-value/versions/1").status_code == 200


def test_a_deactivated_account_is_refused_at_once_with_either_credential(reader, acme):
    by_token, by_password = bearer(api_token(reader)), basic("reader", "reader-password")
    remembered(by_token, "/subjects/ticks-value/versions/1")
    remembered(by_password, "/subjects/ticks-value/versions/1")

    reader.is_active = False
    reader.save()

    assert by_token.get("/subjects/ticks-value/versions/1").status_code == 401
    assert by_password.get("/subjects/ticks-value/versions/1").status_code == 401


@pytest.mark.parametrize("how", ["token", "password"])
def test_a_remembered_lookup_reads_no_database(reader, acme, how):
    client = bearer(api_token(reader)) if how == "token" else basic("reader", "reader-password")
    schema_id = client.get("/subjects/ticks-value/versions/1").json()["id"]
    paths = ["/subjects/ticks-value/versions/1", f"/schemas/ids/{schema_id}"]
    for path in paths:
        remembered(client, path)

    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        for path in paths:
            assert client.get(path).status_code == 200

    assert queries == []


def test_nothing_kept_in_redis_holds_a_password_a_password_hash_or_a_token(reader, acme, settings):
    from django_redis import get_redis_connection

    token = api_token(reader)
    remembered(bearer(token), "/subjects/ticks-value/versions/1")
    remembered(basic("reader", "reader-password"), "/subjects/ticks-value/versions/1")

    redis = get_redis_connection("default")
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    kept = b"".join(redis.get(key) or b"" for key in redis.scan_iter(f"{prefix}:*"))
    reader.refresh_from_db()
    assert b"access" in b"".join(redis.scan_iter(f"{prefix}:*"))  # the contexts are there
    for secret in (reader.password, token, "reader-password"):
        assert secret.encode() not in kept


def test_a_context_in_use_stays_remembered_in_the_shared_cache(reader, acme):
    """Each process reads it again every minute while using it, and that keeps it for five more."""
    remembered(basic("reader", "reader-password"), "/subjects/ticks-value/versions/1")
    entry = access_cache._entry_key(access_cache.credential_key("basic", "reader", "reader-password"))
    cache.touch(entry, 5)
    access_cache._local.clear()  # as after LOCAL_SECONDS

    elsewhere = APIClient(REMOTE_ADDR="192.0.2.44")  # another address: not the fast path's sign-in of a second ago
    elsewhere.credentials(HTTP_AUTHORIZATION=basic_header("reader", "reader-password"))
    assert elsewhere.get("/subjects/ticks-value/versions/1").status_code == 200

    assert cache.ttl(entry) > access_cache.SHARED_SECONDS - 60


def test_a_write_after_the_default_tenant_appears_is_not_refused_by_a_context_remembered_before_it(writer):
    """A database never bootstrapped has no default tenant until a bootstrap writes it, possibly without Django's
    signals (a SQL restore, bulk_create): a context worked out before that must not keep the account out of it."""
    client = bearer(api_token(writer))
    for _ in range(2):
        slugs = [tenant["slug"] for tenant in client.get("/tenants").json()]
        assert Tenant.DEFAULT_SLUG not in slugs  # the second answer is remembered, if anything is

    Tenant.objects.bulk_create([Tenant(slug=Tenant.DEFAULT_SLUG, name="Default tenant")])

    assert register(client, "ticks-value", TICK_V1).status_code == 200
