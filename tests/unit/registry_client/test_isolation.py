"""registry_client installs and imports on its own: no Django, none of the registry's apps, not the engine."""

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]
FORBIDDEN = ("django", "rest_framework", "schemas_app", "codegen", "registry", "protoengine", "celery")


def test_the_client_works_with_django_and_the_registry_apps_impossible_to_import(tmp_path):
    script = f"""
import sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {FORBIDDEN!r}:
            raise ImportError(f"registry_client imported {{name}}")

sys.meta_path.insert(0, Blocker())
from google.protobuf import timestamp_pb2
import registry_client, registry_client.nats
from registry_client.kafka import MessageField, ProtobufDeserializer, SerializationContext
from registry_client.pii import FieldEncryptor, LocalKeyFile
from registry_client.wire import header

message = timestamp_pb2.Timestamp(seconds=42)
framed = header(7, (0,)) + message.SerializeToString()
assert ProtobufDeserializer(type(message))(framed, SerializationContext("t", MessageField.VALUE)) == message
FieldEncryptor(LocalKeyFile.create({str(tmp_path / "kek.hex")!r})).encrypt(message, "acme")
print(",".join(sorted({{name.split(".")[0] for name in sys.modules}} & set({FORBIDDEN!r}))))
"""
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
