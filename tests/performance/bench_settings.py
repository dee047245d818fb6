"""Settings of the benchmark server: the project's own, routed through a URLconf that adds a floor endpoint."""

from registry.settings import *  # noqa: F403

ROOT_URLCONF = "tests.performance.bench_urls"
