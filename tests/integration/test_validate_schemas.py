"""`python manage.py validate_schemas`.

Compile errors and lint findings with file, line and column, include roots, and --against.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from protoengine.breaking.rules import WIRE_JSON_NOTE
from schemas_app.remote import RemoteRegistry
from schemas_app.validate import find_root, resolve_targets
from tests.conftest_users import api_token
from tests.integration.schema_trees import (
    BUF_YAML,
    FIRST_TREE,
    MONEY_WITH_NANOS,
    ORDERS,
    ORDERS_WITH_STRING_QUANTITY,
    write_tree,
)

ROOT = Path(__file__).resolve().parents[2]
MONEY_PATH = "common/money.proto"


def validate(*paths, **options) -> tuple[int, str, str]:
    """Run the command and return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("validate_schemas", *map(str, paths), stdout=out, stderr=err, **options)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def tree(tmp_path) -> Path:
    """The first tree with a buf.yaml asking for BASIC lint, which it passes."""
    return write_tree(tmp_path / "schemas", {**FIRST_TREE, "buf.yaml": BUF_YAML})


def test_a_clean_tree_exits_zero_and_prints_nothing(tree):
    assert validate(tree) == (0, "", "")


def test_it_prints_the_line_and_column_of_a_compile_error(tree):
    write_tree(tree, {"trading/orders.proto": ORDERS.replace("string order_id = 1;", "strin order_id = 1;")})

    code, out, err = validate(tree / "trading" / "orders.proto")

    assert code == 1
    assert out == ""
    assert err.splitlines() == [f'{tree}/trading/orders.proto:10:3: "strin" is not defined.']


def test_it_prints_lint_findings_with_their_rule_ids(tree):
    write_tree(
        tree,
        {"system/health.proto": FIRST_TREE["system/health.proto"].replace("message Ping {", "message ping_request {")},
    )

    code, out, err = validate(tree)

    assert code == 100
    assert err == ""
    assert out.splitlines() == [
        f'{tree}/system/health.proto:6:9: MESSAGE_PASCAL_CASE Message name "ping_request" should be PascalCase, such '
        'as "PingRequest".'
    ]


def test_paths_are_shown_relative_to_the_working_directory_under_it(tree, monkeypatch):
    write_tree(tree, {"trading/orders.proto": ORDERS.replace("string order_id = 1;", "strin order_id = 1;")})
    monkeypatch.chdir(tree.parent)

    _, _, err = validate("schemas/trading")

    assert err.startswith('schemas/trading/orders.proto:10:3: "strin" is not defined.')


def test_a_folder_below_buf_yaml_is_checked_under_the_buf_yaml_root(tree):
    assert resolve_targets([tree / "trading"]) == {tree: ["trading/orders.proto"]}


def test_a_file_without_buf_yaml_is_rooted_where_its_imports_exist(tmp_path):
    tree = write_tree(tmp_path / "checkout" / "schemas", FIRST_TREE)
    (tmp_path / "checkout" / ".git").mkdir()

    assert find_root(tree / "trading" / "orders.proto") == tree
    # A file that imports nothing is rooted in its own folder.
    assert find_root(tree / "system" / "health.proto") == tree / "system"


def test_the_search_for_buf_yaml_stops_at_the_top_of_the_git_checkout(tmp_path):
    write_tree(tmp_path, {"buf.yaml": BUF_YAML})
    tree = write_tree(tmp_path / "checkout" / "schemas", FIRST_TREE)
    (tmp_path / "checkout" / ".git").mkdir()

    assert find_root(tree / "trading") == tree / "trading"


def test_a_missing_path_is_an_error(tmp_path):
    code, _, err = validate(tmp_path / "nowhere.proto")

    assert code == 1
    assert "nowhere.proto: not a .proto file or a folder." in err


@pytest.mark.django_db(transaction=True)
def test_against_a_registry_it_reports_a_breaking_change_with_its_rule_id(tree, live_server, writer):
    call_command("load_schemas", str(tree), stdout=io.StringIO())
    token = api_token(writer)
    assert validate(tree, against=live_server.url, token=token) == (0, "", "")
    write_tree(tree, {"trading/orders.proto": ORDERS_WITH_STRING_QUANTITY})

    code, out, err = validate(tree / "trading" / "orders.proto", against=live_server.url, token=token)

    assert (code, err) == (100, "")
    assert out.splitlines() == [
        f'{tree}/trading/orders.proto:14:3: FIELD_WIRE_JSON_COMPATIBLE_TYPE Field "3" with name "quantity" on message '
        f'"Order" changed type from "double" to "string".{WIRE_JSON_NOTE}'
    ]


def test_it_runs_without_a_database_or_secret_key(tree):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tree}/absent/registry.sqlite3",
    }
    environment.pop("SECRET_KEY", None)
    environment.pop("REDIS_URL", None)

    done = subprocess.run(
        [sys.executable, "manage.py", "validate_schemas", str(tree)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.mark.django_db(transaction=True)
def test_against_a_registry_the_bundled_shared_files_are_checked_with_the_shared_subjects(
    tree, live_server, writer, settings
):
    # The bundled catalogue: load_schemas puts common/money.proto in the shared tenant, where deploy_schemas
    # registers it; the writer's tenant keeps an old private copy of it with a field the file no longer has.
    settings.REGISTRY_SCHEMAS_DIR = str(tree)
    call_command("load_schemas", str(tree), stdout=io.StringIO())
    token = api_token(writer)
    RemoteRegistry(live_server.url, token=token).register(MONEY_PATH, MONEY_WITH_NANOS, [])

    assert validate(tree, against=live_server.url, token=token) == (0, "", "")
