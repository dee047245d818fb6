"""Two writers on one subject never produce duplicate or missing versions, nor two ids for one content."""

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from django.db import connection, connections

from schemas_app import selectors, services
from schemas_app.models import Schema, SubjectVersion

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def schema_with_field(name: str, number: int) -> str:
    return (
        f'syntax = "proto3";\npackage race.v1;\nmessage Event {{\n  string tenant_id = 1;\n  string {name} = '
        f"{number};\n}}\n"
    )


def allow_any_change(subject: str) -> None:
    services.config_update(
        tenant=selectors.default_tenant(),
        subject_name=subject,
        changes={"compatibility": "NONE"},
        acting_user=services.system_account(),
    )


def assert_versions_are_one_to_n(subject: str, expected: int) -> None:
    versions = list(
        SubjectVersion.objects.filter(subject__name=subject).order_by("version").values_list("version", flat=True)
    )
    assert versions == list(range(1, expected + 1))


def test_threads_racing_on_one_subject_get_distinct_consecutive_versions():
    allow_any_change("race-value")
    errors = []

    def writer(index: int) -> None:
        try:
            for step in range(5):
                services.subject_version_register(
                    tenant=selectors.default_tenant(),
                    subject_name="race-value",
                    schema=schema_with_field(f"f_{index}_{step}", 2 + index * 10 + step),
                    acting_user=services.system_account(),
                )
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert_versions_are_one_to_n("race-value", 20)


def ids_registered_at_once(subjects: list[str], text: str) -> list[int]:
    """Register `text` under each subject (names may repeat) from one thread each, released together; return the ids."""
    ids, errors = [], []
    start = threading.Barrier(len(subjects))

    def writer(subject: str) -> None:
        try:
            start.wait(10)
            ids.append(
                services.subject_version_register(
                    tenant=selectors.default_tenant(),
                    subject_name=subject,
                    schema=text,
                    acting_user=services.system_account(),
                ).schema_id
            )
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(subject,)) for subject in subjects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return ids


def test_threads_registering_the_same_content_share_one_id_and_one_version():
    allow_any_change("same-value")

    ids = ids_registered_at_once(["same-value"] * 6, schema_with_field("same", 2))

    assert len(set(ids)) == 1
    assert_versions_are_one_to_n("same-value", 1)
    assert Schema.objects.count() == 1


def test_threads_registering_the_same_new_content_in_different_subjects_share_one_schema_row():
    """Each writer inserts the row or yields to the one that did; every version holds the one row."""
    subjects = [f"shared-{index}-value" for index in range(6)]

    ids = ids_registered_at_once(subjects, schema_with_field("shared", 2))

    assert len(set(ids)) == 1
    assert Schema.objects.count() == 1
    held = SubjectVersion.objects.filter(subject__name__in=subjects).values_list(
        "subject__name", "version", "schema_id"
    )
    assert sorted(held) == [(subject, 1, ids[0]) for subject in sorted(subjects)]


WORKER = textwrap.dedent(
    """
    import sys, django
    django.setup()
    from schemas_app import selectors, services
    prefix, count = sys.argv[1], int(sys.argv[2])
    for step in range(count):
        field = f"string {prefix}_{step} = {2 + step};"
        text = f'syntax = "proto3";\\npackage race.v1;\\nmessage Event {{\\n  string tenant_id = 1;\\n  {field}\\n}}\\n'
        tenant = selectors.default_tenant()
        services.subject_version_register(
            tenant=tenant, subject_name="process-race-value", schema=text, acting_user=services.system_account()
        )
    """
)


def test_two_server_processes_on_one_database_never_duplicate_versions():
    allow_any_change("process-race-value")
    settings_dict = connection.settings_dict
    user, host = settings_dict["USER"] or "postgres", settings_dict["HOST"] or "127.0.0.1"
    database_url = f"postgres://{user}@{host}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "race",
        "DEBUG": "false",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, prefix, "8"], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        for prefix in ("alpha", "beta")
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    assert_versions_are_one_to_n("process-race-value", 16)
