"""The mixed workload against the whole registry, with no fault: every invariant holds and nothing fails."""

import pytest

from tests.reliability.invariants import check_invariants
from tests.reliability.results import record, summary
from tests.reliability.workload import run_load

pytestmark = [pytest.mark.load, pytest.mark.slow]


def test_the_mixed_workload_loses_nothing_and_answers_no_error(stack, scale):
    run = run_load(stack.url, stack.writer, stack.reviewer, scale)
    report = check_invariants(stack, run)
    record("load", run, report)
    print(summary("load", run, report))

    assert run.requests > scale.clients, "the clients were served"
    assert len(run.acknowledged) > 0, "registrations were acknowledged"
    assert report.violations == []
    assert report.lost == report.duplicated == report.skipped == report.stale == report.unexpected_errors == 0
