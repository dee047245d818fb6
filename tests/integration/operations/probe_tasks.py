"""A task that does nothing, for a Celery worker started by the operations tests (`--include`)."""

from celery import shared_task


@shared_task(name="tests.integration.operations.probe_tasks.probe")
def probe() -> str:
    return "done"
