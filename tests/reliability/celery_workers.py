"""Celery workers with the registry's production settings, which a fault test kills whole or by their pool child.

The workers themselves are `tests.integration.celery_workers.Worker` with the prefork pool a deployment runs;
here is what the fault scenarios add: a private Redis broker of the test's own and the production environment.
"""

import time

from tests.integration.celery_workers import Broker
from tests.integration.operations.servers import registry_env


class PrivateBroker(Broker):
    """All of a private Redis server: no key prefix, as the production settings read it."""

    def __init__(self, url: str):
        self.url = url
        self.key_prefix = ""


def worker_env(broker_url: str, **overrides: str) -> dict[str, str]:
    """Return a worker's environment: production settings on this run's test database and the private broker."""
    return registry_env(CELERY_BROKER_URL=broker_url, LOG_FORMAT="text", PYTHONUNBUFFERED="1", **overrides)


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.05):
    """Return the predicate's first true value, polling; fail the test naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s")
