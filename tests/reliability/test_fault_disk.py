"""Fault: the disk under the artifact storage is full; code generation fails saying so, the API keeps serving.

The archive folder (CODEGEN_ARCHIVE_DIR) is a 64 KiB tmpfs filled to the last byte, so every write there
really fails with ENOSPC. gunicorn and a Celery worker run the production settings on this run's test
database and a private Redis broker; the client speaks HTTP to gunicorn with an API token.
"""

import errno
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import Permission

from tests.conftest_users import api_token
from tests.integration.operations.servers import free_port, gunicorn, redis_server
from tests.reliability.celery_workers import CeleryWorker, wait_until, worker_env

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FILESYSTEM_BYTES = 64 * 1024
ORDERS = """syntax = "proto3";

package disk.orders;

message Order {
  string order_id = 1;
  int64 quantity = 2;
}
"""


@pytest.fixture
def full_disk():
    """Yield a folder on a tmpfs of 64 KiB that a filler file has filled; unmounted afterwards."""
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
        fill(folder / "filler")
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


@pytest.fixture
def token(django_user_model):
    user = django_user_model.objects.create_user("disk-writer", "disk@example.org", "disk-password")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="schemas_app",
            content_type__model="tenant",
            codename__in=("write_schemas", "start_codegen"),
        )
    )
    return api_token(user)


def test_code_generation_on_a_full_disk_fails_naming_enospc_while_the_api_keeps_serving(full_disk, token):
    metrics_port = free_port()
    with redis_server() as redis:
        env = worker_env(redis.url, CODEGEN_ARCHIVE_DIR=str(full_disk))
        worker = CeleryWorker({**env, "REGISTRY_WORKER_METRICS_PORT": str(metrics_port)}, "disk", pool="solo")
        try:
            with gunicorn(env, workers=1) as url, httpx.Client(base_url=url, headers=_bearer(token)) as api:
                first_id = _register(api, "disk.orders", ORDERS)
                started = api.post("/generate/java", json={"subject": "disk.orders"})
                assert started.status_code == 202, started.text
                job = _wait_for_job(api, started.json()["status_url"])

                # The job failed, and says why in words a person can act on.
                assert job["state"] == "failed", job
                message = job["error"]["message"]
                assert "ENOSPC" in message and "No space left on device" in message, message
                assert "CODEGEN_ARCHIVE_DIR" in message
                assert api.get(started.json()["download_url"]).status_code == 404

                # Meanwhile the registry serves lookups and takes registrations as before.
                assert api.get(f"/schemas/ids/{first_id}").json()["schema"] == ORDERS
                second_id = _register(
                    api, "disk.orders", ORDERS.replace("quantity = 2;", "quantity = 2;\n  string note = 3;")
                )
                assert second_id != first_id
                assert api.get("/subjects/disk.orders/versions").json() == [1, 2]
                assert api.get("/health/ready").status_code == 200

                # No half-written archive was left to take room: the filler is all there is.
                assert sorted(path.name for path in full_disk.rglob("*") if path.is_file()) == ["filler"]

                # With room again, the same request succeeds without restarting anything.
                (full_disk / "filler").unlink()
                again = api.post("/generate/java", json={"subject": "disk.orders"}).json()
                assert _wait_for_job(api, again["status_url"])["state"] == "succeeded"
                assert api.get(again["download_url"]).status_code == 200

            scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
            log = worker.log()
        finally:
            worker.stop()

    assert _sample(scraped, 'registry_codegen_jobs_total{language="java",result="failed"}') == 1
    assert _sample(scraped, 'registry_codegen_jobs_total{language="java",result="succeeded"}') == 1
    assert "the archive storage is full" in log and "No space left on device" in log, log


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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
