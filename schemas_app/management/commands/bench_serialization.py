"""`python manage.py bench_serialization [--quick] [--results DIR]`: the spec's serialization benchmark.

The same run as tests/performance/benchmark_serialization.py (both call
codegen.benchmarks): TickData, a 1 KB MarketDataStream, an Order and
TechnicalIndicators from the bundled catalogue, protobuf (upb) against JSON.
"""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from codegen import benchmarks


class Command(BaseCommand):
    help = "Time protobuf (upb) against JSON on the spec's messages; write serialization.json and .md."
    # The benchmark reads the catalogue folder only; it needs neither the database nor the system checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats (a smoke run, not figures to quote)")
        parser.add_argument("--results", type=Path, default=Path(settings.BASE_DIR) / "tests" / "performance" / "results", help="folder for serialization.json and .md")

    def handle(self, *args, **options):
        try:
            report = benchmarks.run_serialization_benchmark(Path(settings.REGISTRY_SCHEMAS_DIR), benchmarks.TimingSettings.chosen(options["quick"]))
        except benchmarks.BackendMismatch as error:
            raise CommandError(str(error)) from None
        benchmarks.publish(report, options["results"], "serialization", self.stdout)
