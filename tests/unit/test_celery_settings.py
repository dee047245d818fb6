"""The Celery settings a deployment runs: nothing lost with a worker, and every periodic job scheduled."""

from django.conf import settings

from registry.celery import app


def test_every_periodic_job_is_scheduled_and_names_a_task_the_workers_know():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled == {
        "schemas_app.apply_deprecation_policy",
        "schemas_app.catch_up_git_history",
        "schemas_app.prune_archives",
        "schemas_app.requeue_waiting_work",
    }
    assert scheduled <= set(app.tasks)


def test_a_task_is_acknowledged_after_it_ran_and_handed_back_when_its_worker_dies():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_running_workers_look_for_a_dead_workers_tasks_well_within_the_visibility_timeout():
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS

    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] <= options["visibility_timeout"]


def test_each_task_is_routed_to_the_queue_of_its_kind_of_work():
    app.loader.import_default_modules()
    queue_of = {
        name: app.amqp.router.route({}, name)["queue"].name for name in app.tasks if name.startswith("schemas_app.")
    }

    assert queue_of == {
        "schemas_app.prepare_change_request": "compatibility",
        "schemas_app.generate_archive": "codegen",
        "schemas_app.deliver_notification": "notifications",
        "schemas_app.record_version_in_git": "celery",
        "schemas_app.catch_up_git_history": "celery",
        "schemas_app.apply_deprecation_policy": "celery",
        "schemas_app.prune_archives": "celery",
        "schemas_app.requeue_waiting_work": "celery",
    }


def test_a_worker_started_without_a_queue_list_consumes_every_queue_a_task_is_routed_to():
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}

    assert declared == routed | {settings.CELERY_TASK_DEFAULT_QUEUE}
    # Each queue is bound by its own name, as Celery binds the default queue.
    for queue in settings.CELERY_TASK_QUEUES:
        assert (queue.exchange.name, queue.routing_key) == (queue.name, queue.name)


def test_queue_depth_is_measured_for_every_queue_unless_the_operator_names_them(settings):
    from registry.metrics_collectors import celery_queue_names

    assert celery_queue_names() == ["celery", "compatibility", "codegen", "notifications"]
    settings.REGISTRY_METRICS_CELERY_QUEUES = ["codegen", "imports"]
    assert celery_queue_names() == ["codegen", "imports"]
