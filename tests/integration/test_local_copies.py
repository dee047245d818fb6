"""A process answers from its copies of shared cache entries until any process announces that they changed."""

import os
import time

import pytest
import redis
from django.core.cache import cache
from rest_framework.test import APIClient

from schemas_app import local_copies
from tests.integration.access.test_rate_limits import basic_get
from tests.integration.api.helpers import TICK_V1, register

pytestmark = pytest.mark.django_db


def another_process():
    """A Redis connection of its own, as another worker of the registry has."""
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def delete_behind_the_copies(key: str) -> None:
    """Delete the entry in Redis without announcing it, as no caller of the registry ever does."""
    another_process().delete(cache.make_key(key))


def test_a_second_read_is_answered_by_the_process_until_a_change_is_announced():
    cache.set("lookup", {"schema": "one"})
    assert local_copies.get("lookup") == ({"schema": "one"}, False)
    assert local_copies.get("lookup") == ({"schema": "one"}, True)

    delete_behind_the_copies("lookup")
    assert local_copies.get("lookup") == ({"schema": "one"}, True)  # the copy answered, not Redis

    another_process().publish(local_copies._channel(), '["lookup"]')
    time.sleep(0.05)
    assert local_copies.get("lookup") == (None, False)


def test_an_announcement_of_every_entry_drops_every_copy():
    cache.set_many({"first": 1, "second": 2})
    local_copies.get_many(["first", "second"])
    delete_behind_the_copies("first")
    delete_behind_the_copies("second")

    another_process().publish(local_copies._channel(), '"*"')
    time.sleep(0.05)
    assert local_copies.get_many(["first", "second"]) == ({}, set())


def test_a_change_announced_by_this_process_counts_at_once():
    cache.set("lookup", "before")
    local_copies.get("lookup")
    cache.set("lookup", "after")
    local_copies.announce(["lookup"])
    assert local_copies.get("lookup") == ("after", False)


def test_absent_entries_are_not_copied_unless_the_caller_says_so():
    assert local_copies.get("missing") == (None, False)
    cache.set("missing", "now here")
    assert local_copies.get("missing") == ("now here", False)

    counts = local_copies.get_many(["count"], keepable=lambda key, value: (value or 0) < 3)
    assert counts == ({}, set())
    assert local_copies.get_many(["count"], keepable=lambda key, value: (value or 0) < 3) == ({}, {"count"})


def test_copies_are_not_trusted_once_the_announcements_stop_arriving():
    cache.set("lookup", "kept")
    local_copies.get_many(["lookup"])
    local_copies._copies._subscription.connection.disconnect()  # as when Redis drops the connection
    delete_behind_the_copies("lookup")

    assert local_copies.get("lookup") == (None, False)


def test_a_deleted_version_is_gone_for_a_client_whose_lookups_the_process_copied(
    api, writer, django_capture_on_commit_callbacks
):
    assert register(api, "ticks-value", TICK_V1).status_code == 200
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION="Basic d3JpdGVyOndyaXRlci1wYXNzd29yZA==")  # writer:writer-password
    for _ in range(3):
        assert reader.get("/subjects/ticks-value/versions/1").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete("/subjects/ticks-value/versions/1").status_code == 200

    assert reader.get("/subjects/ticks-value/versions/1").json()["error_code"] == 40402


def test_a_lockout_counts_even_for_a_credential_whose_counts_the_process_copied(writer, settings):
    settings.REGISTRY_AUTH_FAILURES_PER_ACCOUNT = 3
    for _ in range(2):  # the counts (none yet) are copied
        assert basic_get("writer", "writer-password", "203.0.113.7", path="/schemas/ids/1").status_code in (200, 404)

    assert [basic_get("writer", "guess", "203.0.113.7").status_code for _ in range(3)] == [401, 401, 401]

    assert basic_get("writer", "writer-password", "203.0.113.7", path="/schemas/ids/1").status_code == 429
