"""Benchmark the browser pages' server time: a subject page and a diff of a large subject, and the catalogue.

Run by hand from the repository root:

    python tests/performance/bench_ui.py [--repeat 20]

It creates (or recreates) the PostgreSQL database `registry_bench_ui`, migrates it and seeds, straight through the
ORM (the registration path has its own benchmark): one subject with 100 versions of a 5,000-line schema (each
version adds a field) and 10,000 small subjects. Pages are requested in-process through Django's test client (the
whole middleware stack and template rendering, no network), with Redis db 13 as the cache under a key prefix of the
run's own. The first request of each page is reported apart (cold: nothing cached), then the median and p95 of the
following ones. Results go to tests/performance/results/ui.md.
"""

import argparse
import datetime
import hashlib
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results" / "ui.md"
sys.path.insert(0, str(ROOT))
DATABASE = "registry_bench_ui"
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DATABASE}")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("SECRET_KEY", "bench-ui-not-secret")
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.performance.bench_ui_settings"

LARGE_SUBJECT = "bench/large.proto"
VERSIONS = 100
SUBJECTS = 10_000
TARGET_SUBJECT_MS = 200.0
TARGET_CATALOGUE_MS = 300.0


def large_schema(extra_fields: int) -> str:
    """Return a ~5,000-line proto3 file: 250 commented messages of 8 fields, plus `extra_fields` added ones."""
    lines = ['syntax = "proto3";', "", "package bench.v1;", ""]
    for m in range(250):
        lines += [f"// Message{m} is a made-up record number {m}.", f"message Message{m} {{"]
        for f in range(1, 9):
            lines += [f"  // Field {f} of message {m}.", f"  int64 field_{f} = {f};"]
        if m == 0:
            for extra in range(extra_fields):
                lines.append(f"  string added_{extra} = {100 + extra};")
        lines += ["}", ""]
    return "\n".join(lines) + "\n"


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")


def seed() -> None:
    from schemas_app.models import Schema, Subject, SubjectVersion, Tenant

    tenant = Tenant.objects.get_or_create(slug=Tenant.DEFAULT_SLUG, defaults={"name": "Default tenant"})[0]
    large = Subject.objects.create(tenant=tenant, name=LARGE_SUBJECT)
    for number in range(1, VERSIONS + 1):
        text = large_schema(number - 1)
        schema = Schema.objects.create(text=text, fingerprint=hashlib.sha256(text.encode()).hexdigest())
        SubjectVersion.objects.create(
            subject=large, version=number, schema=schema, semantic_version=f"1.{number - 1}.0", change="MINOR"
        )
    subjects = Subject.objects.bulk_create(
        Subject(tenant=tenant, name=f"team{index % 50}/service_{index:05d}.proto") for index in range(SUBJECTS)
    )
    schemas = Schema.objects.bulk_create(
        Schema(
            text=f'syntax = "proto3";\npackage team{index % 50}.v1;\n// Event {index}.\nmessage Event{index} {{\n'
            f"  int64 timestamp_ms = 1;\n}}\n",
            fingerprint=hashlib.sha256(f"small-{index}".encode()).hexdigest(),
        )
        for index in range(SUBJECTS)
    )
    SubjectVersion.objects.bulk_create(
        SubjectVersion(subject=subject, version=1, schema=schema, semantic_version="1.0.0")
        for subject, schema in zip(subjects, schemas, strict=True)
    )


def measure(client, url: str, repeat: int) -> dict:
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        response = client.get(url, secure=True)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"bench_ui: {url} answered {response.status_code}")
    warm = sorted(times[1:])
    return {
        "url": url,
        "cold": times[0],
        "median": statistics.median(warm),
        "p95": warm[max(0, int(len(warm) * 0.95) - 1)],
        "bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    arguments = parser.parse_args()
    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    seed()
    seeded = time.perf_counter() - started
    from django.contrib.auth import get_user_model

    viewer = get_user_model().objects.create_superuser("bench", "bench@example.org", "bench-password")
    client = Client()
    client.force_login(viewer)
    results = [
        (
            "Subject page, latest of 100 versions, 5,000 lines",
            measure(client, f"/ui/subjects/{LARGE_SUBJECT}/", arguments.repeat),
            TARGET_SUBJECT_MS,
        ),
        (
            "Diff v99 → v100 of that subject",
            measure(client, f"/ui/subjects/{LARGE_SUBJECT}/diff/?from=99&to=100", arguments.repeat),
            TARGET_SUBJECT_MS,
        ),
        (
            "Diff v1 → v100 of that subject",
            measure(client, f"/ui/subjects/{LARGE_SUBJECT}/diff/?from=1&to=100", arguments.repeat),
            TARGET_SUBJECT_MS,
        ),
        (
            "Catalogue `/ui/`, 10,001 subjects, first page",
            measure(client, "/ui/", arguments.repeat),
            TARGET_CATALOGUE_MS,
        ),
        ("Catalogue, last page", measure(client, "/ui/?page=201", arguments.repeat), TARGET_CATALOGUE_MS),
        ("Catalogue search `?q=Event9999`", measure(client, "/ui/?q=Event9999", arguments.repeat), TARGET_CATALOGUE_MS),
    ]
    write_report(results, arguments.repeat, seeded)


def write_report(results, repeat: int, seeded: float) -> None:
    lines = [
        "# Browser pages: server time",
        "",
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores "
        f"(shared with other work), Python {platform.python_version()}, PostgreSQL, Redis cache. In-process requests "
        f"through Django's test client (middleware, selectors, templates; no network). Seeding took {seeded:.0f} s.",
        f"Cold: the first request, nothing cached. Warm: median and p95 of the next {repeat}.",
        "",
        "| Page | Cold ms | Warm median ms | Warm p95 ms | Target ms | Met (warm median) | HTML KB |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for name, figures, target in results:
        met = "yes" if figures["median"] < target else "no"
        lines.append(
            f"| {name} | {figures['cold']:.0f} | {figures['median']:.1f} | {figures['p95']:.1f} | {target:.0f} | {met} "
            f"| {figures['bytes'] / 1024:.0f} |"
        )
    lines += [
        "",
        "Highlighted source, documentation and diffs are cached per stored schema (pair of schemas for a diff):",
        "the cold figure pays for compiling and highlighting once per version, the warm one is what readers see.",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
