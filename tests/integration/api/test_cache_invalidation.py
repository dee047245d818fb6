"""A state change made anywhere (the API, the admin) is what the next lookup answers, though lookups are cached."""

import inspect
import threading
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client

from schemas_app import cache as registry_cache
from schemas_app import local_copies, selectors
from schemas_app.deprecation import version_deprecate
from schemas_app.models import SubjectVersion, Tenant
from tests.integration.api.helpers import MONEY, TICK_V1, register

pytestmark = pytest.mark.django_db


def test_a_version_deprecated_in_the_admin_reads_deprecated_at_once(api, console, django_capture_on_commit_callbacks):
    register(api, "ticks-value", TICK_V1)
    assert api.get("/subjects/ticks-value/versions/1").json()["state"] == "active"  # now cached
    version = SubjectVersion.objects.get(subject__name="ticks-value", version=1)

    with django_capture_on_commit_callbacks(execute=True):
        # State changes go through the deprecation service, here by the versions list's action.
        answer = console.post(
            "/admin/schemas_app/subjectversion/",
            {"action": "deprecate_versions", "_selected_action": [version.pk]},
        )

    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert api.get("/subjects/ticks-value/versions/1").json()["state"] == "deprecated"


def test_a_soft_deleted_subject_is_gone_from_the_next_lookup(api, django_capture_on_commit_callbacks):
    register(api, "ticks-value", TICK_V1)
    assert api.get("/subjects/ticks-value/versions/1").status_code == 200  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete("/subjects/ticks-value").json() == [1]

    assert api.get("/subjects/ticks-value/versions/1").json()["error_code"] == 40402


def test_a_soft_deleted_version_is_gone_from_the_next_lookup(api, django_capture_on_commit_callbacks):
    register(api, "ticks-value", TICK_V1)
    assert api.get("/subjects/ticks-value/versions/1").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete("/subjects/ticks-value/versions/1").json() == 1

    assert api.get("/subjects/ticks-value/versions/1").json()["error_code"] == 40402


@pytest.fixture
def anonymous_reads(settings):
    """Anonymous lookups, which the fast path (`fast_lookups`) answers itself."""
    settings.REGISTRY_ANONYMOUS_READ = True


@pytest.fixture
def between_read_and_write(monkeypatch):
    """Return `pause(cache_function, action)`: the next lookup through `registry_cache.<cache_function>` runs
    `action` after it read the database and before it writes what it read to the cache."""

    def pause(cache_function: str, action) -> None:
        real = getattr(registry_cache, cache_function)

        def read_then_act(*args, **kwargs):
            monkeypatch.setattr(registry_cache, cache_function, real)  # this lookup only
            call = inspect.signature(real).bind(*args, **kwargs)
            load = call.arguments["load"]

            def load_then_act():
                loaded = load()
                action()
                return loaded

            call.arguments["load"] = load_then_act
            return real(*call.args, **call.kwargs)

        monkeypatch.setattr(registry_cache, cache_function, read_then_act)

    return pause


@pytest.fixture
def commits_during_the_next_load(between_read_and_write, django_capture_on_commit_callbacks):
    """Return `slow(cache_function, change)`: `change` commits (running what its commit queues: the forgets) between
    the next lookup's database read and its cache write. The interleaving of a slow lookup and a change, in order."""

    def slow(cache_function: str, change) -> None:
        def commit() -> None:
            with django_capture_on_commit_callbacks(execute=True):
                change()

        between_read_and_write(cache_function, commit)

    return slow


def deprecate_ticks_version_1(owner):
    tenant = Tenant.objects.get(slug=Tenant.DEFAULT_SLUG)
    return lambda: version_deprecate(tenant=tenant, subject_name="ticks-value", version=1, acting_user=owner)


@pytest.fixture(params=["redis", "in-process"])
def shared_cache(request, settings):
    """The registry's Redis, and the local-memory cache a registry without REDIS_URL uses."""
    if request.param == "in-process":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return request.param


def test_a_lookup_that_read_a_version_before_its_deprecation_committed_leaves_no_active_copy(
    api, owner, anonymous_reads, shared_cache, commits_during_the_next_load
):
    register(api, "ticks-value", TICK_V1)
    commits_during_the_next_load("version_payload", deprecate_ticks_version_1(owner))

    assert Client().get("/subjects/ticks-value/versions/1").json()["state"] == "active"  # read before the commit

    assert Client().get("/subjects/ticks-value/versions/1").json()["state"] == "deprecated"
    key = registry_cache.version_key(Tenant.DEFAULT_SLUG, "ticks-value", 1)
    assert cache.get(key)["state"] == "deprecated", "the lookup after the change keeps its answer"
    assert Client().get("/subjects/ticks-value/versions/1").json()["state"] == "deprecated"


def test_a_lookup_by_id_that_read_the_placement_before_a_deprecation_committed_leaves_no_active_copy(
    api, owner, anonymous_reads, commits_during_the_next_load
):
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    commits_during_the_next_load("schema_placement", deprecate_ticks_version_1(owner))

    assert "Deprecation" not in Client().get(f"/schemas/ids/{schema_id}").headers  # read before the commit

    assert "Deprecation" in Client().get(f"/schemas/ids/{schema_id}").headers
    assert [version.state for version in cache.get(registry_cache.placement_key(schema_id))] == ["deprecated"]
    assert "Deprecation" in Client().get(f"/schemas/ids/{schema_id}").headers


def test_a_lookup_that_read_the_placement_before_a_tenant_change_committed_leaves_no_old_copy(
    api, commits_during_the_next_load
):
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    tenant = Tenant.objects.get(slug=Tenant.DEFAULT_SLUG)

    def share_the_tenant():
        tenant.shared = True
        tenant.save()

    commits_during_the_next_load("schema_placement", share_the_tenant)

    assert api.get(f"/schemas/ids/{schema_id}").status_code == 200
    assert cache.get(registry_cache.placement_key(schema_id)) is None, "the placement read before was not kept"
    assert api.get(f"/schemas/ids/{schema_id}").status_code == 200
    assert [version.subject.tenant.shared for version in cache.get(registry_cache.placement_key(schema_id))] == [True]


@pytest.mark.django_db(transaction=True)
def test_a_reader_thread_paused_after_its_database_read_cannot_keep_what_a_committed_deprecation_changed(
    api, owner, anonymous_reads, between_read_and_write
):
    register(api, "ticks-value", TICK_V1)
    read, committed = threading.Event(), threading.Event()

    def wait_for_the_commit() -> None:
        read.set()
        assert committed.wait(10)

    between_read_and_write("version_payload", wait_for_the_commit)
    answers = []

    def lookup() -> None:
        try:
            answers.append(Client().get("/subjects/ticks-value/versions/1").json()["state"])
        finally:
            connection.close()  # this thread's own connection

    reader = threading.Thread(target=lookup)
    reader.start()
    assert read.wait(10)
    deprecate_ticks_version_1(owner)()  # its own transaction, committed; the forgets run on commit
    committed.set()
    reader.join(10)

    assert answers == ["active"]
    assert Client().get("/subjects/ticks-value/versions/1").json()["state"] == "deprecated"


# A shared tenant's version read through another tenant: clients resolve their imports of common/ files all day.

MONEY_PATH = "/subjects/common%2Fmoney.proto/versions/1"
SHARED_MONEY_PATH = "/subjects/:.shared:common%2Fmoney.proto/versions/1"
OWN_MONEY = MONEY.replace("  string currency_code = 3;\n", "  string currency_code = 3;\n  string note = 4;\n")


@pytest.fixture
def shared_money(admin):
    """common/money.proto version 1 in the shared tenant, which the default tenant's readers fall back to."""
    assert register(admin, ":.shared:common%2Fmoney.proto", MONEY).status_code == 200
    selectors.default_tenant()  # created before the test looks: a new tenant forgets every cached version


def forget_counters() -> dict:
    """Return every forget counter this test run moved in Redis, by key."""
    server = cache.client.get_client(write=True)
    return {key: server.get(key) for key in server.scan_iter(match=cache.make_key("forgotten:*"))}


def test_a_shared_version_read_through_the_default_tenant_is_answered_from_the_cache_without_forgetting_anything(
    shared_money, anonymous_reads, django_assert_num_queries
):
    counters, epoch = forget_counters(), local_copies.trusted_epoch()
    first = Client().get(MONEY_PATH)
    assert first.status_code == 200 and "message Money" in first.json()["schema"]

    with django_assert_num_queries(0):
        again = [Client().get(MONEY_PATH) for _ in range(3)]

    assert [answer.content for answer in again] == [first.content] * 3
    assert forget_counters() == counters, "a lookup forgot something"
    assert epoch is not None and local_copies.trusted_epoch() == epoch, "a lookup announced a change"
    kept = cache.get(registry_cache.version_key(Tenant.SHARED_SLUG, "common/money.proto", 1))
    assert kept["schema"] == first.json()["schema"], "the payload is kept under the shared tenant's key"


def test_a_shared_versions_deprecation_is_read_through_the_default_tenant_at_once(
    shared_money, owner, admin, anonymous_reads, django_capture_on_commit_callbacks
):
    assert Client().get(MONEY_PATH).json()["state"] == "active"
    assert Client().get(MONEY_PATH).json()["state"] == "active"  # from the cache now

    shared = Tenant.objects.get(slug=Tenant.SHARED_SLUG)
    with django_capture_on_commit_callbacks(execute=True):
        version_deprecate(tenant=shared, subject_name="common/money.proto", version=1, acting_user=owner)

    assert Client().get(MONEY_PATH).json()["state"] == "deprecated"
    assert admin.get(SHARED_MONEY_PATH).json()["state"] == "deprecated"


def test_a_shared_versions_deletion_is_read_through_the_default_tenant_at_once(
    shared_money, admin, anonymous_reads, django_capture_on_commit_callbacks
):
    assert Client().get(MONEY_PATH).status_code == 200
    assert Client().get(MONEY_PATH).status_code == 200  # from the cache now

    with django_capture_on_commit_callbacks(execute=True):
        assert admin.delete("/subjects/:.shared:common%2Fmoney.proto/versions/1").json() == 1

    assert Client().get(MONEY_PATH).json()["error_code"] == 40402
    assert admin.get(SHARED_MONEY_PATH).json()["error_code"] == 40402


def test_the_default_tenants_own_subject_of_a_shared_name_answers_from_its_registration_on(
    shared_money, api, admin, anonymous_reads, django_capture_on_commit_callbacks
):
    assert "note" not in Client().get(MONEY_PATH).json()["schema"]
    assert "note" not in Client().get(MONEY_PATH).json()["schema"]  # from the cache now

    with django_capture_on_commit_callbacks(execute=True):
        assert register(api, "common%2Fmoney.proto", OWN_MONEY).status_code == 200

    assert "string note = 4;" in Client().get(MONEY_PATH).json()["schema"]
    assert "string note = 4;" in Client().get(MONEY_PATH).json()["schema"]
    assert "note" not in admin.get(SHARED_MONEY_PATH).json()["schema"]


def test_a_lookup_that_read_the_shared_version_before_the_tenants_own_registration_committed_keeps_no_marker(
    shared_money, api, anonymous_reads, commits_during_the_next_load
):
    commits_during_the_next_load(
        "version_payload", lambda: register(api, "common%2Fmoney.proto", OWN_MONEY).status_code == 200
    )

    Client().get(MONEY_PATH)

    assert cache.get(registry_cache.version_key(Tenant.DEFAULT_SLUG, "common/money.proto", 1)) is None
    assert "string note = 4;" in Client().get(MONEY_PATH).json()["schema"]
    assert "string note = 4;" in Client().get(MONEY_PATH).json()["schema"]


def test_a_tenant_that_stops_being_shared_is_no_longer_read_through_the_default_tenant(
    shared_money, anonymous_reads, django_capture_on_commit_callbacks
):
    assert Client().get(MONEY_PATH).status_code == 200
    assert Client().get(MONEY_PATH).status_code == 200  # from the cache now

    shared = Tenant.objects.get(slug=Tenant.SHARED_SLUG)
    shared.shared = False
    with django_capture_on_commit_callbacks(execute=True):
        shared.save()

    assert Client().get(MONEY_PATH).json()["error_code"] == 40401


def test_a_forget_reaches_the_entries_of_a_cache_generation_this_process_has_not_read_yet(
    api, django_capture_on_commit_callbacks
):
    """After a Redis outage moved the generation on, a process knows the old one for a while; its forgets must
    still drop what other processes keep under the new one, or a deprecation stays unseen until the TTL."""
    register(api, "ticks-value", TICK_V1)
    old = registry_cache.cache_generation()
    registry_cache.next_cache_generation()  # as a process whose forget found Redis down does
    assert api.get("/subjects/ticks-value/versions/1").json()["state"] == "active"  # kept under the new generation
    assert registry_cache.cache_generation() == old + 1
    # This process read the generation before the move, recently enough to trust it still.
    registry_cache._generation = (old, time.monotonic() - settings.REGISTRY_CACHE_GENERATION_SECONDS / 2)

    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/subjects/ticks-value/versions/1/deprecate", {}, format="json").status_code == 200

    registry_cache.clear_local()  # read as another process would: the generation again, from Redis
    assert api.get("/subjects/ticks-value/versions/1").json()["state"] == "deprecated"
