"""Celery workers with the registry's production settings, which a fault test kills whole or by their pool child.

Each worker runs the prefork pool a deployment runs (one child, so one task at a time) on a private Redis
broker of the test's own; its output is kept, so the test can see which worker received a task.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.codegen.worker import Broker
from tests.integration.lines import LineReader
from tests.integration.operations.servers import ROOT, registry_env

START_TIMEOUT_SECONDS = 60


class PrivateBroker(Broker):
    """All of a private Redis server: no key prefix, as the production settings read it."""

    def __init__(self, url: str):
        self.url = url
        self.key_prefix = ""


def worker_env(broker_url: str, **overrides: str) -> dict[str, str]:
    """Return a worker's environment: production settings on this run's test database and the private broker."""
    return registry_env(CELERY_BROKER_URL=broker_url, LOG_FORMAT="text", PYTHONUNBUFFERED="1", **overrides)


class CeleryWorker:
    """One `celery worker` process with its pool; stopped by the test, or killed as a fault."""

    def __init__(self, env: dict[str, str], name: str, *, pool: str = "prefork"):
        self.name = name
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "registry",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                f"--hostname={name}@%h",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output = LineReader(self.process.stdout, self.process)
        if not self.output.wait_for(" ready.", START_TIMEOUT_SECONDS):
            self.stop()
            raise AssertionError(f"worker {name} did not start:\n{self.log()}")

    def log(self) -> str:
        """Return every line the worker wrote so far."""
        return "".join(self.output.drain())

    def received(self, task_name: str) -> int:
        """Return how many times the worker has received a task of this name."""
        marker = f"Task {task_name}["
        return sum(1 for line in self.output.drain() if marker in line and "received" in line)

    def pool_children(self) -> list[int]:
        """Return the process ids of the pool's children (the processes that run tasks)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def kill(self) -> None:
        """SIGKILL the worker and its children at once: no warm shutdown, nothing acknowledged or handed back."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def kill_pool_child(self) -> int:
        """SIGKILL only the child running the task (as the kernel's out-of-memory killer would); return its id."""
        (child,) = self.pool_children()
        os.kill(child, signal.SIGKILL)
        return child

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.05):
    """Return the predicate's first true value, polling; fail the test naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s")
