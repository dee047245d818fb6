"""Benchmark what each of the registry's middleware costs a request, inside one process.

Run by hand from the repository root:

    python tests/performance/bench_middleware.py [--requests 2000] [--rounds 5] [--label after]

It recreates the PostgreSQL database `registry_bench_middleware`, migrates and seeds it with
tests/performance/bench_registry.py's helpers, then, in a child process with the benchmark
server's settings (Redis db 13 as the shared cache, PROMETHEUS_MULTIPROC_DIR set to a fresh temporary
folder as under gunicorn), calls Django's WSGI handler directly: the whole MIDDLEWARE stack, no
middleware, and the stack with each middleware (the Prometheus pair as one) left out. Variants run
interleaved; each one's CPU time is the best of `--rounds` runs of `--requests` requests.

Each middleware's cost is read on `/bench/floor`, the benchmark's constant DRF view, which every
middleware sees on its way: the whole stack's time minus the time without that one; its share is that
cost over the whole stack's time minus the time with no middleware. Cached lookups cannot be read
that way: `CachedLookupMiddleware` answers them before most of the stack, so leaving a middleware
out changes which path answers. For them the file reports the whole stack beside no middleware only.

It writes tests/performance/results/middleware.md, keeping the rows of other labels (so a run
before a change and one after it sit side by side). Only 127.0.0.1 is contacted.
"""

import argparse
import contextlib
import datetime
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.performance import bench_registry

RESULTS = Path(__file__).resolve().parent / "results" / "middleware.md"
# The constant view of tests/performance/bench_urls.py: every middleware sees it, none answers it.
FLOOR_PATH = "/bench/floor"
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/registry_bench_middleware"
REDIS_URL = "redis://127.0.0.1:6379/13"
PROMETHEUS_PAIR = (
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "registry.middleware.RequestMetricsMiddleware",
)
# Django's authentication middleware refuses to run without the session middleware: they leave together.
NEEDED_BY = {
    "django.contrib.sessions.middleware.SessionMiddleware": "django.contrib.auth.middleware.AuthenticationMiddleware"
}


def variants(stack: list[str]) -> dict[str, list[str]]:
    """The stacks to time: the whole one, none, and each middleware (the Prometheus pair together) left out."""
    stacks = {"(whole stack)": list(stack), "(no middleware)": []}
    if all(name in stack for name in PROMETHEUS_PAIR):
        stacks["django_prometheus Before + After"] = [name for name in stack if name not in PROMETHEUS_PAIR]
    for name in stack:
        if name not in PROMETHEUS_PAIR:
            left_out = {name, NEEDED_BY.get(name)}
            label = " + ".join(short for short in (name, NEEDED_BY.get(name)) if short)
            stacks[label] = [other for other in stack if other not in left_out]
    return stacks


def wsgi_environ(path: str) -> dict:
    from django.test.client import RequestFactory

    return RequestFactory(HTTP_ACCEPT=bench_registry.CONTENT_TYPE, SERVER_NAME=bench_registry.HOST)._base_environ(
        PATH_INFO=path, REQUEST_METHOD="GET"
    )


def timed_requests(handler, path: str, count: int) -> float:
    """Return microseconds per request of `count` GETs of `path` through `handler`, as a WSGI server calls it."""
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    handler(wsgi_environ(path), start_response).close()
    if not statuses[-1].startswith("200"):  # stop before timing a failing stack
        raise bench_registry.BenchFailed(f"GET {path} answered {statuses[-1]}")
    # This process's CPU time, not wall time: other work on the shared cores does not count against a variant.
    started = time.process_time()
    for _ in range(count):
        response = handler(wsgi_environ(path), start_response)
        b"".join(response)
        response.close()
    elapsed = time.process_time() - started
    return elapsed / count * 1e6


def measure_command(argument: str) -> dict:
    """Time each stack variant (runs in the child with the server's settings); return µs per request."""
    import django

    options = json.loads(argument)
    django.setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    lookup = f"/schemas/ids/{options['cached_id']}"
    handlers = {}
    for name, stack in variants(settings.MIDDLEWARE).items():
        with override_settings(MIDDLEWARE=stack):
            handlers[name] = WSGIHandler()  # reads MIDDLEWARE once, here
    runs = [(name, FLOOR_PATH, handler) for name, handler in handlers.items()]
    runs += [(name, lookup, handlers[name]) for name in ("(whole stack)", "(no middleware)")]
    best: dict[str, dict[str, float]] = {FLOOR_PATH: {}, lookup: {}}
    for _ in range(options["rounds"]):
        for name, path, handler in runs:
            timed_requests(handler, path, 50)  # warm this variant's caches
            cost = timed_requests(handler, path, options["requests"])
            best[path][name] = min(best[path].get(name, cost), cost)
    return {"stack": list(settings.MIDDLEWARE), "us_per_request": best[FLOOR_PATH], "lookup": best[lookup]}


@contextlib.contextmanager
def child_env() -> Iterator[dict]:
    """Yield the measuring child's environment: its database and Redis, and a metrics folder and git history of the
    run's own (the seed's registrations commit to it), both removed afterwards."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-middleware-metrics-") as metrics,
        bench_registry.history_of_its_own(bench_registry.server_env()) as env,
    ):
        yield {**env, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "PROMETHEUS_MULTIPROC_DIR": metrics}


def rows_of(label: str, measured: dict) -> list[str]:
    times = measured["us_per_request"]
    whole, bare = times["(whole stack)"], times["(no middleware)"]
    stack_cost = whole - bare
    rows = [
        f"| {label} | (whole stack) | {whole:.0f} | |",
        f"| {label} | (no middleware) | {bare:.0f} | |",
        f"| {label} | all middleware | {stack_cost:.0f} | 100% |",
    ]
    costs = {name: whole - value for name, value in times.items() if not name.startswith("(")}
    for name, cost in sorted(costs.items(), key=lambda item: -item[1]):
        rows.append(f"| {label} | {name} | {cost:.0f} | {cost / stack_cost:.0%} |")
    return rows


def lookup_rows(label: str, measured: dict) -> list[str]:
    times = measured["lookup"]
    return [f"| {label} | {name} | {times[name]:.0f} |" for name in ("(whole stack)", "(no middleware)")]


def earlier_rows(label: str, columns: int) -> list[str]:
    """Rows of other labels with `columns` cells already in the results file, so before and after sit side by side."""
    if not RESULTS.exists():
        return []
    return [
        line
        for line in RESULTS.read_text().splitlines()
        if line.startswith("| ")
        and line.count("|") == columns + 1
        and not line.startswith("| label")
        and not line.startswith(f"| {label} |")
    ]


def markdown(label: str, measured: dict, options) -> str:
    lines = [
        "# What each middleware costs a request",
        "",
        f"Last run {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')} (label `{label}`) with "
        f"`python tests/performance/bench_middleware.py --requests {options.requests} --rounds {options.rounds} "
        f"--label {label}`; 1-minute load average {os.getloadavg()[0]:.1f} after it (2 shared CPUs).",
        "",
        "Microseconds of CPU time of the serving process per anonymous request through Django's WSGI handler in "
        "one process (no HTTP server; time spent waiting on Redis or PostgreSQL is not counted), PostgreSQL and "
        "Redis as for the registry benchmark, PROMETHEUS_MULTIPROC_DIR set as under gunicorn; the best of the "
        "interleaved rounds. Differences under about 100 µs are within this machine's noise (2 CPUs shared with "
        "other work).",
        "",
        f"## Each middleware, on `GET {FLOOR_PATH}` (a constant DRF view behind the whole stack)",
        "",
        "A middleware's cost is the whole stack's time minus the time with that one left out; its share is that "
        "cost over all the middleware's cost. Shares need not add up to 100%.",
        "",
        "| label | middleware | µs per request | share |",
        "|---|---|---:|---:|",
        *earlier_rows(label, 4),
        *rows_of(label, measured),
        "",
        "## A cached `GET /schemas/ids/{id}`",
        "",
        "`CachedLookupMiddleware` answers it early, so leaving one middleware out would change the path rather "
        "than measure that middleware: only the whole stack and no middleware are compared.",
        "",
        "| label | stack | µs per request |",
        "|---|---|---:|",
        *earlier_rows(label, 3),
        *lookup_rows(label, measured),
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per variant and round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; the best is kept")
    parser.add_argument("--label", default="current", help="names this run's rows in the table")
    parser.add_argument("--in-django", metavar="ARGUMENT", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.in_django:
        print(json.dumps(measure_command(options.in_django)))
        return 0
    with child_env() as env:
        bench_registry.recreate_database(DATABASE_URL)
        bench_registry.manage(env, "migrate", "--noinput")
        bench_registry.manage(env, "ensure_admin")
        seeded = bench_registry.run_in_django(env, "seed", 0)
        measured = run_measurement(env, {**seeded, "requests": options.requests, "rounds": options.rounds})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(markdown(options.label, measured, options))
    print(RESULTS.read_text())
    return 0


def run_measurement(env: dict, argument: dict) -> dict:
    import subprocess

    completed = subprocess.run(
        [sys.executable, __file__, "--in-django", json.dumps(argument)],
        cwd=bench_registry.ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise bench_registry.BenchFailed(f"measurement failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
