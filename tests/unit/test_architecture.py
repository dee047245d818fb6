"""The import rules of the README's "Architecture" section, checked on every module of every top-level package.

Each package may import only the packages below it: the engine and the client library stand alone,
codegen sits on the engine, the domain app on both, and the Django project on top wires them together.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
OUR_PACKAGES = ("protoengine", "registry_client", "codegen", "schemas_app", "registry", "examples")
DJANGO_WORLD = ("django", "rest_framework", "drf_spectacular", "celery", "guardian", "auditlog", "django_prometheus")

# package -> what it must never import (ours and third-party).
FORBIDDEN = {
    "protoengine": ("registry_client", "codegen", "schemas_app", "registry", *DJANGO_WORLD),
    "registry_client": ("protoengine", "codegen", "schemas_app", "registry", *DJANGO_WORLD),
    "codegen": ("registry_client", "schemas_app", "registry"),
    "schemas_app": ("registry_client",),
    "registry": ("registry_client",),
    # Runnable examples are applications of the registry's users: they may use the client library only.
    "examples": ("protoengine", "codegen", "schemas_app", "registry", *DJANGO_WORLD),
}


def imported_packages(path: Path) -> dict[str, int]:
    """Return {top-level package: first line} for every absolute import in the file."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            found.setdefault(name.split(".")[0], node.lineno)
    return found


@pytest.mark.parametrize("package", OUR_PACKAGES)
def test_no_module_imports_a_package_above_its_own(package):
    assert (REPOSITORY / package).is_dir(), f"{package} is named in the README's architecture but does not exist"
    offenders = [
        f"{path.relative_to(REPOSITORY)}:{line}: imports {name}"
        for path in sorted((REPOSITORY / package).rglob("*.py"))
        for name, line in imported_packages(path).items()
        if name in FORBIDDEN[package]
    ]
    assert offenders == [], "see the README's Architecture section for what each package may import"


def test_every_top_level_python_package_has_an_import_rule():
    packages = {path.parent.name for path in REPOSITORY.glob("*/__init__.py")} - {"tests"}
    assert packages == set(OUR_PACKAGES), "name the new package in FORBIDDEN and in the README's Architecture section"


def test_the_rule_checker_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom django.db import models\nfrom . import sibling\n")
    assert imported_packages(module) == {"os": 1, "django": 2}


@pytest.mark.parametrize("package", ["protoengine", "registry_client"])
def test_importing_every_module_of_a_standalone_package_loads_nothing_above_it(package):
    """Run in a fresh interpreter without Django settings: what a CI job or a client application would do."""
    modules = sorted(
        ".".join(path.relative_to(REPOSITORY).with_suffix("").parts).removesuffix(".__init__")
        for path in (REPOSITORY / package).rglob("*.py")
        if path.name != "__main__.py"
    )
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(','.join(sorted({{name.split('.')[0] for name in sys.modules}} & set({FORBIDDEN[package]!r}))))\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{package} loaded {result.stdout.strip()}"
