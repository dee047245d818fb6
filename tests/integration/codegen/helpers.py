"""Helpers shared by the code generation tests."""

import io
import time
import zipfile
from functools import cache
from pathlib import Path

from django.conf import settings

from protoengine.folders import read_texts

SCHEMAS_DIR = Path(settings.REGISTRY_SCHEMAS_DIR)
# The subject the end-to-end tests generate: it imports common/ files and google/protobuf/timestamp.proto.
ORDERS = "trading/orders.proto"
ORDERS_INPUTS = {"trading/orders.proto", "common/money.proto", "common/timestamp.proto"}


@cache
def catalogue_sources() -> dict[str, str]:
    return read_texts(SCHEMAS_DIR)


def zip_names(data: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return set(archive.namelist())


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def wait_for_job(client, status_url: str, *, timeout: float = 60, until=("succeeded", "failed")) -> dict:
    """Poll GET /jobs/{id} until the job reaches one of `until`; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(status_url).json()
        if job["state"] in until:
            return job
        assert time.monotonic() < deadline, f"job still {job['state']} after {timeout} s: {job}"
        time.sleep(0.1)
