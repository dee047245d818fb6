"""Code generation through a real Celery worker on a Redis broker, and what the archives are good for.

One worker serves the module; the fault test starts its own. Each archive is used as
its consumer would: the Python one pip-installs into a fresh virtual environment, the
TypeScript one type-checks with tsc, the Go one passes gofmt and builds, the Java one compiles.
"""

import io
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from codegen import archives
from codegen.generators import generator_for
from schemas_app.codegen_jobs import archive_storage
from schemas_app.models import ChangeRequest, GenerationJob
from tests.integration.api.helpers import TICK_V1, TICK_V2_CHANGES_TYPE, register
from tests.integration.celery_workers import Broker, Worker
from tests.integration.codegen.golang import go_build, go_import_paths
from tests.integration.codegen.helpers import ORDERS, ORDERS_INPUTS, body_of, catalogue_sources, wait_for_job

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NODE_DIR = Path(__file__).resolve().parents[3] / "codegen" / "node"
PROTOBUF_JAVA_JAR = Path("/usr/share/java/protobuf.jar")
ROUND_TRIP = """
import trading.orders_pb2 as orders, sys
from common import money_pb2
assert orders.__file__.startswith(sys.prefix), orders.__file__
order = orders.Order(order_id="o-1", limit_price=money_pb2.Money(currency_code="USD", units=187))
order.created_at.GetCurrentTime()
assert orders.Order.FromString(order.SerializeToString()) == order
import trading.orders_pb2_grpc
print("round trip ok")
"""


@pytest.fixture(scope="module")
def broker(django_db_setup, django_db_blocker):
    broker = Broker()
    with broker.sending():
        yield broker


@pytest.fixture(scope="module")
def worker(broker):
    """A worker on the codegen queue only, as production's code generation workers run."""
    worker = Worker(broker.environment(), "codegen-main", queues=["codegen"])
    yield worker
    worker.stop()


@pytest.fixture
def generated(worker, ci, catalogue):
    """Generate ORDERS in a language through the worker; return its zip's bytes."""

    def run(language: str) -> bytes:
        started = ci.post(f"/generate/{language}", {"subject": ORDERS}, format="json")
        assert started.status_code == 202, started.json()
        job = wait_for_job(ci, started.json()["status_url"])
        assert job["state"] == "succeeded", job
        return body_of(ci.get(started.json()["download_url"]))

    return run


def test_a_codegen_worker_generates_code_while_a_review_waits_in_the_compatibility_queue(
    broker, worker, ci, catalogue, writer
):
    author = APIClient()
    author.force_authenticate(writer)
    assert register(author, "ticks-value", TICK_V1).status_code == 200
    review_id = register(author, "ticks-value", TICK_V2_CHANGES_TYPE).json()["review_id"]

    started = ci.post("/generate/python", {"subject": ORDERS}, format="json").json()
    job = wait_for_job(ci, started["status_url"])

    assert job["state"] == "succeeded", job
    assert (broker.depth("compatibility"), broker.depth("codegen")) == (1, 0)
    assert ChangeRequest.objects.get(pk=review_id).preparation == ChangeRequest.Preparation.QUEUED


def unpack(data: bytes, target: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(target)
    return target


def test_the_python_archive_installs_into_a_fresh_venv_and_round_trips_a_message(generated, tmp_path):
    (tmp_path / "orders.zip").write_bytes(generated("python"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    # pip, setuptools and protobuf come from this suite's environment; the generated packages go into the new one.
    site_packages = next((venv / "lib").glob("python*/site-packages"))
    (site_packages / "suite.pth").write_text("\n".join(path for path in sys.path if path.endswith("site-packages")))

    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", "orders.zip"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert install.returncode == 0, install.stderr
    run = subprocess.run([python, "-I", "-c", ROUND_TRIP], cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert run.returncode == 0, run.stderr
    assert "round trip ok" in run.stdout


def test_the_typescript_archive_type_checks_with_tsc(generated, tmp_path):
    tsc = NODE_DIR / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        pytest.skip(f"tsc is not installed: run `npm ci` in {NODE_DIR}")
    output = unpack(generated("typescript"), tmp_path / "ts")
    (output / "node_modules").symlink_to(NODE_DIR / "node_modules")
    (output / "tsconfig.json").write_text(
        '{"compilerOptions": {"strict": true, "noEmit": true, "target": "es2020", "module": "commonjs",'
        ' "moduleResolution": "node", "skipLibCheck": true}, "include": ["**/*.ts"], "exclude": ["node_modules"]}'
    )

    check = subprocess.run([tsc, "-p", "."], cwd=output, capture_output=True, text=True, timeout=120)

    assert check.returncode == 0, check.stdout + check.stderr
    assert {f"{path.removesuffix('.proto')}.ts" for path in ORDERS_INPUTS} <= {
        path.relative_to(output).as_posix() for path in output.rglob("*.ts") if "node_modules" not in path.parts
    }


def test_the_go_archive_has_messages_and_grpc_stubs_that_pass_gofmt_and_build(generated, tmp_path):
    output = unpack(generated("go"), tmp_path / "go")

    assert (output / "trading" / "orders.pb.go").is_file()
    assert (output / "trading" / "orders_grpc.pb.go").is_file()
    assert (output / "common" / "money.pb.go").is_file()
    unformatted = subprocess.run(["gofmt", "-l", "."], cwd=output, capture_output=True, text=True, timeout=60)
    assert unformatted.returncode == 0 and unformatted.stdout == "", unformatted.stdout + unformatted.stderr
    import_paths = go_import_paths(catalogue_sources(), [ORDERS])
    assert set(import_paths) == ORDERS_INPUTS
    built = go_build(output, import_paths, tmp_path / "gopath")
    assert built.returncode == 0, built.stdout + built.stderr


def test_the_java_archive_compiles_against_protobuf_java(generated, tmp_path):
    javac = shutil.which("javac")
    if javac is None or not PROTOBUF_JAVA_JAR.is_file():
        pytest.skip("javac and Debian's libprotobuf-java (protobuf.jar) are both needed to compile Java output")
    output = unpack(generated("java"), tmp_path / "java")
    sources = sorted(str(path) for path in output.rglob("*.java"))

    compiled = subprocess.run(
        [javac, "-nowarn", "-cp", str(PROTOBUF_JAVA_JAR), "-d", str(tmp_path / "classes"), *sources],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert compiled.returncode == 0, compiled.stderr[-3000:]
    assert list((tmp_path / "classes").rglob("*.class"))


def test_the_workers_archive_is_byte_identical_to_one_built_in_this_process(generated):
    data = generated("python")

    local = archives.build_archive(
        generator_for("python"),
        archives.InputSet(sources={path: catalogue_sources()[path] for path in ORDERS_INPUTS}, roots=(ORDERS,)),
    )

    assert data == local.zip_bytes


@pytest.fixture
def own_broker(broker):
    """A queue of this test's own, so the module's worker never takes its job."""
    own = Broker()
    with own.sending():
        yield own


def test_a_killed_worker_leaves_the_job_to_another_and_no_partial_archive_is_ever_served(own_broker, ci, catalogue):
    broker = own_broker
    slow = Worker(
        broker.environment(CODEGEN_STORAGE_BACKEND="tests.integration.codegen.slow_storage.SlowFileSystemStorage"),
        "codegen-doomed",
    )
    try:
        started = ci.post("/generate/kotlin", {"all": True}, format="json").json()
        job_id, download_url = started["job_id"], started["download_url"]
        partial = wait_for_partial_archive(slow)
        assert ci.get(download_url).status_code == 404
        slow.kill()
    finally:
        slow.stop()
    assert partial.stat().st_size > 0
    assert GenerationJob.objects.get(pk=job_id).state == "running"
    assert ci.get(download_url).status_code == 404

    rescuer = Worker(broker.environment(), "codegen-rescuer")
    try:
        job = wait_for_job(ci, started["status_url"], timeout=60)
    finally:
        rescuer.stop()

    assert job["state"] == "succeeded", job
    assert job["attempts"] == 2
    data = body_of(ci.get(download_url))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
    assert len(data) == job["size"]
    expected = archives.build_archive(
        generator_for("kotlin"),
        archives.InputSet(sources=catalogue_sources(), roots=tuple(sorted(catalogue_sources()))),
    )
    assert data == expected.zip_bytes


def wait_for_partial_archive(worker: Worker, timeout: float = 60) -> Path:
    """Wait until the worker has begun writing a zip to storage; return its path."""
    root = Path(archive_storage().location)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [path for path in root.rglob("*.zip") if path.stat().st_size > 0]
        if found:
            return found[0]
        assert worker.process.poll() is None, "".join(worker.output.seen)
        time.sleep(0.05)
    raise AssertionError(f"no archive was being written after {timeout} s")
