"""Settings of the benchmark's floor: the project's apps with no middleware at all, serving one DRF view.

This is the bare Django + DRF app every lookup is measured against: what the framework itself costs.
"""

from tests.performance.bench_settings import *  # noqa: F403

ROOT_URLCONF = "tests.performance.bench_floor_urls"
MIDDLEWARE = []
