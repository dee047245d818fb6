"""registry_client installs and imports on its own: no Django, none of the registry's apps, not the engine."""

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]
FORBIDDEN = ("django", "rest_framework", "schemas_app", "codegen", "registry", "protoengine", "celery")


def test_importing_every_client_module_loads_no_django_and_no_registry_app():
    script = (
        "import sys\n"
        "import registry_client, registry_client.kafka, registry_client.nats, registry_client.pii\n"
        f"forbidden = {FORBIDDEN!r}\n"
        "loaded = sorted({name.split('.')[0] for name in sys.modules} & set(forbidden))\n"
        "print(','.join(loaded))\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_no_client_module_names_a_server_package_in_an_import():
    offenders = []
    for path in (REPOSITORY / "registry_client").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            words = line.split()
            if words[:1] in (["import"], ["from"]) and words[1].split(".")[0] in FORBIDDEN:
                offenders.append(f"{path.relative_to(REPOSITORY)}:{number}: {line.strip()}")
    assert offenders == []
