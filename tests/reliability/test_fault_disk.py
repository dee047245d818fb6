"""Fault: the disk under the artifact storage fills up while the mixed workload runs; code generation fails
saying so, the API keeps serving without one error, and once there is room the same request succeeds.

The archive folder (CODEGEN_ARCHIVE_DIR) is a 64 KiB tmpfs, filled to the last byte during the fault, so
every write there really fails with ENOSPC. The scenario runs on a registry stack of its own
(tests/reliability/harness.py) whose Celery worker serves its metrics, and checks the load's invariants afterwards.
"""

import errno
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.operations.servers import free_port
from tests.reliability.celery_workers import wait_until
from tests.reliability.harness import registry_stack
from tests.reliability.invariants import check_invariants
from tests.reliability.results import record, summary
from tests.reliability.workload import MIX, run_load

pytestmark = [pytest.mark.faults, pytest.mark.slow]

SCENARIO = "full disk"
FILESYSTEM_BYTES = 64 * 1024
ORDERS = """syntax = "proto3";

package disk.orders;

message Order {
  string order_id = 1;
  int64 quantity = 2;
}
"""
# The clients ask for code often enough that some of their jobs meet the full disk too.
GENERATING = {**MIX, "codegen": 2.0}
LOOKUPS = ("lookup_id", "lookup_version")


@pytest.fixture
def small_disk():
    """Yield a folder on a tmpfs of 64 KiB (the scenario fills it); unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; run `make faults` as root to fill a real filesystem")
    folder = Path(tempfile.mkdtemp(prefix="registry-full-disk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={FILESYSTEM_BYTES}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"this machine refuses to mount a tmpfs (no CAP_SYS_ADMIN?): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


def fill(path: Path) -> None:
    """Write zeros until the filesystem refuses one more byte."""
    with open(path, "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 4096)
        except OSError as full:
            assert full.errno == errno.ENOSPC, full
    assert shutil.disk_usage(path.parent).free == 0


def assert_served_whole(api: httpx.Client, path: Path) -> None:
    """Assert that an archive file is one the API serves, byte for byte (named language/xx/VERSION-ATTEMPT.ext)."""
    version, language = path.name.split("-")[0], path.parent.parent.name
    suffix = "?format=tar.gz" if path.name.endswith(".tar.gz") else ""
    served = api.get(f"/generated/{language}/{version}{suffix}")
    assert served.status_code == 200 and served.content == path.read_bytes(), path


def test_code_generation_on_a_full_disk_fails_naming_enospc_while_the_api_keeps_serving(small_disk, tmp_path, scale):
    metrics_port = free_port()
    with registry_stack(
        tmp_path, CODEGEN_ARCHIVE_DIR=str(small_disk), REGISTRY_WORKER_METRICS_PORT=str(metrics_port)
    ) as stack:
        api = httpx.Client(base_url=stack.url, headers=stack.writer.auth_headers("bearer"), timeout=60)
        first_id = _register(api, "disk.orders", ORDERS)

        def fill_the_disk_then_make_room(faults) -> None:
            time.sleep(scale.seconds * 0.2)
            # Excuses nothing: no answer of the API may fail because the archive storage is full.
            with faults.window("archive disk full", excuses=False):
                fill(small_disk / "filler")
                started = api.post("/generate/java", json={"subject": "disk.orders"})
                assert started.status_code == 202, started.text
                job = _wait_for_job(api, started.json()["status_url"])

                # The job failed, and says why in words a person can act on.
                assert job["state"] == "failed", job
                assert_names_the_full_disk(job)
                assert api.get(started.json()["download_url"]).status_code == 404

                # Meanwhile the registry serves lookups and takes registrations as before.
                assert api.get(f"/schemas/ids/{first_id}").json()["schema"] == ORDERS
                second_id = _register(
                    api, "disk.orders", ORDERS.replace("quantity = 2;", "quantity = 2;\n  string note = 3;")
                )
                assert second_id != first_id
                assert api.get("/subjects/disk.orders/versions").json() == [1, 2]
                assert api.get("/health/ready").status_code == 200
                time.sleep(scale.seconds * 0.3)  # the clients' own jobs meet the full disk too

                # No half-written archive was left to take room: beside the filler, only archives the clients'
                # jobs finished before the disk filled up, each served whole.
                for path in small_disk.rglob("*"):
                    if path.is_file() and path.name != "filler":
                        assert_served_whole(api, path)

        try:
            run = run_load(
                stack.url, stack.writer, stack.reviewer, scale, mix=GENERATING, during=fill_the_disk_then_make_room
            )
            report = check_invariants(stack, run)
            jobs = [job_id for log in run.logs for job_id in log.codegen_jobs]
            ended = [_wait_for_job(api, f"/jobs/{job_id}") for job_id in jobs]

            # With room again, the same request succeeds without restarting anything. The room is made once the load
            # is over and its jobs have ended (those after the window met the full disk too): made earlier, the
            # clients' archives filled the 64 KiB again before this job wrote its own.
            (small_disk / "filler").unlink()
            again = api.post("/generate/java", json={"subject": "disk.orders"}).json()
            job = _wait_for_job(api, again["status_url"])
            assert job["state"] == "succeeded", (job.get("error"), shutil.disk_usage(small_disk))
            assert api.get(again["download_url"]).status_code == 200
            scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        finally:
            api.close()
        log = (tmp_path / "celery.log").read_text()
    record(SCENARIO, run, report)
    print(summary(SCENARIO, run, report))

    assert run.faults.names == ["archive disk full"]
    assert report.violations == []
    assert report.lost == report.duplicated == report.skipped == report.stale == report.unexpected_errors == 0
    outage = run.faults.windows[0]
    assert run.served_between(outage.started, outage.ended, LOOKUPS) > 0, "lookups were served while the disk was full"
    # The clients' jobs either met the full disk and said so, or came after it and succeeded.
    for job in ended:
        if job["state"] == "failed":
            assert_names_the_full_disk(job)
    assert _sample(scraped, 'registry_codegen_jobs_total{language="java",result="failed"}') == 1
    assert _sample(scraped, 'registry_codegen_jobs_total{language="java",result="succeeded"}') == 1
    assert "the archive storage is full" in log and "No space left on device" in log, log[-3000:]


def assert_names_the_full_disk(job: dict) -> None:
    message = job["error"]["message"]
    assert "ENOSPC" in message and "No space left on device" in message, message
    assert "CODEGEN_ARCHIVE_DIR" in message, message


def _register(api: httpx.Client, subject: str, text: str) -> int:
    answer = api.post(f"/subjects/{subject}/versions", json={"schemaType": "PROTOBUF", "schema": text})
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def _wait_for_job(api: httpx.Client, status_url: str) -> dict:
    return wait_until(
        lambda: (job := api.get(status_url).json())["state"] in ("succeeded", "failed") and job,
        timeout=120,
        what="the job did not finish",
        interval=0.2,
    )


def _sample(exposition: str, series: str) -> float:
    found = re.search(rf"^{re.escape(series)} (\S+)$", exposition, re.MULTILINE)
    assert found, f"{series} is not in the worker's metrics"
    return float(found.group(1))
