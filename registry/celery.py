"""The Celery application; configuration comes from Django settings (CELERY_* names).

Every task's duration is recorded in `registry_celery_task_seconds` by the signal handlers
below, whatever app defines the task.
"""

import os
import time

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Start times by task id, in the process running the task (prefork children each keep their own).
_started: dict[str, float] = {}


@signals.task_prerun.connect
def _task_started(task_id=None, **_):
    from registry import db_router

    db_router.start_unit_of_work()  # a task, like a request, reads replicas until it writes
    _started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **_):
    started = _started.pop(task_id, None)
    if started is not None and task is not None:
        from registry import metrics

        metrics.observe_celery_task(task=task.name, state=state or "UNKNOWN", seconds=time.perf_counter() - started)


@signals.worker_init.connect
def _serve_worker_metrics(**_):
    """Serve the worker's own /metrics on REGISTRY_WORKER_METRICS_PORT (0: off), for workers on other hosts."""
    from django.conf import settings

    if not settings.REGISTRY_WORKER_METRICS_PORT:
        return
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Prefork children record into the folder; the main process sums them up for the scraper.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    start_http_server(settings.REGISTRY_WORKER_METRICS_PORT, registry=registry)
