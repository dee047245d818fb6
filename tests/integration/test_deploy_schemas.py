"""`python manage.py deploy_schemas` against a live registry over HTTP.

Dry-run bumps and breaking changes, then real registrations.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command

from protoengine.breaking.rules import WIRE_JSON_NOTE
from schemas_app.models import Subject, SubjectVersion
from schemas_app.remote import RemoteError, RemoteRegistry
from tests.conftest_users import api_token
from tests.integration.schema_trees import (
    FILLS,
    FIRST_TREE,
    HEALTH_WITH_NEW_COMMENT,
    MONEY_WITH_NANOS,
    ORDERS_WITH_STRING_QUANTITY,
    ORDERS_WITHOUT_QUANTITY,
    write_tree,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
MONEY, ORDERS, HEALTH, FILLS_PATH = (
    "common/money.proto",
    "trading/orders.proto",
    "system/health.proto",
    "trading/fills.proto",
)
# The second tree: a new field (MINOR), a comment (PATCH), a new file;
# orders.proto is untouched but imports money.proto.
SECOND_TREE = {**FIRST_TREE, MONEY: MONEY_WITH_NANOS, HEALTH: HEALTH_WITH_NEW_COMMENT, FILLS_PATH: FILLS}


@pytest.fixture
def token(writer) -> str:
    return api_token(writer)


@pytest.fixture
def registry(live_server, token) -> RemoteRegistry:
    """A client of the live registry, signed in with the writer's token."""
    return RemoteRegistry(live_server.url, token=token)


@pytest.fixture
def seeded(tmp_path, registry) -> RemoteRegistry:
    """The live registry holding the first tree, every file at version 1 (1.0.0)."""
    call_command("load_schemas", str(write_tree(tmp_path / "first", FIRST_TREE)), stdout=io.StringIO())
    return registry


def deploy(tree: Path, registry: RemoteRegistry, token: str, **options) -> tuple[int, list[str], str]:
    """Run the command and return (exit code, stdout lines, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("deploy_schemas", str(tree), registry=registry.url, token=token, stdout=out, stderr=err, **options)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue().splitlines(), err.getvalue()


def git(folder: Path, *arguments: str) -> str:
    command = ["git", "-C", str(folder), "-c", "user.name=CI", "-c", "user.email=ci@example.org", *arguments]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def committed_tree(folder: Path, files: dict[str, str]) -> Path:
    write_tree(folder, files)
    git(folder, "init", "-q")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "schemas")
    return folder


def test_a_dry_run_reports_each_files_bump_and_the_deploy_registers_them_with_references_and_the_git_commit(
    tmp_path, seeded, token
):
    tree = committed_tree(tmp_path / "second", SECOND_TREE)
    commit = git(tree, "rev-parse", "HEAD")

    dry_code, dry_lines, dry_err = deploy(tree, seeded, token, dry_run=True)

    assert (dry_code, dry_err) == (0, "")
    assert dry_lines == [
        f"Dry run: {tree} to {seeded.url}, from git commit {commit}",
        "common/money.proto: 1.0.0 -> 1.1.0 (MINOR)",
        "system/health.proto: 1.0.0 -> 1.0.1 (PATCH)",
        "trading/fills.proto: NEW (1.0.0)",
        # Unchanged text, but it references the money.proto version about to be registered, whose new field it sees.
        "trading/orders.proto: 1.0.0 -> 1.1.0 (MINOR)",
        "4 files: 1 new, 3 changed; nothing was registered.",
    ]
    assert [seeded.version_numbers(path) for path in (MONEY, ORDERS, HEALTH)] == [[1], [1], [1]]

    code, lines, err = deploy(tree, seeded, token)

    assert (code, err) == (0, "")
    money, orders, fills, health = (seeded.latest_version(path) for path in (MONEY, ORDERS, FILLS_PATH, HEALTH))
    assert [(found["version"], found["semanticVersion"]) for found in (money, orders, fills, health)] == [
        (2, "1.1.0"),
        (2, "1.1.0"),
        (1, "1.0.0"),
        (2, "1.0.1"),
    ]
    assert orders["references"] == fills["references"] == [{"name": MONEY, "subject": MONEY, "version": 2}]
    assert money["metadata"] == {"properties": {"git_commit": commit, "git_dirty": "false"}}
    assert f"common/money.proto: registered version 2 (1.1.0), schema id {money['id']}" in lines
    assert lines[-1] == "4 files: 4 registered"


def test_deploying_again_from_a_later_commit_keeps_every_version(tmp_path, seeded, token):
    tree = committed_tree(tmp_path / "second", SECOND_TREE)
    deploy(tree, seeded, token)
    write_tree(tree, {"README.md": "Only the documentation changed.\n"})
    git(tree, "add", ".")
    git(tree, "commit", "-q", "-m", "docs")

    code, lines, _ = deploy(tree, seeded, token)

    assert code == 0
    assert "common/money.proto: UNCHANGED (version 2, 1.1.0)" in lines
    assert lines[-1] == "4 files: 4 unchanged"
    assert [seeded.version_numbers(path) for path in (MONEY, ORDERS, HEALTH, FILLS_PATH)] == [
        [1, 2],
        [1, 2],
        [1, 2],
        [1],
    ]


def test_a_changed_field_type_blocks_the_deploy_with_the_registrys_finding(tmp_path, seeded, token):
    tree = write_tree(
        tmp_path / "second", {**FIRST_TREE, HEALTH: HEALTH_WITH_NEW_COMMENT, ORDERS: ORDERS_WITH_STRING_QUANTITY}
    )

    dry_code, dry_lines, _ = deploy(tree, seeded, token, dry_run=True)
    code, lines, _ = deploy(tree, seeded, token)

    assert dry_code == code == 100
    assert (
        dry_lines[1:]
        == lines[1:]
        == [
            "common/money.proto: UNCHANGED (version 1, 1.0.0)",
            "system/health.proto: 1.0.0 -> 1.0.1 (PATCH)",
            "trading/orders.proto: 1.0.0 -> 2.0.0 (MAJOR), breaking under BACKWARD with rules SPEC",
            'trading/orders.proto:14:3: FIELD_WIRE_JSON_COMPATIBLE_TYPE Field "3" with name "quantity" on message '
            f'"Order" changed type from "double" to "string".{WIRE_JSON_NOTE}',
            "3 files: 1 changed, 1 unchanged, 1 breaking; nothing was registered.",
        ]
    )
    assert seeded.version_numbers(HEALTH) == [1]


def test_a_deleted_field_breaks_even_when_its_import_changes_too(tmp_path, seeded, token):
    # money.proto gets a new version, so orders.proto's check runs here against the registry's versions.
    tree = write_tree(tmp_path / "second", {**FIRST_TREE, MONEY: MONEY_WITH_NANOS, ORDERS: ORDERS_WITHOUT_QUANTITY})

    code, lines, _ = deploy(tree, seeded, token, dry_run=True)

    assert code == 100
    assert lines[3:6] == [
        "trading/orders.proto: 1.0.0 -> 2.0.0 (MAJOR), breaking under BACKWARD with rules SPEC",
        'trading/orders.proto:8:1: FIELD_NO_DELETE_UNLESS_NAME_RESERVED Previously present field "3" with name '
        '"quantity" on message "Order" was deleted without reserving the name "quantity".',
        'trading/orders.proto:8:1: FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED Previously present field "3" with name '
        '"quantity" on message "Order" was deleted without reserving the number "3".',
    ]


def test_a_subject_that_normalises_is_unchanged_when_its_meaning_is(tmp_path, registry, token):
    registry.request("PUT", "/config/system%2Fhealth.proto", body={"normalize": True})
    call_command("load_schemas", str(write_tree(tmp_path / "first", FIRST_TREE)), stdout=io.StringIO())
    assert registry.latest_version(HEALTH)["schema"] != FIRST_TREE[HEALTH]
    tree = write_tree(tmp_path / "second", {**FIRST_TREE, HEALTH: HEALTH_WITH_NEW_COMMENT})

    code, lines, _ = deploy(tree, registry, token, dry_run=True)

    assert code == 0
    assert "system/health.proto: UNCHANGED (version 1, 1.0.0)" in lines


def test_a_read_only_subject_stops_the_deploy(tmp_path, seeded, token):
    seeded.request("PUT", "/mode/system%2Fhealth.proto", body={"mode": "READONLY"})
    tree = write_tree(tmp_path / "second", {**FIRST_TREE, HEALTH: HEALTH_WITH_NEW_COMMENT})

    code, lines, _ = deploy(tree, seeded, token)

    assert code == 1
    assert "system/health.proto: ERROR the subject is in READONLY mode" in lines


def test_a_wrong_token_is_refused_with_its_error_code(live_server):
    with pytest.raises(RemoteError) as refused:
        RemoteRegistry(live_server.url, token="not-a-token").latest_version(MONEY)

    assert (refused.value.status, refused.value.error_code) == (401, 40101)


def test_basic_authentication_registers_and_an_anonymous_client_may_not(live_server, writer):
    with pytest.raises(RemoteError) as refused:
        RemoteRegistry(live_server.url).register(HEALTH, FIRST_TREE[HEALTH], [])
    registered = RemoteRegistry(live_server.url, user="writer", password="writer-password").register(
        HEALTH, FIRST_TREE[HEALTH], []
    )

    assert refused.value.error_code == 40101
    assert (registered["version"], registered["semanticVersion"]) == (1, "1.0.0")


def test_it_runs_without_a_database_with_the_token_from_the_environment(tmp_path, seeded, token):
    tree = write_tree(tmp_path / "second", SECOND_TREE)
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path}/absent/registry.sqlite3",
        "REGISTRY_TOKEN": token,
    }
    environment.pop("SECRET_KEY", None)
    environment.pop("REDIS_URL", None)

    done = subprocess.run(
        [sys.executable, "manage.py", "deploy_schemas", str(tree), "--registry", seeded.url],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[-1] == "4 files: 4 registered"


def test_the_bundled_catalogues_shared_files_are_deployed_to_the_shared_tenant(tmp_path, registry, token, settings):
    bundled = write_tree(tmp_path / "schemas", FIRST_TREE)
    settings.REGISTRY_SCHEMAS_DIR = str(bundled)
    call_command("load_schemas", str(bundled), stdout=io.StringIO())
    write_tree(bundled, SECOND_TREE)

    code, lines, err = deploy(bundled, registry, token)

    assert (code, err) == (0, "")
    assert lines[-1] == "4 files: 4 registered"
    placed = set(Subject.objects.values_list("tenant__slug", "name"))
    assert placed == {("shared", MONEY), ("default", ORDERS), ("default", HEALTH), ("default", FILLS_PATH)}
    assert registry.version_numbers(f":.shared:{MONEY}") == [1, 2]
    assert registry.latest_version(ORDERS)["references"] == [{"name": MONEY, "subject": MONEY, "version": 2}]
    # Planned again, the shared file is found where it went.
    assert deploy(bundled, registry, token, dry_run=True)[1][1] == "common/money.proto: UNCHANGED (version 2, 1.1.0)"


SHARED_MONEY = f":.shared:{MONEY}"
COPIES_HEADER = (
    "Private copies of shared subjects (each wins over the shared subject in its tenant, so deploys to the shared "
    "tenant do not reach it):"
)


@pytest.fixture
def bundled(tmp_path, settings) -> Path:
    """The bundled catalogue holding the first tree, loaded: common/money.proto version 1 in the shared tenant."""
    tree = committed_tree(tmp_path / "schemas", FIRST_TREE)
    settings.REGISTRY_SCHEMAS_DIR = str(tree)
    call_command("load_schemas", str(tree), stdout=io.StringIO())
    return tree


def commit_second_tree(tree: Path) -> None:
    write_tree(tree, SECOND_TREE)
    git(tree, "add", ".")
    git(tree, "commit", "-q", "-m", "money gets nanos")


def test_a_deploy_reports_an_old_private_copy_and_retiring_it_leaves_the_tenant_reading_the_shared_subject(
    bundled, registry, token, writer
):
    # A deploy made before the shared tenant took common/: money.proto went into the writer's tenant, whose
    # orders.proto then referenced that copy's version 2.
    registry.register(MONEY, FIRST_TREE[MONEY], [])
    registry.register(MONEY, MONEY_WITH_NANOS, [])
    registry.register(ORDERS, FIRST_TREE[ORDERS], [{"name": MONEY, "subject": MONEY, "version": 2}])
    private = registry.latest_version(MONEY)
    commit_second_tree(bundled)

    code, lines, err = deploy(bundled, registry, token)

    assert (code, err) == (0, "")
    # The shared subject got the change, in another schema row (this deploy records its git commit)...
    shared = registry.latest_version(SHARED_MONEY)
    assert (shared["version"], shared["schema"]) == (2, MONEY_WITH_NANOS) and shared["id"] != private["id"]
    # ...which the writer's tenant does not read: its copy wins.
    assert registry.latest_version(MONEY)["id"] == private["id"]
    assert lines[-3:] == [
        COPIES_HEADER,
        "  default: common/money.proto versions 1, 2, latest same as shared: yes; retirable",
        "Nothing was retired: --retire-private-copies retires the retirable ones (soft delete).",
    ]

    dry_code, dry_lines, _ = deploy(bundled, registry, token, dry_run=True, retire_private_copies=True)

    assert dry_code == 0
    assert dry_lines[-1] == (
        "Dry run: nothing was retired; without --dry-run, --retire-private-copies retires the retirable ones."
    )
    assert registry.latest_version(MONEY)["id"] == private["id"]

    code, lines, err = deploy(bundled, registry, token, retire_private_copies=True)

    assert (code, err) == (0, "")
    assert lines[-3:] == [
        COPIES_HEADER,
        "  default: common/money.proto versions 1, 2, latest same as shared: yes; RETIRED (versions 1, 2 soft-deleted)",
        "1 retired, 0 kept.",
    ]
    assert registry.latest_version(MONEY)["id"] == shared["id"]
    assert registry.version(ORDERS, 2)["references"] == [{"name": MONEY, "subject": MONEY, "version": 2}]
    copy = Subject.objects.get(tenant__slug="default", name=MONEY)
    retired = SubjectVersion.objects.filter(subject=copy)
    assert all(version.deleted for version in retired)
    audited = LogEntry.objects.get_for_objects(retired).filter(actor=writer, action=LogEntry.Action.UPDATE)
    assert sorted(int(entry.object_pk) for entry in audited) == sorted(version.pk for version in retired)
    assert deploy(bundled, registry, token, dry_run=True)[1][-1] == "4 files: 4 unchanged; nothing was registered."


def test_a_private_copy_with_content_the_shared_subject_lacks_is_kept_and_named_unless_forced(bundled, registry, token):
    # The copy's version 1 has a comment the shared version 1 lacks, and orders.proto references version 1.
    registry.register(MONEY, FIRST_TREE[MONEY].replace("// Money is", "// Our own Money is"), [])

    code, lines, err = deploy(bundled, registry, token, retire_private_copies=True)

    assert (code, err) == (1, "")
    assert lines[-3:] == [
        COPIES_HEADER,
        "  default: common/money.proto versions 1, latest same as shared: no; KEPT: the shared subject does not "
        "hold the content of its version 1; referenced by trading/orders.proto version 1 (to version 1), which the "
        "shared subject holds with other content",
        "0 retired, 1 kept.",
    ]
    assert registry.version_numbers(MONEY) == [1]
    assert "Our own Money" in registry.latest_version(MONEY)["schema"]

    code, lines, _ = deploy(bundled, registry, token, retire_private_copies=True, force=True)

    assert code == 0
    assert lines[-1] == "1 retired, 0 kept."
    assert registry.latest_version(MONEY)["id"] == registry.latest_version(SHARED_MONEY)["id"]
