"""Fault: a Celery worker killed with SIGKILL while it runs a task; the task finishes elsewhere, nothing is lost.

Workers run the production settings (acks late, handed back when the worker is lost, prefetch one) with the
prefork pool, on a private Redis broker. Two ways a worker dies:

- the whole worker (a lost machine or container): its unacknowledged task stays in Redis and a running
  worker restores it once CELERY_VISIBILITY_TIMEOUT has passed;
- only the pool child running the task (the kernel's out-of-memory killer): the worker hands the task back at
  once; the visibility timeout stays at its production hour, so only that hand-back can bring the task back.

The code generation job is slow because its input is: a six-file tree whose Java code is megabytes.
The last scenario kills the stack's only worker while the mixed workload runs (tests/reliability/harness.py)
and checks the load's invariants afterwards.
"""

import dataclasses
import http.server
import io
import json
import os
import signal
import threading
import zipfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from django.db import transaction

from schemas_app import selectors, services
from schemas_app.models import DeliveryAttempt, GenerationJob, NotificationDelivery
from schemas_app.notifications import SIGNATURE_HEADER, notify, sign, subscription_create
from schemas_app.tree import tree_register
from tests.integration.celery_workers import Worker
from tests.integration.codegen.helpers import body_of, wait_for_job
from tests.integration.operations.servers import redis_server
from tests.reliability.celery_workers import PrivateBroker, wait_until, worker_env
from tests.reliability.harness import registry_stack
from tests.reliability.invariants import check_invariants
from tests.reliability.large_tree import large_tree
from tests.reliability.results import record, summary
from tests.reliability.workload import MIX, run_load

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GENERATE = "schemas_app.generate_archive"
DELIVER = "schemas_app.deliver_notification"
# With the whole worker killed, the survivor restores its task after this many seconds (production: an hour).
VISIBILITY_SECONDS = 5
LEASE_SECONDS = 3
WHOLE_WORKER, POOL_CHILD = "whole worker", "pool child"
# How long the load runs at least in the scenario under load: the fault and the rescue take about this long.
FAULT_SECONDS = 40


@pytest.fixture
def broker_url():
    with redis_server() as redis, PrivateBroker(redis.url).sending():
        yield redis.url


@contextmanager
def workers(broker_url: str, kill: str):
    """Start the workers of a fault: two when the whole victim dies, one (whose pool restarts) otherwise."""
    overrides = {"CODEGEN_JOB_LEASE_SECONDS": str(LEASE_SECONDS)}
    if kill == WHOLE_WORKER:
        overrides["CELERY_VISIBILITY_TIMEOUT"] = str(VISIBILITY_SECONDS)
    env = worker_env(broker_url, **overrides)
    names = ("blue", "green") if kill == WHOLE_WORKER else ("blue",)
    with ExitStack() as stack:
        started = []
        for name in names:
            worker = Worker(env, name, pool="prefork")
            stack.callback(worker.stop)
            started.append(worker)
        yield started


def receiver_of(started: list[Worker], task_name: str) -> Worker:
    """Wait until one worker has received the task; return it."""
    return wait_until(
        lambda: next((worker for worker in started if worker.received(task_name)), None),
        timeout=30,
        what=f"no worker received {task_name}",
    )


def inflict(kill: str, victim: Worker) -> None:
    if kill == WHOLE_WORKER:
        victim.kill()
    else:
        victim.kill_pool_child()


@pytest.fixture
def ledger():
    """The large tree registered in the default tenant, one subject per file."""
    results = tree_register(
        tenant=selectors.default_tenant(), sources=large_tree(), acting_user=services.system_account()
    )
    assert not [result.error for result in results if result.error]
    return results


@pytest.mark.parametrize("kill", [WHOLE_WORKER, POOL_CHILD])
def test_a_code_generation_job_whose_worker_is_killed_mid_job_succeeds_and_its_archive_downloads(
    broker_url, ci, ledger, kill
):
    with workers(broker_url, kill) as started:
        answer = ci.post("/generate/java", {"all": True}, format="json").json()
        job_id = answer["job_id"]
        victim = receiver_of(started, GENERATE)
        wait_until(lambda: _state(job_id) == "running", timeout=60, what="the job never started running")
        inflict(kill, victim)

        # Killed mid-job: nothing was stored, and the job still says running.
        assert _state(job_id) == "running"
        assert ci.get(answer["download_url"]).status_code == 404

        job = wait_for_job(ci, answer["status_url"], timeout=180)
        log = "".join(worker.log() for worker in started)

    assert job["state"] == "succeeded", (job, log)
    assert job["attempts"] == 2
    data = body_of(ci.get(answer["download_url"]))
    assert len(data) == job["size"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        generated = [name for name in archive.namelist() if name.endswith(".java")]
    assert {name.split("/")[-1] for name in generated} >= {f"Part{index}.java" for index in range(6)}


class HoldingReceiver:
    """A webhook endpoint on 127.0.0.1 that holds the first POST open until released and answers later ones 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                if len(receiver.requests) == 1:
                    receiver.first_arrived.set()
                    receiver.release.wait(60)
                try:
                    self.send_response(200)
                    self.end_headers()
                except OSError:
                    pass  # the worker that sent it is gone

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/registry"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = HoldingReceiver()
    yield receiver
    receiver.close()


@pytest.mark.parametrize("kill", [WHOLE_WORKER, POOL_CHILD])
def test_a_webhook_delivery_whose_worker_is_killed_mid_post_is_delivered_by_a_retry(broker_url, receiver, owner, kill):
    tenant = selectors.default_tenant()
    subscription = subscription_create(
        tenant=tenant,
        subject_prefix="load.",
        webhook_url=receiver.url,
        events=["version.deprecated"],
        acting_user=owner,
    )
    with workers(broker_url, kill) as started:
        with transaction.atomic():
            (delivery,) = notify(
                tenant=tenant, subject_name="load.ledger", event="version.deprecated", payload={"version": 1}
            )
        victim = receiver_of(started, DELIVER)
        assert receiver.first_arrived.wait(30), victim.log()
        inflict(kill, victim)
        receiver.release.set()

        wait_until(
            lambda: _delivery_status(delivery.pk) != NotificationDelivery.Status.PENDING,
            timeout=120,
            what="the delivery stayed pending",
        )
        log = "".join(worker.log() for worker in started)

    assert _delivery_status(delivery.pk) == NotificationDelivery.Status.DELIVERED, log
    # Delivered at least once: the killed attempt reached the receiver too, under the same delivery id.
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        assert request["headers"]["X-Registry-Delivery"] == str(delivery.pk)
        assert request["headers"][SIGNATURE_HEADER] == sign(subscription.webhook_secret, request["body"])
        assert json.loads(request["body"])["subject"] == "load.ledger"
    # Only the attempt that finished is recorded; the killed one left nothing half-written.
    assert list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("status_code", flat=True)) == [200]


def _state(job_id) -> str:
    return GenerationJob.objects.get(pk=job_id).state


def _delivery_status(delivery_id) -> str:
    return NotificationDelivery.objects.get(pk=delivery_id).status


def test_the_only_worker_killed_under_the_mixed_workload_loses_no_job_and_breaks_no_invariant(tmp_path, scale):
    # The clients keep working through the fault (about half a minute) and ask for code often enough to queue
    # jobs while no worker is alive.
    overlapping = dataclasses.replace(scale, seconds=max(scale.seconds, FAULT_SECONDS))
    mix = {**MIX, "codegen": 2.0}
    with registry_stack(
        tmp_path, CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_SECONDS), CODEGEN_JOB_LEASE_SECONDS=str(LEASE_SECONDS)
    ) as stack:
        api = httpx.Client(base_url=stack.url, headers=stack.writer.auth_headers("bearer"), timeout=60)
        rescuers: list[Worker] = []

        def kill_the_worker_mid_job(faults) -> None:
            job = _start_a_slow_job(api)
            # The worker takes jobs in turn: the clients' own may be ahead of this one.
            wait_until(lambda: api.get(job["status_url"]).json()["state"] == "running", timeout=180, what="never ran")
            with faults.window("celery worker killed"):
                os.killpg(stack.celery.pid, signal.SIGKILL)  # the harness reaps it when the stack stops
                wait_until(lambda: _is_dead(stack.celery.pid), timeout=10, what="the worker outlived SIGKILL")
                assert api.get(job["status_url"]).json()["state"] == "running"
                rescuers.append(Worker(stack.env, "rescuer", pool="prefork"))
            slow = wait_until(lambda: _finished(api, job["status_url"]), timeout=180, what="the slow job never ended")
            assert slow["state"] == "succeeded" and slow["attempts"] == 2, slow
            assert api.get(job["download_url"]).status_code == 200

        try:
            run = run_load(
                stack.url, stack.writer, stack.reviewer, overlapping, mix=mix, during=kill_the_worker_mid_job
            )
            report = check_invariants(stack, run)
            jobs = [job_id for log in run.logs for job_id in log.codegen_jobs]
            ended = [wait_until(lambda j=j: _finished(api, f"/jobs/{j}"), timeout=120, what=j) for j in jobs]
        finally:
            for rescuer in rescuers:
                rescuer.stop()
            api.close()
    record("celery worker killed", run, report)
    print(summary("celery worker killed", run, report))

    assert run.faults.names == ["celery worker killed"]
    assert jobs, "the clients asked for code"
    assert [job["state"] for job in ended] == ["succeeded"] * len(jobs)
    assert report.violations == []
    assert report.lost == report.duplicated == report.skipped == report.stale == report.unexpected_errors == 0


def _start_a_slow_job(api: httpx.Client) -> dict:
    """Register the large tree over HTTP and ask for its Java code; return the 202 answer."""
    previous = None  # each file imports the one before it
    for path, text in large_tree().items():
        references = [{"name": previous, "subject": previous, "version": 1}] if previous else []
        body = {"schema": text, "schemaType": "PROTOBUF", "references": references}
        answer = api.post(f"/subjects/{path}/versions", json=body)
        assert answer.status_code == 200, answer.text
        previous = path
    started = api.post("/generate/java", json={"subjects": sorted(large_tree())})
    assert started.status_code == 202, started.text
    return started.json()


def _finished(api: httpx.Client, status_url: str) -> dict | None:
    job = api.get(status_url).json()
    return job if job["state"] in ("succeeded", "failed") else None


def _is_dead(pid: int) -> bool:
    """Return True once the process has exited (a zombie waiting to be reaped counts)."""
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
