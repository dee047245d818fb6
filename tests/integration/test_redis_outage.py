"""A Redis outage degrades lookups and writes to the database; it never fails a request."""

import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
from django.core.cache import caches
from django.test import override_settings
from rest_framework.test import APIClient

from schemas_app import cache as registry_cache
from tests.integration.api.helpers import TICK_V1, TICK_V2_ADDS_FIELD, post, register

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_redis():
    """A Redis server of this test's own, so that stopping it harms no other test."""
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed; install Debian's redis-server package")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.1)
    caches_setting = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    with override_settings(CACHES=caches_setting, DJANGO_REDIS_IGNORE_EXCEPTIONS=True):
        yield process
    process.kill()
    process.wait()


def test_lookups_and_writes_survive_redis_going_down(api, outsider, own_redis):
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    assert api.get(f"/schemas/ids/{schema_id}").status_code == 200
    assert api.get("/subjects/ticks-value/versions/1").status_code == 200
    key = f"{registry_cache.instance_key()}:schema:{schema_id}"
    assert caches["default"].get(key) is not None, "the lookup went through Redis while it was up"

    own_redis.kill()
    own_redis.wait()
    registry_cache.clear_local()

    assert api.get(f"/schemas/ids/{schema_id}").json()["schema"] == TICK_V1
    assert api.get("/subjects/ticks-value/versions/1").json()["id"] == schema_id
    assert register(api, "ticks-value", TICK_V2_ADDS_FIELD).status_code == 200
    reader = APIClient()
    reader.force_authenticate(outsider)
    assert reader.get("/subjects/ticks-value/versions/2").status_code == 200


def test_a_version_deprecated_while_redis_is_unreachable_is_not_served_stale_when_redis_returns_with_its_data(
    api, own_redis, django_capture_on_commit_callbacks
):
    register(api, "ticks-value", TICK_V1)
    assert api.get("/subjects/ticks-value/versions/1").json()["state"] == "active"  # cached as active

    # A paused Redis answers nothing, then comes back with every entry it held (as one restarted from its file does).
    own_redis.send_signal(signal.SIGSTOP)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert post(api, "/subjects/ticks-value/versions/1/deprecate", {}).status_code == 200
    finally:
        own_redis.send_signal(signal.SIGCONT)

    assert api.get("/subjects/ticks-value/versions/1").json()["state"] == "deprecated"
    assert registry_cache.cache_generation() == 1, "the entries Redis kept belong to a generation nobody reads"


def test_a_registration_forgets_its_version_and_placement_after_commit_in_one_redis_transaction(
    api, own_redis, django_capture_on_commit_callbacks
):
    """The version's entry and its placement are forgotten together once the registration has committed, not before."""
    register(api, "ticks-value", TICK_V1)
    redis = caches["default"].client.get_client(write=True)
    redis.config_resetstat()

    with django_capture_on_commit_callbacks(execute=True):
        assert register(api, "ticks-value", TICK_V2_ADDS_FIELD).status_code == 200

    calls = {name: stats["calls"] for name, stats in redis.info("commandstats").items()}
    assert calls.get("cmdstat_exec") == 1
    assert calls.get("cmdstat_publish") == 1


def test_a_registration_announces_what_it_forgot_after_commit_in_the_same_redis_transaction(
    api, own_redis, django_capture_on_commit_callbacks
):
    """The announcement to other processes' copies goes with the forgets, in one round trip instead of two."""
    register(api, "ticks-value", TICK_V1)
    redis = caches["default"].client.get_client(write=True)
    commands, ready = [], threading.Event()

    def watch():
        with redis.monitor() as monitor:
            ready.set()
            for command in monitor.listen():
                if command["command"] == "ECHO end-of-test":
                    return
                commands.append(command["command"].split()[0].upper())

    watcher = threading.Thread(target=watch)
    watcher.start()
    ready.wait(5)
    time.sleep(0.1)  # MONITOR is answered before the server starts sending
    with django_capture_on_commit_callbacks(execute=True):
        assert register(api, "ticks-value", TICK_V2_ADDS_FIELD).status_code == 200
    redis.echo("end-of-test")
    watcher.join(5)

    transactions = " ".join(commands).split("MULTI")[1:]
    assert len(transactions) == 1, commands
    assert transactions[0].split()[-2:] == ["PUBLISH", "EXEC"], commands
    assert commands.count("PUBLISH") == 1, commands
