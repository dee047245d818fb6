"""gunicorn workers killed with SIGKILL in the middle of requests, registrations among them: no partial version
is visible, and the client's retry of an interrupted registration succeeds once (the same content answers the
same id and version: registration is idempotent by content), so no version is duplicated or skipped.
"""

import time

import pytest

from tests.reliability.invariants import check_invariants
from tests.reliability.results import record, summary
from tests.reliability.workload import MIX, is_review_subject, run_load

pytestmark = [pytest.mark.faults, pytest.mark.slow]

# Registrations outnumber lookups here, and last longer, so a killed worker is most likely in the middle of one.
# A kill may also land between requests, or after a registration's answer while its git commit is written, and
# cut nothing: up to MOST_KILLS kills are made until one has cut a registration off.
REGISTERING = {**MIX, "register": 150.0}
MOST_KILLS = 30


def cut_registration(failure) -> bool:
    """Return True for an ordinary subject's registration that a kill cut off (its retry must be acknowledged)."""
    if failure.operation != "register" or failure.status != 0:
        return False
    subject = failure.path.split("/")[2]
    return not is_review_subject(int(subject.removeprefix("load_s").removesuffix(".proto")))


def test_a_worker_killed_mid_request_leaves_no_partial_version_and_the_retry_succeeds_once(stack, scale):
    kills = 3 if scale.seconds >= 30 else 2  # a new worker takes seconds to start on a busy machine

    def kill_workers(faults):
        # Kill on until a registration was cut off (at most MOST_KILLS times): a kill may land on a lookup.
        for done in range(1, MOST_KILLS + 1):
            time.sleep(scale.seconds / (kills + 1))
            with faults.window("gunicorn worker SIGKILLed"):
                stack.kill_a_worker()
                stack.wait_for_workers(2)
            if done >= kills and any(cut_registration(failure) for failure in faults.failures):
                return

    run = run_load(stack.url, stack.writer, stack.reviewer, scale, mix=REGISTERING, during=kill_workers)
    report = check_invariants(stack, run)
    record("gunicorn worker killed", run, report)
    print(summary("gunicorn worker killed", run, report))

    assert report.violations == []
    assert report.lost == report.duplicated == report.skipped == report.stale == report.unexpected_errors == 0
    assert any(cut_registration(error) for error in run.errors), "a kill cut a registration off"
    assert any(item.attempts > 1 for item in run.acknowledged), "the registration was sent again and acknowledged"
