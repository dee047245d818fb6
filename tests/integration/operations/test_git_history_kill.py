"""A gunicorn worker killed after a registration's answer and before its git commit: the worker gunicorn starts in
its place writes the lost commit before it serves, and the next registration comes after it, each version once."""

import fcntl
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from contextlib import contextmanager

import pytest

from tests.conftest_users import api_token
from tests.integration.api.helpers import CONTENT_TYPE, TICK_V1, TICK_V2_ADDS_FIELD, TICK_V2_DELETES_FIELD
from tests.integration.operations.servers import gunicorn, gunicorn_workers, registry_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# A new worker imports the whole registry first: on a busy machine that takes seconds.
WAIT_SECONDS = 60


@pytest.fixture
def register(writer):
    """Register a schema over HTTP as the writer, with an API token (production's password hashers are slow)."""
    token = api_token(writer)

    def send(url: str, subject: str, text: str) -> int:
        request = urllib.request.Request(
            f"{url}/subjects/{subject}/versions",
            data=json.dumps({"schema": text}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": CONTENT_TYPE},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status

    return send


def subjects_in(history) -> list[str]:
    found = subprocess.run(
        ["git", "--git-dir", str(history), "log", "--reverse", "--format=%s", "main"], capture_output=True, text=True
    )
    return found.stdout.splitlines() if found.returncode == 0 else []


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {WAIT_SECONDS} s")
        time.sleep(0.1)


@contextmanager
def history_lock_held(history):
    """Hold the history's file lock, as a slow writer in another process would: commits wait until the block ends."""
    with open(history.parent / f".{history.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def test_a_version_whose_worker_was_killed_before_its_commit_is_written_by_the_next_worker(register, tmp_path):
    history = tmp_path / "history.git"
    env = registry_env(REGISTRY_GIT_HISTORY_DIR=str(history))  # no broker: each worker commits its own versions
    with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as url:
        assert register(url, "ticks-value", TICK_V1) == 200
        wait_for(lambda: len(subjects_in(history)) == 1, "the first version was not committed")

        with history_lock_held(history):
            # Answered; the worker then waits for the lock to commit, and is killed waiting.
            assert register(url, "ticks-value", TICK_V2_ADDS_FIELD) == 200
            [killed] = gunicorn_workers(url)
            os.kill(killed, signal.SIGKILL)
            wait_for(lambda: gunicorn_workers(url) not in ([], [killed]), "gunicorn started no other worker")

        wait_for(lambda: len(subjects_in(history)) == 2, "the killed worker's version was not committed")
        assert register(url, "other-value", TICK_V2_DELETES_FIELD) == 200
        wait_for(lambda: len(subjects_in(history)) == 3, "the next version was not committed")

    assert subjects_in(history) == [
        "ticks-value version 1 (1.0.0)",
        "ticks-value version 2 (1.1.0)",
        "other-value version 1 (1.0.0)",
    ]


def test_a_server_stopping_writes_the_versions_its_workers_have_waiting_before_they_exit(register, tmp_path):
    """Versions registered just before gunicorn stops wait in the worker's history writer: the worker writes them as
    it exits (no new worker starts to catch up for it), here once the history's lock is let go."""
    history = tmp_path / "history.git"
    env = registry_env(REGISTRY_GIT_HISTORY_DIR=str(history))
    lock = open(history.parent / f".{history.name}.lock", "w")  # noqa: SIM115 (closed by the releaser)
    with gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log") as url:
        assert register(url, "ticks-value", TICK_V1) == 200
        wait_for(lambda: len(subjects_in(history)) == 1, "the first version was not committed")
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert register(url, "ticks-value", TICK_V2_ADDS_FIELD) == 200
        assert register(url, "other-value", TICK_V2_DELETES_FIELD) == 200
        time.sleep(0.2)  # past the writer's lull: it is waiting for the lock with both
        releaser = threading.Timer(2, lambda: (fcntl.flock(lock, fcntl.LOCK_UN), lock.close()))
        releaser.start()
    releaser.join()

    assert subjects_in(history) == [
        "ticks-value version 1 (1.0.0)",
        "ticks-value version 2 (1.1.0)",
        "other-value version 1 (1.0.0)",
    ]
