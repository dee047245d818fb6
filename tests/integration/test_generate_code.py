"""`generate_code` over the bundled catalogue: importable Python, Go and TypeScript files, errors, and --watch.

Generated Python is imported in a separate interpreter whose only extra path is
the output folder, because the catalogue's `registry` package would clash with
the Django project of the same name in this process.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from codegen.generators import GeneratorUnavailable, GoGenerator, TypeScriptGenerator
from protoengine.compiler import compile_sources
from protoengine.folders import read_folder
from tests.integration.lines import LineReader

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = Path(settings.REGISTRY_SCHEMAS_DIR)
WATCH_TIMEOUT_SECONDS = 30

IMPORT_AND_SERIALIZE = """
import pathlib, importlib, sys
root = pathlib.Path.cwd()
sys.path.insert(0, str(root))
for path in sorted(root.rglob("*_pb2*.py")):
    importlib.import_module(path.relative_to(root).with_suffix("").as_posix().replace("/", "."))
from trading import market_data_pb2
tick = market_data_pb2.TickData(
    symbol="AAPL", bid=187.42, ask=187.44, volume=1200.0, timestamp_ms=1718031000123, tenant_id="acme-trading"
)
data = tick.SerializeToString()
assert market_data_pb2.TickData.FromString(data) == tick
print(len(data))
"""


def generate_code(*arguments: str) -> str:
    out = StringIO()
    call_command("generate_code", *arguments, stdout=out, stderr=StringIO())
    return out.getvalue()


def catalogue_files():
    return compile_sources(read_folder(SCHEMAS_DIR)).own_files


def command_environment(**overrides: str) -> dict[str, str]:
    """Return an environment for manage.py with no database it could reach: the commands must not need one."""
    environment = {
        key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    environment.update(
        DEBUG="true", DATABASE_URL="postgres://nobody@127.0.0.1:1/none", PYTHONUNBUFFERED="1", **overrides
    )
    return environment


def require(generator):
    """Fail with the install hint when a plugin is missing (the suite's preflight names it before any test runs)."""
    try:
        generator.check_available()
    except GeneratorUnavailable as missing:
        pytest.fail(str(missing))


def test_python_output_of_the_catalogue_imports_and_serializes_a_tick(tmp_path):
    generate_code("--python", "--out", str(tmp_path))
    output = tmp_path / "python"

    run = subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_AND_SERIALIZE], cwd=output, capture_output=True, text=True, timeout=60
    )

    assert run.returncode == 0, run.stderr
    expected_files = {f"{file.name.removesuffix('.proto')}_pb2.py" for file in catalogue_files()}
    assert expected_files <= {path.relative_to(output).as_posix() for path in output.rglob("*_pb2.py")}
    assert int(run.stdout) > 0


def test_go_output_has_a_pb_file_per_proto_and_a_grpc_file_per_service_file(tmp_path):
    require(GoGenerator())

    generate_code("--go", "--out", str(tmp_path))

    for file in catalogue_files():
        stem = tmp_path / "go" / file.name.removesuffix(".proto")
        package_clause = f"\npackage {file.options.go_package.rsplit(';', 1)[1]}\n"
        assert package_clause in Path(f"{stem}.pb.go").read_text(), file.name
        grpc_file = Path(f"{stem}_grpc.pb.go")
        assert grpc_file.exists() == bool(file.service), file.name
        if file.service:
            assert package_clause in grpc_file.read_text()


def test_typescript_output_of_one_file_holds_it_and_its_imports(tmp_path):
    require(TypeScriptGenerator())

    generate_code("--typescript", str(SCHEMAS_DIR / "trading" / "market_data.proto"), "--out", str(tmp_path))

    names = {path.relative_to(tmp_path / "typescript").as_posix() for path in (tmp_path / "typescript").rglob("*.ts")}
    assert names == {"trading/market_data.ts", "common/timestamp.ts", "google/protobuf/timestamp.ts"}
    assert "export interface TickData {" in (tmp_path / "typescript" / "trading" / "market_data.ts").read_text()


def test_it_writes_each_language_to_its_own_folder(tmp_path):
    output = generate_code("--python", "--go", str(SCHEMAS_DIR / "common"), "--out", str(tmp_path))

    assert (tmp_path / "python" / "common" / "money_pb2.py").is_file()
    if shutil.which("protoc-gen-go"):
        assert (tmp_path / "go" / "common" / "money.pb.go").is_file()
    assert "python: wrote" in output


def test_it_refuses_to_run_without_a_language():
    with pytest.raises(CommandError, match="Choose --all or at least one of"):
        generate_code()


def test_a_missing_plugin_exits_1_naming_the_package_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    errors = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command(
            "generate_code",
            "--go",
            str(SCHEMAS_DIR / "common"),
            "--out",
            str(tmp_path),
            stdout=StringIO(),
            stderr=errors,
        )

    assert exited.value.code == 1
    assert (
        "Go generation needs protoc-gen-go, which is not installed: apt-get install protoc-gen-go" in errors.getvalue()
    )
    assert not (tmp_path / "go").exists()


def test_a_compile_error_exits_1_with_file_line_and_column(tmp_path):
    tree = tmp_path / "schemas"
    (tree / "shop").mkdir(parents=True)
    (tree / "shop" / "item.proto").write_text(
        'syntax = "proto3";\npackage shop.v1;\nmessage Item { strin name = 1; }\n'
    )
    errors = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command(
            "generate_code", "--python", str(tree), "--out", str(tmp_path / "out"), stdout=StringIO(), stderr=errors
        )

    assert exited.value.code == 1
    assert "shop/item.proto:3:16:" in errors.getvalue()
    assert not (tmp_path / "out" / "python").exists()


def save_until_regenerated(path: Path, reader: LineReader) -> bool:
    """Wait for a regeneration, saving the file again now and then: the watcher starts just after it says so."""
    deadline = time.monotonic() + WATCH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if reader.wait_for("python: wrote", 3):
            return True
        path.write_text(path.read_text() + "\n")
    return False


def _sigint_by_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_watch_regenerates_on_save_and_stops_on_ctrl_c(tmp_path):
    tree = tmp_path / "schemas"
    (tree / "common").mkdir(parents=True)
    money = tree / "common" / "money.proto"
    shutil.copy(SCHEMAS_DIR / "common" / "money.proto", money)
    generated = tmp_path / "out" / "python" / "common" / "money_pb2.py"
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "generate_code",
            "--python",
            str(tree),
            "--out",
            str(tmp_path / "out"),
            "--watch",
        ],
        cwd=ROOT,
        env=command_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Ctrl-C as a terminal delivers it: a suite started in the background of a shell script inherits SIGINT
        # ignored, and Python then never turns it into KeyboardInterrupt.
        preexec_fn=_sigint_by_default,
    )
    reader = LineReader(process.stdout)
    try:
        assert reader.wait_for("Watching", WATCH_TIMEOUT_SECONDS), reader.seen
        assert "rounding_mode" not in generated.read_text()

        money.write_text(
            money.read_text().replace(
                "int32 nanos = 3;", "int32 nanos = 3;\n  // How the amount was rounded.\n  string rounding_mode = 4;"
            )
        )

        assert save_until_regenerated(money, reader), reader.seen
        assert "rounding_mode" in generated.read_text()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=WATCH_TIMEOUT_SECONDS) == 0
        assert reader.wait_for("Stopped watching.", 5), reader.seen
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
