"""Benchmark every message of one .proto file with sample data: the spec's debug command.

Run by hand from the repository root:

    python tests/performance/benchmark_schema.py schemas/trading/market_data.proto [--quick] [--results DIR]

The file is compiled with its imports from the tree it lives in (the nearest
folder with a buf.yaml, else the `schemas/` folder holding it). Every message it
declares, nested ones included, is filled by field type (strings, numbers, the
first non-zero enum value, nested messages, a few repeated items and map
entries, one field per oneof), then serialized and parsed with the upb backend
and compared with json.dumps/json.loads of the same data. Results go to
tests/performance/results/schema_<import path>.json and .md, such as
schema_trading_market_data.json.
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
    parser.add_argument("proto", type=Path, help="the .proto file whose messages to benchmark")
    parser.add_argument(
        "--quick", action="store_true", help="fewer, shorter repeats (a smoke run, not figures to quote)"
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="folder for schema_<name>.json and .md")
    arguments = parser.parse_args(argv)
    settings = benchmarks.TimingSettings.chosen(arguments.quick)
    report = benchmarks.run_schema_benchmark(arguments.proto, settings)
    benchmarks.publish(report, arguments.results, benchmarks.schema_results_stem(report["file"]), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
