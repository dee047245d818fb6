"""The cache's Redis stopped and started again under load: lookups go on from the database without one error,
the registry uses the cache again afterwards, and nothing it serves is stale after the writes of the outage.

The Redis keeps its data across the restart (an append-only file, as a production Redis keeps it), so an
invalidation lost during the outage would come back as a stale entry; the load deprecates versions, writes
whose invalidation matters, far more often than the ordinary mix does.
"""

import json
import time

import httpx
import pytest
import redis

from schemas_app import local_copies
from tests.reliability.invariants import (
    CACHE_PREFIX,
    check_invariants,
    classify,
    parse_version_key,
    read_database,
)
from tests.reliability.results import record, summary
from tests.reliability.workload import MIX, run_load

pytestmark = [pytest.mark.faults, pytest.mark.slow]

DEPRECATING = {**MIX, "deprecate": 3.0}
LOOKUPS = ("lookup_id", "lookup_version")


PROBE = "load_probe.proto"
PROBE_SCHEMA = 'syntax = "proto3";\npackage load.probe;\n\nmessage Probe {\n  string key = 1;\n}\n'


def test_lookups_go_on_without_redis_and_nothing_stale_is_served_after_it_comes_back(stack, scale):
    registry = httpx.Client(base_url=stack.url, headers=stack.writer.auth_headers("bearer"), timeout=60)
    assert registry.post(f"/subjects/{PROBE}/versions", json={"schema": PROBE_SCHEMA}).status_code == 200
    assert registry.get(f"/subjects/{PROBE}/versions/1").json()["state"] == "active"  # now cached as active

    def stop_and_start_redis(faults):
        time.sleep(scale.seconds * 0.2)
        # Excuses nothing: the registry must not need its cache.
        with faults.window("cache Redis stopped and restarted", excuses=False):
            stack.cache.stop()
            # A write whose invalidation cannot reach Redis, besides whatever the clients write meanwhile.
            assert registry.post(f"/subjects/{PROBE}/versions/1/deprecate", json={}).status_code == 200
            time.sleep(scale.seconds * 0.4)
            stack.cache.start()

    run = run_load(stack.url, stack.writer, stack.reviewer, scale, mix=DEPRECATING, during=stop_and_start_redis)
    report = check_invariants(stack, run)
    record("Redis restarted", run, report)
    print(summary("Redis restarted", run, report))

    assert report.violations == []
    assert report.lost == report.stale == report.unexpected_errors == 0
    # A review's 409s are answers of the workload itself (an approval racing a registration), not failures.
    failed = [error for error in run.errors if classify(error, run) != "expected"]
    assert failed == [], "no request failed while Redis was down"
    outage = run.faults.windows[0]
    assert run.served_between(outage.started, outage.ended, LOOKUPS) > 0, "lookups were served during the outage"
    assert registry.get(f"/subjects/{PROBE}/versions/1").json()["state"] == "deprecated"
    assert_the_cache_is_written_again(stack)


def assert_the_cache_is_written_again(stack):
    """Drop one cached version and ask for it: the registry keeps it in the restarted Redis again.

    Dropped as the registry drops an entry: deleted, then announced, so that no worker answers from its copy.
    """
    client = redis.Redis.from_url(stack.cache.url)
    current = read_database(stack.database.url).instance  # the deprecation moved the cache generation on
    key = next(client.scan_iter(match=f"{CACHE_PREFIX}{current}:version:*"), None)
    assert key is not None, "versions are cached after the restart"
    client.delete(key)
    client.publish(f"{CACHE_PREFIX}{local_copies.CHANNEL}", json.dumps([key.decode().removeprefix(CACHE_PREFIX)]))
    _, subject, version = parse_version_key(key.decode().split(":", 3)[3])
    answer = httpx.get(
        f"{stack.url}/subjects/{subject}/versions/{version}", headers=stack.writer.auth_headers("bearer")
    )
    assert answer.status_code == 200
    assert client.exists(key), "the lookup was kept in Redis again"
