"""A real Celery worker for the tests: a `celery worker` process on a Redis broker of this test run's own."""

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

ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT_SECONDS = 60


class Broker:
    """A Redis key prefix of this test run's own on the suite's Redis server: the registry's queues, apart."""

    def __init__(self):
        self.url = settings.REDIS_URL
        self.key_prefix = f"codegen-test-{os.getpid()}-{uuid.uuid4().hex[:8]}:"

    def environment(self, **overrides: str) -> dict[str, str]:
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


class Worker:
    """One `celery worker` process (solo pool: one task at a time, in the process the test kills).

    It consumes `queues`, every queue of the registry unless told; a task routed elsewhere waits for another worker.
    """

    def __init__(self, broker: Broker, name: str, *, queues: Sequence[str] = (), **environment: str):
        self.name = name
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "registry",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname={name}@%h",
                "-Q",
                ",".join(queues or queue_names()),
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=broker.environment(**environment),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = LineReader(self.process.stdout, self.process)
        if not self.output.wait_for(" ready.", START_TIMEOUT_SECONDS):
            self.stop()
            raise AssertionError(f"worker {name} did not start:\n{''.join(self.output.seen)}")

    def kill(self):
        """SIGKILL: no warm shutdown, no chance to acknowledge or give back the task."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
