"""The Celery settings a deployment runs: nothing lost with a worker, and every periodic job scheduled."""

from django.conf import settings

from registry.celery import app


def test_every_periodic_job_is_scheduled_and_names_a_task_the_workers_know():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled == {"schemas_app.apply_deprecation_policy", "schemas_app.prune_archives"}
    assert scheduled <= set(app.tasks)


def test_a_task_is_acknowledged_after_it_ran_and_handed_back_when_its_worker_dies():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_running_workers_look_for_a_dead_workers_tasks_well_within_the_visibility_timeout():
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS

    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] <= options["visibility_timeout"]
