"""A real Celery worker for the tests: a `celery worker` process on a Redis broker of this test run's own."""

import os
import signal
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from registry.celery import app
from tests.integration.lines import LineReader

ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT_SECONDS = 60


class Broker:
    """A queue name and Redis key prefix of this test run's own, on the suite's Redis server."""

    def __init__(self):
        tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.url = settings.REDIS_URL
        self.queue = f"codegen-test-{tag}"
        self.key_prefix = f"codegen-test-{tag}:"

    def environment(self, **overrides: str) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.codegen_worker_settings",
            "CODEGEN_TEST_DATABASE_NAME": settings.DATABASES["default"]["NAME"],
            "CODEGEN_TEST_BROKER_URL": self.url,
            "CODEGEN_TEST_QUEUE": self.queue,
            "CODEGEN_TEST_KEY_PREFIX": self.key_prefix,
            "PYTHONUNBUFFERED": "1",
            **overrides,
        }

    @contextmanager
    def sending(self):
        """Point this process's Celery app at the broker for the block: tasks go to the worker, not in-process."""
        saved = {
            key: app.conf[key]
            for key in ("broker_url", "task_always_eager", "task_default_queue", "broker_transport_options")
        }
        _forget_connections()
        # shared_task sends through the current app; another test's Celery(...) may have become current.
        app.set_current()
        app.conf.update(
            broker_url=self.url,
            task_always_eager=False,
            task_default_queue=self.queue,
            broker_transport_options={"global_keyprefix": self.key_prefix},
        )
        try:
            yield
        finally:
            app.conf.update(saved)
            _forget_connections()


def _forget_connections():
    """Drop the app's broker connections and its cached queues and routes, so they are rebuilt from its settings."""
    # Never close the pool itself: kombu keeps it in a process-wide registry that later senders reuse.
    app._pool = None
    app.__dict__.pop("amqp", None)


class Worker:
    """One `celery worker` process (solo pool: one task at a time, in the process the test kills)."""

    def __init__(self, broker: Broker, name: str, **environment: str):
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
                broker.queue,
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
