"""Real processes for the operations tests: gunicorn serving the registry, a private Redis, a private PostgreSQL.

Every process listens on a free loopback port of its own and is stopped by the test that started it,
so tests running at the same moment on this machine never share one.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(name: str | None = None, *, port: int | None = None) -> str:
    """Return a postgres:// URL for this run's test database (or another database on the same server)."""
    settings_dict = connection.settings_dict
    user = settings_dict["USER"] or "postgres"
    host = settings_dict["HOST"] or "127.0.0.1"
    return f"postgres://{user}@{host}:{port or settings_dict['PORT'] or 5432}/{name or settings_dict['NAME']}"


def wait_for_port(port: int, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class PrivateRedis:
    """A Redis server of one test's own on a free port; `url` names db 0, `url_of(n)` another db.

    `stop()` then `start()` brings it back on the same port; a `persistent` one writes every change to an
    append-only file first, so it comes back with its data (as a production Redis does), not empty.
    """

    def __init__(self, *, persistent: bool = False):
        if not shutil.which("redis-server"):
            pytest.fail("redis-server is not installed; install Debian's redis-server package")
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="registry-redis-")) if persistent else None
        self.start()

    def start(self) -> None:
        storage = ["--save", "", "--appendonly", "no"]
        if self.folder:
            storage = ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder)]
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", *storage], stdout=subprocess.DEVNULL
        )
        wait_for_port(self.port, timeout=10)

    def url_of(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def url(self) -> str:
        return self.url_of(0)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@contextmanager
def redis_server(*, persistent: bool = False):
    """Yield a PrivateRedis, stopped (and its data folder removed) afterwards."""
    server = PrivateRedis(persistent=persistent)
    try:
        yield server
    finally:
        server.stop()
        if server.folder:
            shutil.rmtree(server.folder, ignore_errors=True)


def registry_env(**overrides: str) -> dict[str, str]:
    """Return the environment of a registry process on this run's test database, with production settings."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "DATABASE_URL": database_url(),
        # The test process's key: API token digests are keyed with it, so tokens made here work there.
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    env.update(overrides)
    return env


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2, log_path: Path | None = None):
    """Yield the base URL of the registry served by gunicorn (reading ./gunicorn.conf.py) on a free port."""
    port = free_port()
    log = open(log_path or os.devnull, "ab")  # noqa: SIM115 (closed below, after the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "registry.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(url, process)
        yield url
    finally:
        stop_session(process)
        log.close()


def gunicorn_workers(url: str) -> list[int]:
    """Return the pids of the gunicorn workers serving `url` (the children of the master bound to its address)."""
    serving = _processes_with(url.removeprefix("http://"))
    return sorted(pid for pid, parent in serving.items() if parent in serving)


def _processes_with(argument: str) -> dict[int, int]:
    """Return {pid: parent pid} of the processes whose command line holds this argument."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if argument.encode() in command:
            found[int(entry.name)] = parent
    return found


def stop_session(process: subprocess.Popen, *, timeout: float = 20) -> None:
    """SIGTERM a process started in a session of its own, and its children; SIGKILL them after `timeout` s."""
    if process.returncode is None:  # not reaped yet, so its id still names its session and no other
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_until_answering(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{url}/health/live", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise TimeoutError(f"the registry at {url} did not answer within {START_TIMEOUT} s")


def _postgres_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        pytest.fail(f"{name} was not found under /usr/lib/postgresql; install Debian's postgresql package")
    return str(found[-1])


class PrivatePostgres:
    """A PostgreSQL server of one test's own (a scratch data folder, a free port), which the test may stop.

    The shared server on 5432 is never touched. Debian's initdb refuses to run as root, so as root
    the server runs as the `postgres` user.
    """

    def __init__(self):
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="registry-pg-"))
        self.data = self.folder / "data"
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(_postgres_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as_postgres, *command], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off"
        self._run(
            _postgres_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )

    def stop(self) -> None:
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            [*self._as_postgres, _postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def private_postgres():
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()
