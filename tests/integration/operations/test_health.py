"""/health/live and /health/ready over HTTP, with PostgreSQL and Redis of the test's own that it stops and restarts.

The answers are parsed with the catalogue's own `system.v1.CheckResponse` (schemas/system/health.proto).
"""

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from google.protobuf import descriptor_pool, duration_pb2, json_format, message_factory, timestamp_pb2

from protoengine.compiler import compile_one
from tests.integration.celery_workers import celery_worker
from tests.integration.operations.servers import gunicorn, private_postgres, redis_server, registry_env

pytestmark = pytest.mark.slow

HEALTH_PROTO = Path(__file__).resolve().parents[3] / "schemas" / "system" / "health.proto"


def check_response_class():
    pool = descriptor_pool.DescriptorPool()
    for module in (duration_pb2, timestamp_pb2):
        pool.AddSerializedFile(module.DESCRIPTOR.serialized_pb)
    pool.Add(compile_one("system/health.proto", HEALTH_PROTO.read_text()).file("system/health.proto"))
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("system.v1.CheckResponse"))


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def ready(url: str) -> tuple[int, str, dict[str, str]]:
    """Return the status code, the overall status and each component's status of /health/ready."""
    code, body = get(f"{url}/health/ready")
    parsed = json_format.Parse(json.dumps(body), check_response_class()())  # the answer is a valid CheckResponse
    assert all(component.latency.ToTimedelta().total_seconds() >= 0 for component in parsed.components)
    return code, body["status"], {component["component"]: component["status"] for component in body["components"]}


def test_readiness_fails_while_postgresql_is_stopped_and_recovers_without_a_restart(tmp_path):
    with private_postgres() as database, redis_server() as redis:
        env = registry_env(DATABASE_URL=database.url, REDIS_URL=redis.url)
        with gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log") as url:
            code, status, components = ready(url)
            assert (code, status) == (200, "SERVING_STATUS_SERVING")
            assert components["postgresql"] == components["redis"] == "SERVING_STATUS_SERVING"

            database.stop()
            for _ in range(4):  # whichever worker answers
                code, status, components = ready(url)
                assert (code, status) == (503, "SERVING_STATUS_NOT_SERVING")
                assert components["postgresql"] == "SERVING_STATUS_NOT_SERVING"
            assert get(f"{url}/health/live") == (200, {"status": "SERVING_STATUS_SERVING"})

            database.start()
            for _ in range(4):
                code, status, components = ready(url)
                assert (code, status) == (200, "SERVING_STATUS_SERVING")


@pytest.mark.django_db
def test_readiness_degrades_but_does_not_fail_when_only_redis_is_down(tmp_path):
    with (
        redis_server() as redis,
        gunicorn(registry_env(REDIS_URL=redis.url), workers=2, log_path=tmp_path / "gunicorn.log") as url,
    ):
        assert ready(url)[:2] == (200, "SERVING_STATUS_SERVING")
        redis.stop()
        for _ in range(4):
            code, status, components = ready(url)
            assert (code, status) == (200, "SERVING_STATUS_DEGRADED")
            assert components["redis"] == "SERVING_STATUS_DEGRADED"
            assert components["postgresql"] == "SERVING_STATUS_SERVING"


@pytest.mark.django_db
def test_readiness_is_degraded_until_every_celery_queue_has_a_worker(tmp_path):
    with redis_server() as redis:
        env = registry_env(REDIS_URL=redis.url, CELERY_BROKER_URL=redis.url_of(1), REGISTRY_HEALTH_TIMEOUT="0.5")
        with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as url:
            code, status, components = ready(url)
            assert (code, status) == (200, "SERVING_STATUS_DEGRADED")
            assert components["celery-broker"] == "SERVING_STATUS_SERVING"
            assert components["celery-worker"] == "SERVING_STATUS_DEGRADED"
            with celery_worker(env, "-Q", "codegen", "--hostname", "codegen@%h"):
                detail = wait_for_worker_detail(url, "consumes")
                assert detail == (
                    "ProbeFailed: no Celery worker consumes the queues celery, compatibility, notifications: "
                    "their tasks wait"
                )
                with celery_worker(env, "-Q", "celery,compatibility,notifications", "--hostname", "others@%h"):
                    detail = wait_for_worker_detail(url, "answered by")
                    code, status, components = ready(url)
            assert (code, status) == (200, "SERVING_STATUS_SERVING")
            assert detail.startswith("answered by codegen@") and ", others@" in detail


def wait_for_worker_detail(url: str, words: str, timeout: float = 40) -> str:
    """Probe readiness until the celery-worker component's detail holds `words`; return that detail."""
    deadline = time.monotonic() + timeout
    while True:
        body = get(f"{url}/health/ready")[1]
        (worker,) = [component for component in body["components"] if component["component"] == "celery-worker"]
        if words in worker.get("detail", "") or time.monotonic() > deadline:
            return worker.get("detail", "")
        time.sleep(0.5)


@pytest.mark.django_db
def test_a_read_replica_that_is_down_degrades_readiness(tmp_path):
    with private_postgres() as replica, redis_server() as redis:
        env = registry_env(REDIS_URL=redis.url, DATABASE_REPLICA_URLS=replica.url)
        with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as url:
            code, status, components = ready(url)
            assert (code, status) == (200, "SERVING_STATUS_SERVING")
            assert components["postgresql-replica-0"] == "SERVING_STATUS_SERVING"
            replica.stop()
            code, status, components = ready(url)
            assert (code, status) == (200, "SERVING_STATUS_DEGRADED")
            assert components["postgresql-replica-0"] == "SERVING_STATUS_DEGRADED"
            assert components["postgresql"] == "SERVING_STATUS_SERVING"
