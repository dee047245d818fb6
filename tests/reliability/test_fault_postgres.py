"""PostgreSQL restarted under load (the stack's private server, never the shared one): requests fail cleanly
while it is down (500/50001 or 503 in the JSON shape, never a traceback), nothing acknowledged is lost, and the
same gunicorn workers serve again once it is back, without a restart of the registry.
"""

import time

import pytest

from tests.reliability.invariants import check_invariants
from tests.reliability.results import record, summary
from tests.reliability.workload import run_load

pytestmark = [pytest.mark.faults, pytest.mark.slow]

DOWN_SECONDS = 3


def test_requests_fail_cleanly_while_postgresql_restarts_and_nothing_acknowledged_is_lost(stack, scale):
    workers = stack.gunicorn_workers()

    def restart_postgresql(faults):
        time.sleep(scale.seconds * 0.25)
        with faults.window("PostgreSQL restarted"):
            stack.database.stop()
            time.sleep(DOWN_SECONDS)
            stack.database.start()

    run = run_load(stack.url, stack.writer, stack.reviewer, scale, during=restart_postgresql)
    report = check_invariants(stack, run)
    record("PostgreSQL restarted", run, report)
    print(summary("PostgreSQL restarted", run, report))

    assert report.violations == []
    assert report.lost == report.duplicated == report.skipped == report.stale == report.unexpected_errors == 0
    assert any(kind.startswith("clean failure") for kind in report.verdicts), "the outage was felt, cleanly"
    outage = run.faults.windows[0]
    assert run.served_between(outage.ended, time.monotonic(), ("register", "lookup_id", "lookup_version")) > 0
    assert stack.gunicorn_workers() == workers, "the same workers serve again: nothing was restarted"
