"""/metrics under gunicorn with two workers: each registry metric moves when its event happens.

The registry runs as in production (gunicorn reading ./gunicorn.conf.py, prometheus-client's
multiprocess mode) against this run's test database and a Redis server of the test's own; requests
are spread over both workers, so the figures are right only when every worker's events are summed.
"""

import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from schemas_app.models import ChangeRequest, SubjectVersion
from tests.conftest_users import api_token
from tests.integration.api.helpers import TICK_V1, TICK_V2_ADDS_FIELD, TICK_V2_DELETES_FIELD
from tests.integration.celery_workers import celery_worker
from tests.integration.operations.servers import gunicorn, redis_server, registry_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TOKEN = "scrape-" + uuid.uuid4().hex
# The writer's API token (gunicorn runs production settings, whose password hashers are slow on purpose).
WRITER = {"token": ""}


def call(url: str, method: str = "GET", body: dict | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, method=method, headers={"Authorization": f"Bearer {WRITER['token']}", **(headers or {})}
    )
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    """Return {(sample name, labels): value} of one scrape, sent with the metrics token."""
    status, body = call(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def writer_token(writer):
    WRITER["token"] = api_token(writer)
    return WRITER["token"]


@pytest.fixture
def registry(writer_token, tmp_path):
    """The registry under gunicorn with two workers, a Redis of its own, and /metrics behind a token."""
    with redis_server() as redis:
        env = registry_env(
            REDIS_URL=redis.url,
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
            REGISTRY_METRICS_TOKEN=TOKEN,
            # No network is trusted, so even a loopback scraper needs the token.
            REGISTRY_METRICS_ALLOWED_NETWORKS="192.0.2.0/24",
        )
        with gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log") as url:
            yield url


def register(url: str, subject: str, schema: str) -> int:
    status, _ = call(f"{url}/subjects/{subject}/versions", "POST", {"schema": schema})
    return status


def test_metrics_refuse_a_scraper_without_the_token(registry):
    assert call(f"{registry}/metrics", headers={"Authorization": ""})[0] == 401
    assert call(f"{registry}/metrics", headers={"Authorization": "Bearer wrong"})[0] == 401
    assert call(f"{registry}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200


def test_registrations_are_counted_by_result_across_both_workers(registry):
    assert call(f"{registry}/config/strict-value", "PUT", {"reviewPolicy": "none"})[0] == 200
    assert register(registry, "strict-value", TICK_V1) == 200
    before = scrape(registry)
    assert register(registry, "ticks-value", TICK_V1) == 200
    for _ in range(5):
        assert register(registry, "ticks-value", TICK_V1) == 200  # the same content: existing
    assert register(registry, "ticks-value", TICK_V2_DELETES_FIELD) == 202  # breaking: held for review
    assert register(registry, "strict-value", TICK_V2_DELETES_FIELD) == 409  # breaking, no reviews: refused
    assert register(registry, "ticks-value", "syntax = 'proto3'; message {") == 422
    after = scrape(registry)

    name = "registry_schema_registrations_total"
    assert value(after, name, result="created") - value(before, name, result="created") == 1
    assert value(after, name, result="existing") - value(before, name, result="existing") == 5
    assert value(after, name, result="held_for_review") - value(before, name, result="held_for_review") == 1
    assert value(after, name, result="refused") - value(before, name, result="refused") == 2


def test_pending_reviews_and_those_past_their_notice_are_reported(registry):
    assert register(registry, "ticks-value", TICK_V1) == 200
    assert register(registry, "ticks-value", TICK_V2_DELETES_FIELD) == 202
    samples = scrape(registry)
    assert value(samples, "registry_pending_reviews", tenant="default") == 1
    assert value(samples, "registry_pending_reviews_past_notice", tenant="default") == 0

    three_days_ago = timezone.now() - timedelta(days=3)
    ChangeRequest.objects.update(created_at=three_days_ago, notice_ends_at=three_days_ago + timedelta(hours=48))
    samples = scrape(registry)
    assert value(samples, "registry_pending_reviews_past_notice", tenant="default") == 1
    assert value(samples, "registry_pending_review_oldest_seconds", tenant="default") >= 3 * 24 * 3600


def test_compatibility_failures_are_counted_by_rule_set_and_validation_errors_by_code(registry):
    assert register(registry, "ticks-value", TICK_V1) == 200
    assert register(registry, "wire-value", TICK_V1) == 200
    assert call(f"{registry}/config/wire-value", "PUT", {"compatibilityRules": "WIRE"})[0] == 200

    assert register(registry, "ticks-value", TICK_V2_DELETES_FIELD) == 202
    status, body = call(
        f"{registry}/compatibility/subjects/wire-value/versions", "POST", {"schema": TICK_V2_ADDS_FIELD}
    )
    assert status == 200 and json.loads(body)["is_compatible"] is True
    assert register(registry, "ticks-value", "message {") == 422
    samples = scrape(registry)

    failures = "registry_compatibility_check_failures_total"
    assert value(samples, failures, rule_set="SPEC", level="BACKWARD") == 1
    assert value(samples, failures, rule_set="WIRE", level="BACKWARD") == 0
    assert value(samples, "registry_compatibility_checks_total", rule_set="WIRE", result="compatible") == 1
    assert value(samples, "registry_schema_validation_errors_total", error_code="42201") == 1


def test_lookups_are_timed_by_the_cache_layer_that_answered(writer_token, tmp_path):
    """Each layer is forced: the first lookup reads the database, a restarted registry (empty process
    cache, same Redis) asks Redis once, and its repeated lookups answer from the process itself.

    One worker after the restart, because which of two workers takes a request is not ours to choose.
    """
    count = "registry_schema_lookup_seconds_count"
    with redis_server() as redis:
        env = registry_env(
            REDIS_URL=redis.url,
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics-first"),
            REGISTRY_METRICS_TOKEN=TOKEN,
            REGISTRY_METRICS_ALLOWED_NETWORKS="192.0.2.0/24",
        )
        with gunicorn(env, workers=1, log_path=tmp_path / "first.log") as url:
            assert register(url, "ticks-value", TICK_V1) == 200
            schema_id = json.loads(call(f"{url}/subjects/ticks-value/versions/1")[1])["id"]
            first = scrape(url)
        assert value(first, count, layer="database") >= 1
        assert value(first, count, layer="redis") == 0

        env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics-restarted")
        with gunicorn(env, workers=1, log_path=tmp_path / "restarted.log") as url:
            for _ in range(10):
                assert call(f"{url}/schemas/ids/{schema_id}")[0] == 200
            samples = scrape(url)

    assert value(samples, count, layer="database") == 0
    assert value(samples, count, layer="redis") == 1
    assert value(samples, count, layer="process") == 9
    assert value(samples, "registry_schema_lookup_seconds_bucket", layer="process", le="+Inf") == 9


def test_storage_is_reported_per_tenant_when_scraped(registry):
    assert register(registry, "ticks-value", TICK_V1) == 200
    assert register(registry, "ticks-value", TICK_V2_ADDS_FIELD) == 200
    assert register(registry, "copy-value", TICK_V1) == 200
    samples = scrape(registry)

    assert value(samples, "registry_subjects", tenant="default") == 2
    assert value(samples, "registry_subject_versions", tenant="default") == 3
    assert value(samples, "registry_schemas", tenant="default") == 2
    expected_bytes = len(TICK_V1.encode()) + len(TICK_V2_ADDS_FIELD.encode())
    assert value(samples, "registry_schema_bytes", tenant="default") == expected_bytes


def test_lookups_of_a_deprecated_version_are_counted_per_client(registry):
    assert register(registry, "ticks-value", TICK_V1) == 200
    SubjectVersion.objects.filter(subject__name="ticks-value").update(state=SubjectVersion.State.DEPRECATED)
    for _ in range(3):
        assert call(f"{registry}/subjects/ticks-value/versions/1")[0] == 200
    samples = scrape(registry)

    usage = "registry_deprecated_schema_usage_total"
    assert value(samples, usage, subject="ticks-value", client="writer") == 3


def test_message_sizes_reported_by_a_transport_client_are_counted_per_subject(registry):
    assert register(registry, "ticks-value", TICK_V1) == 200
    report = {"subject": "ticks-value", "sizes": [100, 2000, 300000]}
    assert call(f"{registry}/metrics/message-sizes", "POST", report) == (200, b'{"recorded":3}')
    assert call(f"{registry}/metrics/message-sizes", "POST", {"subject": "unknown-value", "sizes": [1]})[0] == 404
    samples = scrape(registry)

    assert value(samples, "registry_message_size_bytes_count", subject="ticks-value") == 3
    assert value(samples, "registry_message_size_bytes_sum", subject="ticks-value") == 302100
    assert value(samples, "registry_message_size_bytes_bucket", subject="ticks-value", le="4096.0") == 2
    assert value(samples, "registry_message_size_bytes_count", subject="unknown-value") == 0


PROBE_TASK = "tests.integration.operations.probe_tasks.probe"


def test_celery_queue_depth_is_reported_for_each_queue_and_task_durations_too(writer_token, tmp_path):
    """A worker records task durations into the same folder; queue depth is read from the broker when scraped."""
    with redis_server() as redis:
        broker = redis.url_of(1)
        env = registry_env(
            REDIS_URL=redis.url,
            CELERY_BROKER_URL=broker,
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
            REGISTRY_METRICS_TOKEN=TOKEN,
        )
        with (
            # A worker of the default queue only: the others keep what is sent to them. First: it starts while
            # gunicorn does.
            celery_worker(env, "--include", "tests.integration.operations.probe_tasks", "-Q", "celery"),
            gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log") as url,
        ):
            from celery import Celery

            sender = Celery(broker=broker, set_as_current=False)  # never the app the suite queues its tasks on
            for queue, count in (("compatibility", 1), ("codegen", 3), ("notifications", 2), ("celery", 1)):
                for _ in range(count):
                    sender.send_task(PROBE_TASK, queue=queue)
            samples = _scrape_until(url, "registry_celery_task_seconds_count", task=PROBE_TASK, state="SUCCESS")

    depths = {
        dict(labels)["queue"]: depth
        for (name, labels), depth in samples.items()
        if name == "registry_celery_queue_depth"
    }
    assert depths == {"celery": 0, "compatibility": 1, "codegen": 3, "notifications": 2}
    assert value(samples, "registry_celery_task_seconds_count", task=PROBE_TASK, state="SUCCESS") == 1


def test_a_code_generation_job_run_by_a_worker_is_counted_and_timed(writer, writer_token, tmp_path):
    """The worker counts the job into the folder gunicorn's workers sum, so whichever answers the scrape reports it."""
    writer.user_permissions.add(Permission.objects.get(codename="start_codegen", content_type__model="tenant"))
    with redis_server() as redis:
        env = registry_env(
            REDIS_URL=redis.url,
            CELERY_BROKER_URL=redis.url_of(1),
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
            REGISTRY_METRICS_TOKEN=TOKEN,
            CODEGEN_ARCHIVE_DIR=str(tmp_path / "archives"),
            REGISTRY_GIT_HISTORY_DIR="",
        )
        with (
            celery_worker(env, "-Q", "codegen"),  # first: it starts while gunicorn does
            gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log") as url,
        ):
            assert register(url, "ticks-value", TICK_V1) == 200
            before = scrape(url)
            status, body = call(f"{url}/generate/python", "POST", {"subject": "ticks-value"})
            assert status == 202, body
            job = _wait_for_job(json.loads(body)["status_url"])
            samples = scrape(url)

    assert job["state"] == "succeeded", job
    succeeded = {"language": "python", "result": "succeeded"}
    assert value(before, "registry_codegen_jobs_total", **succeeded) == 0
    assert value(samples, "registry_codegen_jobs_total", **succeeded) == 1
    assert value(samples, "registry_codegen_job_seconds_count", language="python") == 1
    assert 0 < value(samples, "registry_codegen_job_seconds_sum", language="python") < 60


def _wait_for_job(status_url: str, timeout: float = 60) -> dict:
    """Poll a job's status URL until it finished (or the time is up); return its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = call(status_url)
        job = json.loads(body)
        if job.get("state") in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def _scrape_until(url: str, name: str, timeout: float = 40, **labels: str) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(url)
        if value(samples, name, **labels) or time.monotonic() > deadline:
            return samples
        time.sleep(0.3)
