"""Benchmark the spec's serialization claims: TickData, a 1 KB MarketDataStream, an Order and TechnicalIndicators.

Run by hand from the repository root:

    python tests/performance/benchmark_serialization.py [--quick] [--schemas schemas] [--results DIR]

Each message is serialized and parsed with protobuf's upb backend and compared
with json.dumps/json.loads of the same data, in time and size. The spec claims
under 1 ms to serialize and 0.5 ms to parse a 1 KB message, and a binary about
70% smaller than JSON; the results say whether each holds here. They go to
tests/performance/results/serialization.json and serialization.md.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.performance import serialization as benchmarks  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer, shorter repeats (a smoke run, not figures to quote)"
    )
    parser.add_argument(
        "--schemas", type=Path, default=ROOT / "schemas", help="the catalogue folder (default: schemas/)"
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="folder for serialization.json and .md")
    arguments = parser.parse_args(argv)
    settings = benchmarks.TimingSettings.chosen(arguments.quick)
    report = benchmarks.run_serialization_benchmark(arguments.schemas, settings)
    benchmarks.publish(report, arguments.results, "serialization", sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
