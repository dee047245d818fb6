"""Each scenario's figures, kept in tests/performance/results/reliability.json and shown as a table in reliability.md.

Written only when RELIABILITY_RESULTS is set (`make load`, `make faults`): the suite's short runs leave the
measured figures alone.
"""

import json
import os
import subprocess
from collections import Counter
from datetime import UTC, datetime

from tests.integration.operations.servers import ROOT
from tests.reliability.invariants import Report
from tests.reliability.workload import LoadRun

RESULTS = ROOT / "tests" / "performance" / "results"
FIGURES = RESULTS / "reliability.json"
TABLE = RESULTS / "reliability.md"


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    return head.strip() or "unknown"


def figures(scenario: str, run: LoadRun, report: Report, *, survived: bool) -> dict:
    errors = dict(sorted(report.errors_by_kind.items(), key=lambda item: -item[1]))
    return {
        "scenario": scenario,
        "seconds": round(run.seconds, 1),
        "clients": run.scale.clients,
        "subjects": run.scale.subjects,
        "requests": run.requests,
        "per_second": round(run.requests / run.seconds, 1) if run.seconds else 0,
        "errors": errors,
        "p50_ms": round(run.percentile(0.50) * 1000, 1),
        "p99_ms": round(run.percentile(0.99) * 1000, 1),
        "acknowledged": len(run.acknowledged),
        "faults": run.faults.names,
        "survived": survived,
        "lost": report.lost,
        "duplicated": report.duplicated,
        "skipped": report.skipped,
        "stale": report.stale,
        "unexpected_errors": report.unexpected_errors,
        "commit": commit(),
        # The figures mean little without it: the machine may be running other jobs beside the registry.
        "load_average": round(os.getloadavg()[0], 1),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def record(scenario: str, run: LoadRun, report: Report) -> None:
    """Keep the scenario's figures (replacing its previous ones) and rewrite the table, when asked to."""
    if not os.environ.get("RELIABILITY_RESULTS"):
        return
    rows = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    rows[scenario] = figures(scenario, run, report, survived=not report.violations)
    FIGURES.write_text(json.dumps(rows, indent=2, sort_keys=True) + "\n")
    TABLE.write_text(table(rows))


def _faults_cell(names: list[str]) -> str:
    counted = Counter(names)
    return ", ".join(f"{name} ×{count}" if count > 1 else name for name, count in counted.items()) or "none"


def _errors_cell(errors: dict) -> str:
    return "; ".join(f"{kind} ×{count}" for kind, count in errors.items()) or "none"


def table(rows: dict) -> str:
    lines = [
        "# Reliability: load and faults",
        "",
        "Written by `make load` and `make faults` (tests/reliability/). Each row is one run: 50 clients (half Basic,",
        "half bearer tokens) against gunicorn with 2 workers, a Celery worker, a private PostgreSQL and Redis on",
        "127.0.0.1; 90 % lookups, 8 % compatibility checks, 2 % registrations with references, plus review",
        "approvals, code generation requests and deprecations. The invariants (tests/reliability/invariants.py)",
        "are checked after every run; *lost* must be 0. Errors list every answer that was not a success, by",
        'operation and status/error code ("no answer": the connection failed). *Machine load* is the 1-minute load',
        "average when the run ended: latencies measured beside other jobs on a small machine are mostly queueing.",
        "",
        "| scenario | commit | s | subjects | requests | req/s | p50 ms | p99 ms | acknowledged | errors by kind "
        "| faults injected | survived | lost | duplicated | skipped | stale | unexpected | machine load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows.values():
        lines.append(
            f"| {row['scenario']} | {row['commit']} | {row['seconds']} | {row['subjects']} | {row['requests']} "
            f"| {row['per_second']} | {row['p50_ms']} | {row['p99_ms']} | {row['acknowledged']} "
            f"| {_errors_cell(row['errors'])} | {_faults_cell(row['faults'])} "
            f"| {'yes' if row['survived'] else 'NO'} | {row['lost']} | {row['duplicated']} | {row['skipped']} "
            f"| {row['stale']} | {row['unexpected_errors']} | {row.get('load_average', '-')} |"
        )
    return "\n".join(lines) + "\n"


def summary(scenario: str, run: LoadRun, report: Report) -> str:
    """Return the run's figures as a few lines (the tests print them; pytest shows them when a test fails)."""
    row = figures(scenario, run, report, survived=not report.violations)
    answers = ", ".join(
        f"{operation} {status}: {count}" for (operation, status), count in sorted(run.answers().items())
    )
    return (
        f"{scenario}: {row['requests']} requests in {row['seconds']} s ({row['per_second']}/s), "
        f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, {row['acknowledged']} acknowledged\n"
        f"answers: {answers}\nerrors: {_errors_cell(row['errors'])}\nfaults: {row['faults']}\n"
        f"checked: {dict(report.checked)}\nviolations: {report.violations[:20]}"
    )
