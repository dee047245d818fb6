"""`manage.py check --deploy` with the environment a deployment gives the registry finds nothing to fix.

Each case runs the check in a process of its own on the production settings (registry.settings), with only
the variables a deployment sets: this test process's settings module changes its own environment.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "registry.example.org",
    # Never connected to: the checks read settings and code only.
    "DATABASE_URL": "postgres://registry@database.invalid:5432/registry",
}


def check_deploy(environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **environment},
        capture_output=True,
        text=True,
        timeout=180,
    )


def reported_ids(result: subprocess.CompletedProcess) -> set[str]:
    return set(re.findall(r"^\?: \(([\w.]+)\)", result.stdout + result.stderr, re.MULTILINE))


@pytest.mark.parametrize(
    "tls",
    [{}, {"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}],
    ids=["TLS to the registry itself", "behind a TLS proxy that sets X-Forwarded-Proto"],
)
def test_check_deploy_finds_nothing_with_a_deployments_settings(tls):
    result = check_deploy({**PRODUCTION, **tls})

    assert result.returncode == 0, result.stdout + result.stderr
    assert reported_ids(result) == set()


def test_the_compose_stack_is_clean_but_for_the_redirect_it_leaves_to_its_load_balancer():
    """docker-compose.yml turns SECURE_SSL_REDIRECT off for plain-HTTP Kafka clients; nothing else is reported."""
    environment = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-registry-env"]
    required = secrets.token_urlsafe(50)

    def resolved(value: str) -> str:
        # ${NAME:?message} must be given (a generated value here); ${NAME:-default} and ${NAME-default} default.
        return re.sub(r"\$\{\w+(:?)([?-])([^}]*)\}", lambda m: required if m[2] == "?" else m[3], value)

    result = check_deploy({name: resolved(str(value)) for name, value in environment.items()})

    assert reported_ids(result) == {"security.W008"}, result.stdout + result.stderr
