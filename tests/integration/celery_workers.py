"""Real Celery workers for the tests: `celery worker` processes of the registry app, started and stopped here.

Every test that runs tasks in a worker process starts it from this module: `Worker` waits until the worker is
ready and keeps its output (the suite's settings on a `Broker` key prefix of this run's own, or the production
settings the fault scenarios pass); `celery_worker` runs one for a block with its output in a log file.
"""

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings

from registry.celery import app
from tests.integration.lines import LineReader
from tests.integration.operations.servers import ROOT, stop_session

START_TIMEOUT_SECONDS = 60


class Broker:
    """A Redis key prefix of this test run's own on the suite's Redis server: the registry's queues, apart."""

    def __init__(self):
        self.url = settings.REDIS_URL
        self.key_prefix = f"celery-test-{os.getpid()}-{uuid.uuid4().hex[:8]}:"

    def environment(self, **overrides: str) -> dict[str, str]:
        """Return the environment of a worker with the suite's settings, on this run's database and this prefix."""
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.codegen_worker_settings",
            "CODEGEN_TEST_DATABASE_NAME": settings.DATABASES["default"]["NAME"],
            "CODEGEN_TEST_BROKER_URL": self.url,
            "CODEGEN_TEST_KEY_PREFIX": self.key_prefix,
            "PYTHONUNBUFFERED": "1",
            **overrides,
        }

    def depth(self, queue: str) -> int:
        """Return how many messages wait in a queue (read directly: kombu's passive declare ignores the prefix)."""
        return redis.Redis.from_url(self.url).llen(self.key_prefix + queue)

    def forget(self) -> None:
        """Delete every key under this run's prefix: tasks left queued for a worker the test never started."""
        if self.key_prefix:
            client = redis.Redis.from_url(self.url)
            for key in client.scan_iter(match=self.key_prefix + "*"):
                client.delete(key)

    @contextmanager
    def sending(self):
        """Point this process's Celery app at the broker for the block: tasks go to the worker, not in-process."""
        saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "broker_transport_options")}
        forget_connections()
        # shared_task sends through the current app; another test's Celery(...) may have become current.
        app.set_current()
        app.conf.update(
            broker_url=self.url,
            task_always_eager=False,
            broker_transport_options={"global_keyprefix": self.key_prefix},
        )
        try:
            yield
        finally:
            app.conf.update(saved)
            forget_connections()
            self.forget()


def forget_connections():
    """Drop the app's broker connections and its cached queues and routes, so they are rebuilt from its settings."""
    # Never close the pool itself: kombu keeps it in a process-wide registry that later senders reuse.
    app._pool = None
    app.__dict__.pop("amqp", None)


def queue_names() -> list[str]:
    """Return every queue the registry routes tasks to (settings.CELERY_TASK_QUEUES)."""
    return [queue.name for queue in settings.CELERY_TASK_QUEUES]


def worker_command(*options: str) -> list[str]:
    """Return the command line of a `celery worker` of the registry app with these options."""
    return [sys.executable, "-m", "celery", "-A", "registry", "worker", *options]


class Worker:
    """One `celery worker` process, ready when made, in a session of its own (so a kill takes its pool too).

    Its pool runs one task at a time: `solo` runs it in the worker's own process, `prefork` (a deployment's) in
    one child. It consumes `queues`, every queue of the registry unless told; a task routed elsewhere waits for
    another worker. `env` chooses the settings: `Broker.environment()` for the suite's.
    """

    def __init__(self, env: dict[str, str], name: str, *, pool: str = "solo", queues: Sequence[str] = ()):
        self.name = name
        self.process = subprocess.Popen(
            worker_command(
                f"--pool={pool}",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname={name}@%h",
                "-Q",
                ",".join(queues or queue_names()),
                "--loglevel=INFO",
            ),
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
        """Return the process ids of the pool's children (the processes that run tasks; none for `solo`)."""
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
        stop_session(self.process)


@contextmanager
def celery_worker(env: dict[str, str], *extra: str, log_path: Path | None = None):
    """Run a Celery worker of the registry app (solo pool) until the block ends; its output goes to `log_path`."""
    log = open(log_path or os.devnull, "ab")  # noqa: SIM115 (closed below, after the process)
    process = subprocess.Popen(
        worker_command("--pool", "solo", "--loglevel", "WARNING", *extra),
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        stop_session(process)
        log.close()
