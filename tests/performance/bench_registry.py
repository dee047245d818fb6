"""Benchmark the registry over HTTP: cached and cold lookups against a bare DRF floor, and registrations per second.

Run by hand from the repository root:

    python tests/performance/bench_registry.py [--duration 10] [--cold 300]

It creates (or recreates) the PostgreSQL database `registry_bench`, migrates it, starts
gunicorn (2 sync workers, `registry.wsgi`) on a free loopback port with Redis db 14 as the
shared cache, and beside it the floor: the same gunicorn serving a bare Django + DRF app (no
middleware, one view). It seeds the registry, drives load with `wrk` from another process, and
writes tests/performance/results/registry.json and registry.md. Only 127.0.0.1 is contacted.
Every run commits its registrations to a git history of its own (REGISTRY_GIT_HISTORY_DIR in a
temporary folder, removed at the end), so no run starts from another's history or from var/history.git.
Needs wrk (Debian: apt-get install -y wrk), PostgreSQL and Redis on their default ports.
"""

import argparse
import base64
import contextlib
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages, tests.performance.host among them

from tests.performance.host import LOOP, python_speed_ms  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/registry_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
HOST = "127.0.0.1"
WORKERS = 2
ADMIN = ("bench", "bench-password-not-secret")
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
# Targets (issue 17): cached lookups keep most of the bare floor's throughput, and their p99 at 4 connections
# stays within twice the floor's; cold ones stay under 20 ms.
TARGET_CACHED_TO_FLOOR = 0.70
TARGET_CACHED_P99_TO_FLOOR = 2.0
TARGET_COLD_P99_MS = 20.0
# Issue 17: small registrations from one client over HTTP.
TARGET_REGISTRATIONS_PER_SECOND = 100.0
# Its small schemas: a fresh subject every this many versions keeps each about 1 KB.
SMALL_VERSIONS_PER_SUBJECT = 10
CACHED_SUBJECT = "bench-cached-value"


class BenchFailed(SystemExit):
    """Stop the benchmark with a message saying what to fix."""

    def __init__(self, message: str):
        super().__init__(f"bench_registry: {message}")


# ---------------------------------------------------------------- schemas


def event_schema(package: str, extra_fields: int = 0) -> str:
    """Return a ~1 KB proto3 schema; each extra field is a backward-compatible addition."""
    lines = [
        'syntax = "proto3";',
        "",
        f"package {package};",
        "",
        "// BenchEvent is a made-up business event of about one kilobyte.",
        "message BenchEvent {",
    ]
    base = [
        "tenant_id",
        "event_id",
        "correlation_id",
        "account_id",
        "symbol",
        "venue",
        "strategy_id",
        "signal_id",
        "currency_code",
        "status_text",
    ]
    for number, name in enumerate(base, start=1):
        lines += [f"  // The {name.replace('_', ' ')} of the event.", f"  string {name} = {number};"]
    numeric = ["quantity", "price", "notional", "fees", "filled_quantity", "remaining_quantity"]
    for number, name in enumerate(numeric, start=len(base) + 1):
        lines += [f"  // The {name.replace('_', ' ')}.", f"  double {name} = {number};"]
    lines += [
        "  // When it happened, in milliseconds since the Unix epoch (UTC).",
        f"  int64 timestamp_ms = {len(base) + len(numeric) + 1};",
    ]
    for index in range(extra_fields):
        lines += [f"  // Added in version {index + 2}.", f"  string extra_{index + 1} = {100 + index};"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def small_schema(package: str) -> str:
    return (
        f'syntax = "proto3";\n\npackage {package};\n\n// Cold is one row of the cold-lookup set.\nmessage Cold {{\n'
        "  string tenant_id = 1;\n  int64 sequence = 2;\n}\n"
    )


# ---------------------------------------------------------------- HTTP client


def basic_authorization(credentials: tuple[str, str] = ADMIN) -> str:
    return "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()


class Api:
    """A tiny HTTP client for the registry on 127.0.0.1: anonymous, or signed in as the benchmark's admin."""

    def __init__(self, port: int, signed_in: bool = False):
        self.port = port
        self.headers = {"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE}
        if signed_in:
            self.headers["Authorization"] = basic_authorization()

    def request(self, method: str, path: str, body=None) -> tuple[int, object]:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            connection.request(method, path, body=None if body is None else json.dumps(body), headers=self.headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return response.status, json.loads(data) if data else None

    def ok(self, method: str, path: str, body=None):
        status, answer = self.request(method, path, body)
        if status != 200:
            raise BenchFailed(f"{method} {path} answered {status}: {answer}")
        return answer

    def timed_get(self, path: str) -> float:
        """Return the seconds one GET took, failing unless it answered 200."""
        started = time.perf_counter()
        status, answer = self.request("GET", path)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise BenchFailed(f"GET {path} answered {status}: {answer}")
        return elapsed


# ---------------------------------------------------------------- server


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchFailed("wrk is not installed; install it with: apt-get install -y wrk")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database, so every run starts from the same empty state."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or "bench" not in name:
        raise BenchFailed(f"refusing to recreate database {name!r}: its name must contain 'bench'")
    with psycopg.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def server_env() -> dict:
    env = {key: value for key, value in os.environ.items() if key != "CELERY_BROKER_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.performance.bench_settings",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        DEBUG="false",
        SECRET_KEY="bench-secret-key-not-for-production",
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS=HOST,
        LOG_LEVEL="WARNING",
        REGISTRY_ADMIN_USERNAME=ADMIN[0],
        REGISTRY_ADMIN_PASSWORD=ADMIN[1],
        # The anonymous rows measure the lookup itself; the signed-in rows add Basic and token authentication.
        REGISTRY_ANONYMOUS_READ="true",
        PYTHONPATH=str(ROOT),
    )
    return env


@contextlib.contextmanager
def history_of_its_own(env: dict) -> Iterator[dict]:
    """Yield the environment with an empty git history directory of the run's own, and remove it afterwards.

    Registrations commit to REGISTRY_GIT_HISTORY_DIR (tasks run eagerly here): in the default var/history.git,
    each run would commit onto every earlier run's history, and the runs would not be comparable.
    """
    folder = Path(tempfile.mkdtemp(prefix="bench-registry-history-"))
    try:
        yield {**env, "REGISTRY_GIT_HISTORY_DIR": str(folder / "history.git")}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def manage(env: dict, *arguments: str) -> None:
    completed = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *arguments], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise BenchFailed(f"manage.py {' '.join(arguments)} failed:\n{completed.stdout}{completed.stderr}")


def require_gunicorn() -> str:
    path = Path(PYTHON).with_name("gunicorn")
    if not path.exists():
        raise BenchFailed(
            f"gunicorn is not next to {PYTHON}; run the script with the project's virtualenv (.venv/bin/python)"
        )
    return str(path)


def start_gunicorn(env: dict, port: int, settings_module: str | None = None) -> subprocess.Popen:
    """Start gunicorn on the port, with the registry's settings or another settings module (the floor's)."""
    if settings_module is not None:
        env = {**env, "DJANGO_SETTINGS_MODULE": settings_module}
    command = [
        require_gunicorn(),
        "registry.wsgi",
        "--workers",
        str(WORKERS),
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        "--backlog",
        "2048",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def stop_gunicorn(process: subprocess.Popen) -> None:
    """Stop the server we started (its master, which stops its workers), forcefully if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def wait_until_healthy(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    wait_until_answers(port, process, "/health", timeout)


def wait_until_answers(port: int, process: subprocess.Popen, path: str, timeout: float = 30.0) -> None:
    """Wait until the server answers `path` with 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchFailed(f"gunicorn exited with status {process.returncode} before answering")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchFailed(f"gunicorn did not answer {path} within {timeout:.0f} s")


# ---------------------------------------------------------------- measurements


@dataclass
class Measurement:
    """One benchmark case: throughput and latency percentiles in milliseconds."""

    name: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int = 0
    notes: str = ""
    # The machine's 1-minute load average around the case (the benchmark's own processes included).
    load_1m: float = 0.0
    # Each run's figures when the case ran several times.
    rounds: list = field(default_factory=list)
    # CPU milliseconds per request of the process(es) serving it (gunicorn's workers, or the service layer's
    # process): less sensitive to other work on the machine than the latencies.
    cpu_ms_per_request: float | None = None


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(output: str) -> dict:
    """Read requests/s, the 50th and 99th latency percentiles (ms), request and error counts from `wrk --latency`."""

    def percentile(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        if match is None:
            raise BenchFailed(f"wrk output has no {label}% latency line:\n{output}")
        return float(match.group(1)) * _WRK_UNITS[match.group(2)]

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    if rps is None or total is None:
        raise BenchFailed(f"cannot read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(count) for count in socket_errors.groups()) if socket_errors else 0
    return {
        "rps": float(rps.group(1)),
        "p50_ms": percentile("50"),
        "p99_ms": percentile("99"),
        "requests": int(total.group(1)),
        "errors": errors,
    }


def run_wrk(wrk: str, port: int, path: str, connections: int, duration: int, headers: list[str] = ()) -> dict:
    header_options = [option for header in [f"Accept: {CONTENT_TYPE}", *headers] for option in ("-H", header)]
    # A generous timeout, so slow answers count in the percentiles instead of vanishing as socket errors.
    command = [
        wrk,
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "30s",
        "--latency",
        *header_options,
        f"http://{HOST}:{port}{path}",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if completed.returncode != 0:
        raise BenchFailed(f"wrk failed: {completed.stderr}")
    return parse_wrk(completed.stdout)


def percentile_ms(samples: list[float], fraction: float) -> float:
    """Return a percentile (nearest rank) of durations in seconds, in milliseconds."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank] * 1000


def summary(name: str, durations: list[float], wall: float, connections: int, notes: str = "") -> Measurement:
    return Measurement(
        name=name,
        connections=connections,
        rps=len(durations) / wall,
        p50_ms=percentile_ms(durations, 0.50),
        p99_ms=percentile_ms(durations, 0.99),
        requests=len(durations),
        notes=notes,
    )


def cold_lookups(api: Api, name: str, paths: list[str]) -> Measurement:
    """GET each path once, sequentially, right after Redis was flushed: every answer is read from PostgreSQL."""
    flush_redis()
    started = time.perf_counter()
    durations = [api.timed_get(path) for path in paths]
    return summary(
        name,
        durations,
        time.perf_counter() - started,
        1,
        notes="one sequential client, each path requested once after FLUSHDB",
    )


def package_of(subject: str) -> str:
    return f"bench.{subject.replace('-', '_')}.v1"


def registrations(
    api: Api, name: str, subjects: list[str], duration: float, versions_per_subject: int | None = None
) -> Measurement:
    """Register new versions (one added field each) for `duration` seconds, one client thread per subject.

    Each version adds a field to the one before, so over a run the schema grows well past 1 KB (~10 KB after
    240 versions). With `versions_per_subject`, a client moves on to a fresh subject after that many versions
    (`subject-2-value`, ...) and the schema stays about 1 KB: what registering small schemas costs.
    """
    for subject in subjects:
        api.ok(
            "POST",
            f"/subjects/{subject}/versions",
            {"schema": event_schema(package_of(subject)), "schemaType": "PROTOBUF"},
        )
    durations: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def client(subject: str) -> None:
        registered = 0
        while time.monotonic() < deadline:
            registered += 1
            current, extra = subject, registered
            if versions_per_subject:
                rounds, extra = divmod(registered, versions_per_subject)
                current = subject if rounds == 0 else subject.replace("-value", f"-{rounds + 1}-value")
            body = {"schema": event_schema(package_of(current), extra), "schemaType": "PROTOBUF"}
            started = time.perf_counter()
            status, answer = api.request("POST", f"/subjects/{current}/versions", body)
            elapsed = time.perf_counter() - started
            with lock:
                (durations if status == 200 else failures).append(elapsed if status == 200 else f"{status}: {answer}")

    threads = [threading.Thread(target=client, args=(subject,)) for subject in subjects]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise BenchFailed(f"{len(failures)} registrations failed, first: {failures[0]}")
    if versions_per_subject:
        growth = f"~1 KB schema kept small: a fresh subject every {versions_per_subject} versions, each adding a field"
    else:
        growth = "~1 KB schema at first, growing by a field per version (~10 KB after 240 versions)"
    notes = (
        f"POST /subjects/{{subject}}/versions with Basic auth, {growth} (BACKWARD); {len(subjects)} client(s), "
        "one subject each at a time"
    )
    return summary(name, durations, time.perf_counter() - started, len(subjects), notes=notes)


# ---------------------------------------------------------------- seeding (inside Django, in a subprocess)


def seed_command(cold: int) -> dict:
    """Register the benchmark's schemas through the service layer; return their ids. Runs with the server's settings."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from schemas_app import selectors, services, tokens

    tenant = selectors.default_tenant()
    # A plain service account (no superuser shortcut), signing in with a password or with its API token.
    service_account = get_user_model().objects.create_user(SERVICE_ACCOUNT[0], password=SERVICE_ACCOUNT[1])
    _, token = tokens.api_token_create(user=service_account, name="bench", acting_user=service_account)

    def register(subject: str, text: str) -> int:
        return services.subject_version_register(
            tenant=tenant, subject_name=subject, schema=text, acting_user=services.system_account()
        ).schema_id

    cold_subjects = [f"cold-versions-{index}" for index in range(cold)]
    for subject in cold_subjects:
        register(subject, small_schema(package_of(subject)))
    return {
        "cached_id": register(CACHED_SUBJECT, event_schema(package_of(CACHED_SUBJECT))),
        "cold_ids": [
            register(f"cold-ids-{index}", small_schema(package_of(f"cold-ids-{index}"))) for index in range(cold)
        ],
        "cold_subjects": cold_subjects,
        "token": token,
    }


def service_registrations_command(duration: float) -> dict:
    """Time registrations through the service layer alone (no HTTP, no authentication).

    Return each one's duration and the CPU seconds the loop took in all.
    """
    import django

    django.setup()
    from schemas_app import selectors, services

    tenant, system = selectors.default_tenant(), services.system_account()
    subject = "bench-service-value"
    package = package_of(subject)
    services.subject_version_register(
        tenant=tenant, subject_name=subject, schema=event_schema(package), acting_user=system
    )
    durations, extra = [], 0
    deadline = time.monotonic() + duration
    cpu_started = time.process_time()
    while time.monotonic() < deadline:
        extra += 1
        started = time.perf_counter()
        services.subject_version_register(
            tenant=tenant,
            subject_name=subject,
            schema=event_schema(package, extra),
            acting_user=system,
        )
        durations.append(time.perf_counter() - started)
    return {"durations": durations, "cpu_seconds": time.process_time() - cpu_started}


def in_process_command(seeded: dict) -> dict:
    """Return milliseconds per request through Django's test client, without HTTP: the server's own cost.

    Cached lookups: the best mean of 5 interleaved runs of 300. Cold lookups: p50 and p99
    of each seeded path read once after emptying Redis (this process's own cache starts empty).
    """
    import django

    django.setup()
    from django.test import Client

    client = Client(HTTP_ACCEPT=CONTENT_TYPE, HTTP_HOST=HOST)
    paths = {
        name: path.format(cached_id=seeded["cached_id"])
        for name, (path, _) in LOOKUPS.items()
        if name not in FLOOR_LOOKUPS  # this process serves the registry's settings only
    }
    authorization = {
        name: {"HTTP_AUTHORIZATION": header.removeprefix("Authorization: ")}
        for name in paths
        for header in lookup_headers(name, Seeded(**seeded))
    }
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(5):  # interleaved; the least disturbed repetition is the cost
        for name, path in paths.items():
            extra = authorization.get(name, {})
            client.get(path, **extra)
            started = time.perf_counter()
            for _ in range(300):
                client.get(path, **extra)
            samples[name].append((time.perf_counter() - started) / 300 * 1000)
    timings = {name: round(min(values), 3) for name, values in samples.items()}
    for name, cold_paths in cold_paths_of(seeded).items():
        flush_redis()
        durations = []
        for path in cold_paths:
            started = time.perf_counter()
            client.get(path)
            durations.append(time.perf_counter() - started)
        timings[f"{name}_p50"], timings[f"{name}_p99"] = (
            round(percentile_ms(durations, 0.5), 3),
            round(percentile_ms(durations, 0.99), 3),
        )
    return timings


def cold_paths_of(seeded: dict) -> dict[str, list[str]]:
    return {
        "cold_schema_by_id": [f"/schemas/ids/{schema_id}" for schema_id in seeded["cold_ids"]],
        "cold_subject_version": [f"/subjects/{subject}/versions/1" for subject in seeded["cold_subjects"]],
    }


SUBPROCESS_COMMANDS = {
    "seed": seed_command,
    "service-registrations": service_registrations_command,
    "in-process": in_process_command,
}


def run_in_django(env: dict, command: str, argument) -> object:
    """Run one of SUBPROCESS_COMMANDS in a child process with the server's settings; return its JSON answer."""
    completed = subprocess.run(
        [PYTHON, __file__, "--in-django", command, json.dumps(argument)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise BenchFailed(f"{command} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


@dataclass
class Seeded:
    cached_id: int
    cold_ids: list[int] = field(default_factory=list)
    cold_subjects: list[str] = field(default_factory=list)
    token: str = ""


# ---------------------------------------------------------------- report


def command_output(command: list[str]) -> str:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=10)
        return (completed.stdout or completed.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def machine_info() -> dict:
    import django
    import psycopg
    import redis

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    memory = (
        re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        if Path("/proc/meminfo").exists()
        else None
    )
    parsed = urlparse(DATABASE_URL)
    with psycopg.connect(
        host=parsed.hostname, port=parsed.port or 5432, user=parsed.username or "postgres", dbname="postgres"
    ) as connection:
        postgres = connection.execute("SHOW server_version").fetchone()[0]
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "memory_gb": round(int(memory.group(1)) / 1024 / 1024, 1) if memory else None,
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": command_output([str(Path(PYTHON).with_name("gunicorn")), "--version"]),
        "wrk": command_output(["wrk", "--version"]),
        "postgresql": postgres,
        "redis": redis.Redis.from_url(REDIS_URL).info("server")["redis_version"],
        "python_speed_ms": python_speed_ms(),
    }


def targets(cases: dict[str, Measurement]) -> dict:
    """Return each target per cached endpoint, with its measured value and whether it is met."""

    def row(value: float, wanted: str, met: bool) -> dict:
        return {"value": round(value, 3), "target": wanted, "met": met}

    report = {}
    measured = ("schema_by_id", "subject_version", *SIGNED_IN_LOOKUPS)
    for name in measured:
        ratio = cases[f"{name}@50"].rps / cases["floor@50"].rps
        report[f"{name}_to_floor_rps_ratio_at_50"] = row(
            ratio, f">= {TARGET_CACHED_TO_FLOOR}", ratio >= TARGET_CACHED_TO_FLOOR
        )
    floor_p99 = cases["floor@4"].p99_ms
    ceiling = round(TARGET_CACHED_P99_TO_FLOOR * floor_p99, 3)
    for name in measured:
        p99 = cases[f"{name}@4"].p99_ms
        report[f"{name}_p99_ms_at_4"] = row(p99, f"<= {ceiling} (2x the floor's)", p99 <= ceiling)
    for name in ("cold_schema_by_id", "cold_subject_version"):
        p99 = cases[name].p99_ms
        report[f"{name}_p99_ms"] = row(p99, f"< {TARGET_COLD_P99_MS}", p99 < TARGET_COLD_P99_MS)
    report.update(registration_targets(cases))
    return report


def registration_targets(cases: dict[str, Measurement]) -> dict:
    """Read the target from small schemas (issue 17), not from the case whose schema grows through the run."""
    rps = cases["register_small_sequential"].rps
    wanted = TARGET_REGISTRATIONS_PER_SECOND
    return {"register_small_sequential_rps": {"value": round(rps, 1), "target": f">= {wanted}", "met": rps >= wanted}}


def derived(cases: dict[str, Measurement]) -> dict:
    """Return the figures that explain the others: what the middleware and authentication add to a request."""
    return {
        "floor_in_registry_to_floor_rps_ratio_at_50": round(
            cases["floor_in_registry@50"].rps / cases["floor@50"].rps, 3
        ),
        "basic_auth_ms_per_request_p50_at_4": round(
            cases["schema_by_id_basic_auth@4"].p50_ms - cases["schema_by_id@4"].p50_ms, 2
        ),
        "token_ms_per_request_p50_at_4": round(
            cases["schema_by_id_token@4"].p50_ms - cases["schema_by_id@4"].p50_ms, 2
        ),
        "registration_p50_ms_api_minus_service_layer": round(
            cases["register_sequential"].p50_ms - cases["register_service_layer"].p50_ms, 1
        ),
    }


def markdown(report: dict) -> str:
    machine = report["machine"]
    lines = [
        "# Registry benchmark",
        "",
        f"Run {report['date']} with `python tests/performance/bench_registry.py` (wrk "
        f"{report['settings']['duration_s']} s per case).",
        "",
        f"Machine: {machine['cpu']}, {machine['cpu_count']} CPUs, {machine['memory_gb']} GB; {machine['platform']}; "
        f"Python {machine['python']}, Django {machine['django']}, {machine['gunicorn']} ({WORKERS} sync workers), "
        f"PostgreSQL {machine['postgresql']}, Redis {machine['redis']}; `{LOOP}` took "
        f"{machine.get('python_speed_ms', '?')} ms (the machine's speed that day: compare runs of different days "
        "by it). "
        "Load generator, servers, database and cache share this machine with other work; its 1-minute load average "
        f"was {report['settings']['load_1m_before']} before the run and {report['settings']['load_1m_after']} after "
        "it, and the benchmark's own processes add about 2 to it. The floor is a bare Django + DRF app (no "
        "middleware, one view answering a constant) under the same gunicorn, measured in the same rounds.",
        "",
        "| case | connections | requests/s | p50 ms | p99 ms | requests | errors | load (1 min) | CPU ms/request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in report["cases"]:
        cpu = case.get("cpu_ms_per_request")
        lines.append(
            f"| {case['name']} | {case['connections']} | {case['rps']:.1f} | {case['p50_ms']:.2f} | "
            f"{case['p99_ms']:.2f} | {case['requests']} | {case['errors']} | {case['load_1m']} | "
            f"{'' if cpu is None else cpu} |"
        )
    lines += ["", "| target | measured | wanted | met |", "|---|---:|---|---|"]
    for name, target in report["targets"].items():
        lines.append(f"| {name} | {target['value']} | {target['target']} | {'yes' if target['met'] else 'NO'} |")
    lines += ["", "Derived:", ""]
    lines += [f"- {name}: {value}" for name, value in report["derived"].items()]
    lines += [
        "",
        "Milliseconds per request inside one process (Django's test client through the registry's middleware, no "
        "HTTP): cached, the best mean of 5 "
        "interleaved runs of 300; cold, p50 and p99 of each path read once after emptying Redis:",
        "",
    ]
    lines += [f"- {name}: {value}" for name, value in report["in_process_ms_per_request"].items()]
    lines += ["", "Cases:", ""]
    lines += [f"- **{case['name']}**: {case['notes']}" for case in report["cases"] if case["notes"]]
    return "\n".join(lines) + "\n"


def write_results(report: dict) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "registry.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS_DIR / "registry.md").write_text(markdown(report))


# ---------------------------------------------------------------- main

LOOKUPS = {
    "floor": (
        "/bench/floor",
        "the floor: a bare Django + DRF app (no middleware, no authentication classes) whose one APIView answers a "
        "constant through the registry's renderer",
    ),
    "floor_in_registry": (
        "/bench/floor",
        "the same view served by the registry, behind its whole middleware stack: what the middleware costs",
    ),
    "schema_by_id": ("/schemas/ids/{cached_id}", "GET /schemas/ids/{id}, answered from the worker's in-process cache"),
    "subject_version": (
        f"/subjects/{CACHED_SUBJECT}/versions/1",
        "GET /subjects/{subject}/versions/{n}, answered from the worker's copy of its Redis entry (local_copies)",
    ),
    "schema_by_id_basic_auth": (
        "/schemas/ids/{cached_id}",
        "schema_by_id signed in with `Authorization: Basic` as a plain service account (the password hash checked "
        "once per worker, then remembered), its tenants checked on every request",
    ),
    "subject_version_basic_auth": (
        f"/subjects/{CACHED_SUBJECT}/versions/1",
        "subject_version signed in with `Authorization: Basic` as the same service account",
    ),
    "schema_by_id_token": (
        "/schemas/ids/{cached_id}",
        "schema_by_id with `Authorization: Bearer` (the account's API token, found by its keyed hash)",
    ),
    "subject_version_token": (
        f"/subjects/{CACHED_SUBJECT}/versions/1",
        "subject_version with `Authorization: Bearer` (the same API token)",
    ),
}
# Lookups measured signed in, and how: "basic" (the service account's password) or "token" (its API token).
SIGNED_IN_LOOKUPS = {
    "schema_by_id_basic_auth": "basic",
    "subject_version_basic_auth": "basic",
    "schema_by_id_token": "token",
    "subject_version_token": "token",
}
SERVICE_ACCOUNT = ("bench-service", "bench-service-password")
# Lookups served by the bare floor app instead of the registry.
FLOOR_LOOKUPS = {"floor"}


def with_load(measurement: Measurement, load_before: float) -> Measurement:
    measurement.load_1m = round(max(load_before, os.getloadavg()[0]), 2)
    return measurement


def settle() -> None:
    """Let the workers finish requests wrk left queued, so they do not slow the next case."""
    time.sleep(2)


def wrk_case(
    wrk: str, port: int, name: str, path: str, connections: int, duration: int, notes: str, headers: list[str] = ()
) -> Measurement:
    load = os.getloadavg()[0]
    measured = run_wrk(wrk, port, path, connections, duration, headers)
    settle()
    return with_load(Measurement(name=name, connections=connections, notes=notes, **measured), load)


def lookup_cases(wrk: str, ports: dict, seeded: Seeded, duration: int, rounds: int) -> list[Measurement]:
    """Run every lookup case `rounds` times, interleaved, and keep the median of each figure.

    The floor and the cached lookups run back to back in every round, so a burst of other
    work on the machine weighs on all of them alike instead of on whichever ran during it.
    """
    paths = {name: path.format(cached_id=seeded.cached_id) for name, (path, _) in LOOKUPS.items()}
    headers = {name: lookup_headers(name, seeded) for name in LOOKUPS}
    port_of = {name: ports["floor" if name in FLOOR_LOOKUPS else "registry"] for name in LOOKUPS}
    for name, path in paths.items():
        run_wrk(wrk, port_of[name], path, 4, 2, headers[name])  # warm both workers' caches, connections, credentials
    runs: dict[tuple[str, int], list[Measurement]] = {}
    for _ in range(rounds):
        for connections in (4, 50):
            for name, path in paths.items():
                runs.setdefault((name, connections), []).append(
                    wrk_case(wrk, port_of[name], name, path, connections, duration, "", headers[name])
                )
    return [
        median_of(f"{name}@{connections}", measured, LOOKUPS[name][1] if connections == 4 else "")
        for (name, connections), measured in runs.items()
    ]


def lookup_headers(name: str, seeded: Seeded) -> list[str]:
    """Return the Authorization header a lookup case sends (none for the anonymous ones)."""
    how = SIGNED_IN_LOOKUPS.get(name)
    if how == "basic":
        return [f"Authorization: {basic_authorization(SERVICE_ACCOUNT)}"]
    if how == "token":
        return [f"Authorization: Bearer {seeded.token}"]
    return []


def median_of(name: str, runs: list[Measurement], notes: str) -> Measurement:
    """Return one measurement with the median rps, p50 and p99 of several runs, the others kept in `rounds`."""

    def median(attribute: str) -> float:
        return round(statistics.median(getattr(run, attribute) for run in runs), 3)

    return Measurement(
        name=name,
        connections=runs[0].connections,
        rps=median("rps"),
        p50_ms=median("p50_ms"),
        p99_ms=median("p99_ms"),
        requests=sum(run.requests for run in runs),
        errors=sum(run.errors for run in runs),
        notes=notes + (f" (median of {len(runs)} interleaved runs)" if notes else ""),
        load_1m=max(run.load_1m for run in runs),
        rounds=[{"rps": run.rps, "p50_ms": run.p50_ms, "p99_ms": run.p99_ms, "load_1m": run.load_1m} for run in runs],
    )


def measure(
    wrk: str, env: dict, ports: dict, seeded: Seeded, duration: int, rounds: int, server_pid: int
) -> list[Measurement]:
    results = lookup_cases(wrk, ports, seeded, duration, rounds)
    reader = Api(ports["registry"])
    cases = [
        *(
            lambda name=name, paths=paths: cold_lookups(reader, name, paths)
            for name, paths in cold_paths_of(asdict(seeded)).items()
        ),
        *registration_cases(env, ports, duration, server_pid),
    ]
    return results + run_cases(cases)


def registration_cases(env: dict, ports: dict, duration: int, server_pid: int) -> list:
    writer = Api(ports["registry"], signed_in=True)
    return [
        lambda: with_server_cpu(
            server_pid,
            lambda: registrations(
                writer,
                "register_small_sequential",
                ["bench-register-small-value"],
                duration,
                versions_per_subject=SMALL_VERSIONS_PER_SUBJECT,
            ),
        ),
        lambda: with_server_cpu(
            server_pid, lambda: registrations(writer, "register_sequential", ["bench-register-value"], duration)
        ),
        lambda: with_server_cpu(
            server_pid,
            lambda: registrations(
                writer, "register_4_clients", [f"bench-register-{index}-value" for index in range(4)], duration
            ),
        ),
        lambda: service_registrations(env, duration),
    ]


def with_server_cpu(server_pid: int, case) -> Measurement:
    """Run a case and note the CPU gunicorn's workers spent on it, per request."""
    before = workers_cpu_seconds(server_pid)
    measurement = case()
    spent = workers_cpu_seconds(server_pid) - before
    measurement.cpu_ms_per_request = round(spent * 1000 / max(1, measurement.requests), 2)
    return measurement


def workers_cpu_seconds(master_pid: int) -> float:
    """Return the user and system CPU seconds that gunicorn's workers (the master's children) have used."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return sum(process_cpu_seconds(int(pid)) for pid in children)


def process_cpu_seconds(pid: int) -> float:
    # /proc/PID/stat: utime and stime are the 14th and 15th fields, counted after the command's ")".
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_cases(cases: list) -> list[Measurement]:
    """Run each case in turn, noting the 1-minute load average as it starts."""
    results = []
    for case in cases:
        load = os.getloadavg()[0]
        results.append(with_load(case(), load))
    return results


def measure_registrations_only(env: dict, duration: int) -> int:
    """Run the registration cases alone against a fresh registry and print them; the results files stay as they are."""
    load_before = round(os.getloadavg()[0], 2)
    ports = {"registry": free_port()}
    server = start_gunicorn(env, ports["registry"])
    try:
        wait_until_healthy(ports["registry"], server)
        cases = run_cases(registration_cases(env, ports, duration, server.pid))
    finally:
        stop_gunicorn(server)
    print(f"load average (1 min) before: {load_before}, after: {round(os.getloadavg()[0], 2)}")
    print("| case | connections | requests/s | p50 ms | p99 ms | requests | CPU ms per request | load (1 min) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for case in cases:
        print(
            f"| {case.name} | {case.connections} | {case.rps:.1f} | {case.p50_ms:.2f} | {case.p99_ms:.2f} | "
            f"{case.requests} | {case.cpu_ms_per_request} | {case.load_1m} |"
        )
    target = registration_targets({case.name: case for case in cases})["register_small_sequential_rps"]
    print(f"register_small_sequential_rps: {target['value']} (wanted {target['target']}, met: {target['met']})")
    return 0


def service_registrations(env: dict, duration: int) -> Measurement:
    started = time.perf_counter()
    answer = run_in_django(env, "service-registrations", duration)
    notes = (
        "services.subject_version_register in one process, no HTTP and no authentication: what the engine and "
        "database cost"
    )
    durations = answer["durations"]
    measurement = summary("register_service_layer", durations, time.perf_counter() - started, 1, notes=notes)
    measurement.cpu_ms_per_request = round(answer["cpu_seconds"] * 1000 / max(1, len(durations)), 2)
    return measurement


def run_subprocess_command(command: str, argument: str) -> int:
    """Entry point of the child processes `run_in_django` starts."""
    print(json.dumps(SUBPROCESS_COMMANDS[command](json.loads(argument))))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk case and per registration run")
    parser.add_argument(
        "--cold", type=int, default=300, help="distinct schemas (and subjects) read once each in the cold cases"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved runs of each lookup case; the median is reported"
    )
    parser.add_argument(
        "--registrations-only",
        action="store_true",
        help="run only the registration cases and print them, leaving the results files alone",
    )
    parser.add_argument("--in-django", nargs=2, metavar=("COMMAND", "ARGUMENT"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.in_django:
        return run_subprocess_command(*options.in_django)
    with history_of_its_own(server_env()) as env:
        if options.registrations_only:
            return registrations_only(env, options.duration)
        return run(env, options)


def registrations_only(env: dict, duration: int) -> int:
    recreate_database(DATABASE_URL)
    flush_redis()
    manage(env, "migrate", "--noinput")
    manage(env, "ensure_admin")
    return measure_registrations_only(env, duration)


def run(env: dict, options: argparse.Namespace) -> int:
    """Run every case, write the results files and print them."""
    wrk = require_wrk()
    load_before = round(os.getloadavg()[0], 2)
    recreate_database(DATABASE_URL)
    flush_redis()
    manage(env, "migrate", "--noinput")
    manage(env, "ensure_admin")
    seeded = Seeded(**run_in_django(env, "seed", options.cold))
    ports = {"registry": free_port(), "floor": free_port()}
    server = start_gunicorn(env, ports["registry"])
    floor = start_gunicorn(env, ports["floor"], settings_module="tests.performance.bench_floor_settings")
    try:
        wait_until_healthy(ports["registry"], server)
        wait_until_answers(ports["floor"], floor, "/bench/floor")
        cases = measure(wrk, env, ports, seeded, options.duration, options.rounds, server.pid)
    finally:
        stop_gunicorn(floor)
        stop_gunicorn(server)
    load_after = round(os.getloadavg()[0], 2)
    in_process = run_in_django(env, "in-process", asdict(seeded))
    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "settings": {
            "duration_s": options.duration,
            "rounds": options.rounds,
            "load_1m_before": load_before,
            "load_1m_after": load_after,
            "cold_lookups": options.cold,
            "workers": WORKERS,
            "worker_class": "sync",
            "redis": REDIS_URL,
            "database": urlparse(DATABASE_URL).path.lstrip("/"),
        },
        "cases": [asdict(case) for case in cases],
        "targets": targets({case.name: case for case in cases}),
        "derived": derived({case.name: case for case in cases}),
        "in_process_ms_per_request": in_process,
    }
    write_results(report)
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
