"""import_registry --from-url copies a running registry (this one, standing in for Confluent) with the same ids.

The source is the live test server; the target is a second, freshly migrated database, driven by the
command in a process of its own, as an operator would run it.
"""

import subprocess
import sys
import uuid

import psycopg
import pytest

from schemas_app.models import SubjectVersion
from tests.conftest_users import api_token
from tests.integration.operations.registry_content import fill_registry
from tests.integration.operations.servers import ROOT, database_url, registry_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# The writer's API token on the source registry, handed to the command as REGISTRY_TOKEN.
SOURCE = {"token": ""}


@pytest.fixture
def target_database():
    """Yield the URL of an empty, migrated database of this test's own."""
    name = f"registry_copy_{uuid.uuid4().hex[:12]}"
    admin = database_url("postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    try:
        manage("migrate", "--verbosity", "0", database=url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(*arguments: str, database: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=registry_env(DATABASE_URL=database, REGISTRY_TOKEN=SOURCE["token"], LOG_FORMAT="text"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def versions_in(database: str) -> list[tuple]:
    """Return (subject, version, schema id, schema text, references) of the default tenant's live versions."""
    with psycopg.connect(database) as connection:
        return connection.execute(
            """
            SELECT s.name, v.version, v.schema_id, sc.text,
                   COALESCE((SELECT string_agg(r.name || '@' || r.subject || ':' || r.version, ',' ORDER BY r.position)
                             FROM schemas_app_schemareference r WHERE r.schema_id = sc.id), '')
            FROM schemas_app_subjectversion v
            JOIN schemas_app_subject s ON s.id = v.subject_id
            JOIN schemas_app_tenant t ON t.id = s.tenant_id
            JOIN schemas_app_schema sc ON sc.id = v.schema_id
            WHERE t.slug = 'default' AND NOT v.deleted
            ORDER BY s.name, v.version
            """
        ).fetchall()


def source_versions() -> list[tuple]:
    rows = SubjectVersion.objects.filter(subject__tenant__slug="default", deleted=False).select_related(
        "schema", "subject"
    )
    return sorted(
        (
            row.subject.name,
            row.version,
            row.schema_id,
            row.schema.text,
            ",".join(f"{ref.name}@{ref.subject}:{ref.version}" for ref in row.schema.references.all()),
        )
        for row in rows
    )


def test_copy_from_a_running_registry_keeps_ids_versions_and_references(live_server, writer, target_database):
    fill_registry(acting_user=writer)
    SOURCE["token"] = api_token(writer)
    expected = source_versions()
    assert [(row[0], row[1]) for row in expected if row[0] == "ticks-value"] == [("ticks-value", 1), ("ticks-value", 3)]

    dry = manage("import_registry", "--from-url", live_server.url, "--dry-run", database=target_database).stdout
    assert "5 versions: 5 to copy, 0 already here" in dry and "Nothing was copied" in dry
    assert versions_in(target_database) == []

    copied = manage("import_registry", "--from-url", live_server.url, database=target_database).stdout
    assert "5 to copy" in copied
    assert versions_in(target_database) == expected
    with psycopg.connect(target_database) as connection:
        mode = connection.execute("SELECT mode FROM schemas_app_subjectmode WHERE subject_name IS NULL").fetchone()
        level = connection.execute(
            "SELECT compatibility_level FROM schemas_app_subjectconfig WHERE subject_name = 'ticks-value'"
        ).fetchone()
    assert mode == ("READWRITE",) and level == ("FULL",)


def test_an_interrupted_copy_resumes_where_it_stopped(live_server, writer, target_database):
    fill_registry(acting_user=writer)
    SOURCE["token"] = api_token(writer)
    manage("import_registry", "--from-url", live_server.url, database=target_database)
    # As if the run had died before its last two versions: they are missing and the tenant is still importing.
    with psycopg.connect(target_database) as connection:
        connection.execute(
            "DELETE FROM schemas_app_subjectversion WHERE id IN "
            "(SELECT id FROM schemas_app_subjectversion ORDER BY id DESC LIMIT 2)"
        )
        connection.execute("UPDATE schemas_app_subjectmode SET mode = 'IMPORT' WHERE subject_name IS NULL")

    resumed = manage("import_registry", "--from-url", live_server.url, database=target_database).stdout
    assert "2 to copy, 3 already here" in resumed
    assert versions_in(target_database) == source_versions()
