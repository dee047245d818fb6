"""Nothing cached may outlive the database it came from (issue 9, finding 11).

A database recreated, or restored from a dump, under a warm Redis used to keep answering from the
old entries: the default tenant's row id made every registration fail on a foreign key, and schema
ids handed out again were answered with the old schema's text. These tests do it for real, on
PostgreSQL and Redis, with pg_dump and pg_restore. They act as the owner (`admin`): a superuser's rights survive
dropping the registry's tables, as an operator's account would.
"""

import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection

from schemas_app import cache as registry_cache
from tests.integration.api.helpers import MONEY, TICK_V1, TICK_V2_ADDS_FIELD, register

pytestmark = pytest.mark.django_db(transaction=True)


def _restart_processes():
    """What restarting the web and worker processes does: forget what this process read from the database."""
    registry_cache.forget_instance()


def test_a_recreated_database_under_a_warm_cache_registers_and_answers_its_own_schemas(admin):
    first = register(admin, "ticks-value", TICK_V1)
    assert first.status_code == 200
    assert admin.get(f"/schemas/ids/{first.json()['id']}").json()["schema"] == TICK_V1  # warm: tenant, schema, version
    admin.get("/subjects/ticks-value/versions/1")

    # Drop every table and migrate again: a new, empty database at the same address; Redis keeps its entries.
    call_command("migrate", "schemas_app", "zero", verbosity=0)
    call_command("migrate", verbosity=0)
    _restart_processes()

    second = register(admin, "orders-value", MONEY)
    assert second.status_code == 200, second.content
    assert admin.get(f"/schemas/ids/{second.json()['id']}").json()["schema"] == MONEY
    assert admin.get("/subjects/ticks-value/versions/1").status_code == 404


@pytest.mark.skipif(not shutil.which("pg_restore"), reason="pg_dump and pg_restore come with PostgreSQL's client")
def test_a_database_restored_from_a_dump_under_a_warm_cache_answers_what_it_holds(admin, tmp_path):
    settings_dict = connection.settings_dict
    target = ["-h", settings_dict["HOST"] or "127.0.0.1", "-p", str(settings_dict["PORT"] or 5432)]
    target += ["-U", settings_dict["USER"] or "postgres"]
    dump = tmp_path / "registry.dump"

    assert register(admin, "ticks-value", TICK_V1).status_code == 200
    subprocess.run(["pg_dump", *target, "-Fc", "-f", str(dump), settings_dict["NAME"]], check=True)
    later = register(admin, "ticks-value", TICK_V2_ADDS_FIELD).json()["id"]
    assert admin.get(f"/schemas/ids/{later}").json()["schema"] == TICK_V2_ADDS_FIELD  # cached
    assert admin.get("/subjects/ticks-value/versions/2").status_code == 200  # cached

    connection.close()
    subprocess.run(
        [
            "pg_restore",
            *target,
            "--clean",
            "--if-exists",
            "--single-transaction",
            "-d",
            settings_dict["NAME"],
            str(dump),
        ],
        check=True,
    )
    _restart_processes()

    assert admin.get("/subjects/ticks-value/versions/2").status_code == 404
    other = register(admin, "orders-value", MONEY)
    assert other.status_code == 200, other.content
    # The id handed out again after the restore names the new schema, not the cached one from before it.
    assert admin.get(f"/schemas/ids/{other.json()['id']}").json()["schema"] == MONEY
