"""The spec's developer workflow scripts: thin wrappers that take paths relative to schemas/."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_script(name: str, *arguments: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    environment.pop("REGISTRY_URL", None)
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / name), *arguments],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_generate_code_takes_a_path_relative_to_schemas_and_one_language(tmp_path):
    run = run_script("generate-code.sh", "--python", "common/money.proto", "--out", str(tmp_path), cwd=tmp_path)

    assert run.returncode == 0, run.stderr
    assert (tmp_path / "python" / "common" / "money_pb2.py").is_file()
    assert not (tmp_path / "go").exists()


def test_validate_schemas_passes_the_catalogue_file_and_fails_a_broken_one(tmp_path):
    broken = tmp_path / "broken.proto"
    broken.write_text('syntax = "proto3";\npackage shop.v1;\nmessage Item { strin name = 1; }\n')

    assert run_script("validate-schemas.sh", "trading/orders.proto").returncode == 0
    failed = run_script("validate-schemas.sh", str(broken))
    assert failed.returncode == 1
    assert "broken.proto:3:16" in failed.stdout + failed.stderr


def test_deploy_schemas_says_where_the_registry_comes_from_when_none_is_given():
    run = run_script("deploy-schemas.sh", "--dry-run")

    assert run.returncode != 0
    assert "REGISTRY_URL" in run.stdout + run.stderr
