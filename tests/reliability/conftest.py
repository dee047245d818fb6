"""Fixtures of the load and fault tests: one registry stack of their own per session, and the run's scale.

`make load` and `make faults` set RELIABILITY_SCALE=full (60 s, 500 subjects) and RELIABILITY_RESULTS=1,
which writes each run's figures to tests/performance/results/reliability.md; the suite runs the short scale.
A scenario that needs other settings (a small disk, a second Celery worker) builds its own stack with
`registry_stack(tmp_path, NAME=value)`; one that breaks something for good should not use the shared one.
"""

import pytest

from tests.reliability.harness import registry_stack
from tests.reliability.workload import Scale


@pytest.fixture(scope="session")
def scale() -> Scale:
    return Scale.from_environment()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The whole registry (PostgreSQL, two Redis, Celery, gunicorn with two workers), shared by the scenarios."""
    with registry_stack(tmp_path_factory.mktemp("reliability")) as started:
        yield started
