"""Commands that work on files run without SECRET_KEY; the server refuses to start without one, in one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
MANAGE = str(REPOSITORY / "manage.py")
SCHEMAS = str(REPOSITORY / "schemas")


def run(*arguments: str) -> subprocess.CompletedProcess:
    """Run Python with the production settings and neither SECRET_KEY nor DEBUG, as an operator's shell would."""
    environment = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "DEBUG")}
    environment["DJANGO_SETTINGS_MODULE"] = "registry.settings"
    return subprocess.run(
        [sys.executable, *arguments], capture_output=True, text=True, env=environment, cwd=REPOSITORY, timeout=120
    )


@pytest.mark.parametrize(
    "command",
    [
        ["lint", SCHEMAS],
        ["breaking", SCHEMAS, "--against", SCHEMAS],
        ["validate_schemas", SCHEMAS],
        ["generate_code", "--python", "--out", "{tmp}", SCHEMAS + "/common/money.proto"],
    ],
    ids=lambda command: command[0],
)
def test_file_commands_run_without_a_secret_key(command, tmp_path):
    result = run(MANAGE, *(argument.replace("{tmp}", str(tmp_path)) for argument in command))
    assert "ImproperlyConfigured" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("command", [["runserver", "--noreload"], ["migrate"], ["createsuperuser"]])
def test_the_server_and_database_commands_refuse_to_start_without_a_key_in_one_line(command):
    result = run(MANAGE, *command)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Error: SECRET_KEY must be set when DEBUG is off (for example: export SECRET_KEY=$(openssl rand -hex 32))."
    ]


def test_gunicorns_entry_point_refuses_to_start_without_a_key_in_one_line():
    result = run("-c", "import registry.wsgi")
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1
    assert "SECRET_KEY must be set" in result.stderr
