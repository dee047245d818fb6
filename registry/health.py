"""Readiness probes of the registry's dependencies, answered in the shape of `system/health.proto`.

Each probe returns a `ComponentHealth` (component, status, detail, latency, checkedAt) in proto3's
JSON mapping, so a client can parse the answer with the catalogue's own `system.v1.CheckResponse`.
PostgreSQL is the source of truth: without it the registry is NOT_SERVING. Redis, the Celery broker
and its workers only make it faster or asynchronous: without them it is DEGRADED but still serves.
"""

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

SERVING = "SERVING_STATUS_SERVING"
DEGRADED = "SERVING_STATUS_DEGRADED"
NOT_SERVING = "SERVING_STATUS_NOT_SERVING"


class ProbeFailed(Exception):
    """The dependency answered wrongly or not at all; the message says how."""


@dataclass(frozen=True)
class Component:
    """A dependency: its name, how to probe it, and what its failure does to the registry."""

    name: str
    probe: Callable[[], str]  # returns a detail ("" when there is nothing to say) or raises
    status_when_down: str


def _database(alias: str = DEFAULT_DB_ALIAS) -> str:
    database = connections[alias]
    try:
        _select_one(database)
    except Exception:
        # A kept-alive connection dies when PostgreSQL restarts: drop it and try once on a new one.
        database.close()
        try:
            _select_one(database)
        except Exception:
            database.close()
            raise
        return "reconnected"
    return ""


def _select_one(database) -> None:
    with database.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not configured: each process keeps a memory cache"
    from django_redis import get_redis_connection

    # The raw client: the cache itself ignores Redis errors, which would hide an outage from this probe.
    if not get_redis_connection("default").ping():
        raise ProbeFailed("PING was not answered")
    return ""


def _celery_broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not configured: tasks run in-process"
    from registry.celery import app

    with app.connection_for_write(connect_timeout=settings.REGISTRY_HEALTH_TIMEOUT) as broker:
        broker.ensure_connection(max_retries=1, timeout=settings.REGISTRY_HEALTH_TIMEOUT)
    return ""


def _celery_worker() -> str:
    """Ask the workers which queues they consume: a queue no worker consumes keeps its tasks waiting."""
    if not settings.CELERY_BROKER_URL:
        return "not configured: tasks run in-process"
    consumers = _queue_consumers([queue.name for queue in settings.CELERY_TASK_QUEUES])
    if not consumers:
        raise ProbeFailed(f"no Celery worker answered within {settings.REGISTRY_HEALTH_TIMEOUT} s")
    unserved = [queue for queue in settings.CELERY_TASK_QUEUES if queue.name not in consumers]
    if unserved:
        names = ", ".join(queue.name for queue in unserved)
        raise ProbeFailed(f"no Celery worker consumes the queues {names}: their tasks wait")
    workers = sorted({worker for served_by in consumers.values() for worker in served_by})
    return "answered by " + ", ".join(workers)


class _EveryQueueServed(Exception):
    """Raised from the reply callback to stop listening once every queue has a worker."""


def _queue_consumers(queues: list[str]) -> dict[str, set[str]]:
    """Return {queue: names of the workers consuming it} from the workers that answer within the timeout.

    Listening stops as soon as every queue has a worker, so a healthy probe does not wait out the timeout.
    """
    from registry.celery import app

    consumers: dict[str, set[str]] = {}

    def on_reply(reply: dict) -> None:
        for worker, active in reply.items():
            for queue in active:
                consumers.setdefault(queue["name"], set()).add(worker)
        if all(queue in consumers for queue in queues):
            raise _EveryQueueServed

    # A connection of its own: the probe's early stop leaves nothing behind in the app's pool.
    with app.connection_for_write(connect_timeout=settings.REGISTRY_HEALTH_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1, timeout=settings.REGISTRY_HEALTH_TIMEOUT)
        with contextlib.suppress(_EveryQueueServed):
            app.control.broadcast(
                "active_queues",
                reply=True,
                timeout=settings.REGISTRY_HEALTH_TIMEOUT,
                callback=on_reply,
                connection=connection,
            )
    return consumers


COMPONENTS = (
    Component("postgresql", _database, NOT_SERVING),
    Component("redis", _redis, DEGRADED),
    Component("celery-broker", _celery_broker, DEGRADED),
    Component("celery-worker", _celery_worker, DEGRADED),
)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def check(component: Component) -> dict:
    """Probe one component and return its ComponentHealth as proto3 JSON."""
    checked_at = datetime.now(UTC)
    started = time.perf_counter()
    try:
        detail, status = component.probe(), SERVING
    except Exception as error:
        detail, status = f"{type(error).__name__}: {error}".strip()[:500], component.status_when_down
    body = {
        "component": component.name,
        "status": status,
        "latency": f"{time.perf_counter() - started:.6f}s",
        "checkedAt": _timestamp(checked_at),
    }
    if detail:
        body["detail"] = detail
    return body


def _replicas() -> list[Component]:
    """A read replica that is down fails the lookups routed to it: the registry is degraded until it returns."""
    from registry.db_router import replica_aliases

    return [
        Component(f"postgresql-{alias.replace('_', '-')}", lambda alias=alias: _database(alias), DEGRADED)
        for alias in replica_aliases()
    ]


def readiness() -> dict:
    """Return a CheckResponse: the worst status of the components, and each component's health."""
    components = [check(component) for component in (*COMPONENTS, *_replicas())]
    statuses = {component["status"] for component in components}
    overall = NOT_SERVING if NOT_SERVING in statuses else DEGRADED if DEGRADED in statuses else SERVING
    return {"status": overall, "components": components}
