"""The spec's serialization benchmarks: protobuf (upb backend) against json.dumps/json.loads of the same data.

Shared by tests/performance/benchmark_serialization.py
and tests/performance/benchmark_schema.py; nothing here imports Django.

Each sample is a plain JSON-ready dict; the message is built from that same dict,
so both encodings carry exactly the same data. JSON is written compactly
(no spaces), its smallest ordinary form. Every operation is timed timeit-style:
loops are calibrated to last at least `min_seconds`, repeated, and the median
per call is reported in microseconds. The spec's claims are checked, never asserted.
"""

import datetime
import json
import os
import platform
import random
import statistics
import sys
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import google.protobuf
from google.protobuf.internal import api_implementation
from google.protobuf.message import Message

from codegen.sources import select_sources
from protoengine.compiler import compile_sources
from protoengine.folders import read_folder
from tests.performance.samples import message_class, message_pool, messages_of_file, sample_data, to_message

# The spec's Category A claims ("Serialization Performance"), for a 1 KB message.
SPEC_SERIALIZE_MS = 1.0
SPEC_PARSE_MS = 0.5
SPEC_SIZE_REDUCTION = 0.70
# "About 70%" is taken to mean at least 65% smaller than compact JSON.
SIZE_TOLERANCE = 0.05
# The MarketDataStream sample gets ticks until its encoding reaches this size.
STREAM_TARGET_BYTES = 1024
SEED = 20240610
EXPECTED_BACKEND = "upb"
# Compact JSON: the smallest form json.dumps writes without dropping data. The encoder
# is built once, as json.dumps does for its default form, so its construction is not timed.
JSON_SEPARATORS = (",", ":")
_compact_json = json.JSONEncoder(separators=JSON_SEPARATORS).encode


class BackendMismatch(RuntimeError):
    """protobuf runs on another backend than upb, whose figures the spec's claims are about."""


@dataclass(frozen=True)
class TimingSettings:
    """How long and how often each operation is timed."""

    repeats: int = 7
    min_seconds: float = 0.05

    @classmethod
    def chosen(cls, quick: bool) -> "TimingSettings":
        """Return the full settings, or fewer and shorter repeats for a smoke run (not figures to quote)."""
        return cls(repeats=3, min_seconds=0.005) if quick else cls()


@dataclass(frozen=True)
class Timing:
    """Microseconds per call: the median and the best of the repeats, and the loops per repeat."""

    median_us: float
    min_us: float
    loops: int


@dataclass(frozen=True)
class Sample:
    """One message to benchmark: its label, its class and the JSON-ready data it holds."""

    label: str
    cls: type[Message]
    data: dict


# ---------------------------------------------------------------- timing


def time_call(operation: Callable[[], object], settings: TimingSettings) -> Timing:
    """Time `operation` timeit-style and return microseconds per call."""
    timer = timeit.Timer(operation)
    loops = _calibrated_loops(timer, settings.min_seconds)
    per_call = [total / loops * 1e6 for total in timer.repeat(repeat=settings.repeats, number=loops)]
    return Timing(median_us=statistics.median(per_call), min_us=min(per_call), loops=loops)


def _calibrated_loops(timer: timeit.Timer, min_seconds: float) -> int:
    loops = 1
    while True:
        elapsed = timer.timeit(loops)
        if elapsed >= min_seconds:
            return loops
        # Aim a little past the target from the rate seen so far, at least doubling.
        loops = max(loops * 2, int(loops * min_seconds * 1.2 / max(elapsed, 1e-9)))


# ---------------------------------------------------------------- one sample


def measure(sample: Sample, settings: TimingSettings) -> dict:
    """Return sizes and serialize/parse timings of one sample in both encodings, and the spec's checks."""
    message = to_message(sample.cls, sample.data)
    encoded = message.SerializeToString()
    text = _compact_json(sample.data)
    _check_round_trips(sample, message, encoded, text)
    protobuf_bytes, json_bytes = len(encoded), len(text.encode("utf-8"))
    json_default_bytes = len(json.dumps(sample.data).encode("utf-8"))
    timings = {
        "protobuf_serialize": time_call(message.SerializeToString, settings),
        "protobuf_parse": time_call(lambda: sample.cls.FromString(encoded), settings),
        "json_serialize": time_call(lambda: _compact_json(sample.data), settings),
        "json_parse": time_call(lambda: json.loads(text), settings),
    }
    row = {
        "message": sample.label,
        "type": sample.cls.DESCRIPTOR.full_name,
        "protobuf_bytes": protobuf_bytes,
        "json_bytes": json_bytes,
        "size_reduction": round(1 - protobuf_bytes / json_bytes, 4),
        # json.dumps' default form, with a space after "," and ":", for comparison.
        "json_default_bytes": json_default_bytes,
        "size_reduction_default": round(1 - protobuf_bytes / json_default_bytes, 4),
        **{f"{name}_us": round(timing.median_us, 3) for name, timing in timings.items()},
        "timings": {name: asdict(timing) for name, timing in timings.items()},
    }
    row["checks"] = spec_checks(row)
    return row


def spec_checks(row: dict) -> dict:
    """Return the spec's claims as booleans for one measured row."""
    return {
        "serialize_under_1_ms": row["protobuf_serialize_us"] < SPEC_SERIALIZE_MS * 1000,
        "parse_under_0_5_ms": row["protobuf_parse_us"] < SPEC_PARSE_MS * 1000,
        "about_70_percent_smaller": row["size_reduction"] >= SPEC_SIZE_REDUCTION - SIZE_TOLERANCE,
    }


def _check_round_trips(sample: Sample, message: Message, encoded: bytes, text: str) -> None:
    """Refuse to time encodings that do not give the data back."""
    if sample.cls.FromString(encoded) != message:
        raise AssertionError(f"{sample.label}: the protobuf encoding does not parse back to the same message.")
    if json.loads(text) != sample.data:
        raise AssertionError(f"{sample.label}: the JSON text does not parse back to the same data.")


# ---------------------------------------------------------------- the spec's samples


def tick_data(rng: random.Random, index: int = 0, tenant_id: str = "acme-trading") -> dict:
    """Return one realistic AAPL quote; `index` moves time and price along."""
    bid = round(187.40 + rng.uniform(-0.5, 0.5), 2)
    tick = {
        "symbol": "AAPL",
        "bid": bid,
        "ask": round(bid + rng.choice((0.01, 0.02, 0.03)), 2),
        "volume": float(rng.randrange(100, 5000, 100)),
        "timestamp_ms": 1_718_031_000_000 + index * 37 + rng.randrange(0, 30),
    }
    if tenant_id:
        tick["tenant_id"] = tenant_id
    return tick


def market_data_stream(cls: type[Message], rng: random.Random) -> dict:
    """Return a batch with enough ticks for its encoding to reach STREAM_TARGET_BYTES (about 1 KB)."""
    # The batch carries the tenant, so its ticks leave theirs empty.
    stream = {"ticks": [], "source": "nasdaq-itch", "sequence_number": 48_213_907, "tenant_id": "acme-trading"}
    while len(to_message(cls, stream).SerializeToString()) < STREAM_TARGET_BYTES:
        stream["ticks"].append(tick_data(rng, len(stream["ticks"]), tenant_id=""))
    return stream


def order() -> dict:
    """Return a realistic partially filled limit order."""
    return {
        "order_id": "ord-7f3c9a12-5b2e-4d1a-9c33-0e8b6f21d4a7",
        "client_order_id": "cl-20240610-000187",
        "tenant_id": "acme-trading",
        "account_id": "acct-eq-0042",
        "symbol": "AAPL",
        "side": "ORDER_SIDE_BUY",
        "order_type": "ORDER_TYPE_LIMIT",
        "time_in_force": "TIME_IN_FORCE_DAY",
        "quantity": 500.0,
        "limit_price": {"currency_code": "USD", "units": 187, "nanos": 420_000_000},
        "status": "ORDER_STATUS_PARTIALLY_FILLED",
        "filled_quantity": 200.0,
        "remaining_quantity": 300.0,
        "average_fill_price": {"currency_code": "USD", "units": 187, "nanos": 410_000_000},
        "strategy_id": "momentum-intraday-v3",
        "venue": "XNAS",
        "created_at": "2024-06-10T14:30:00.125Z",
        "updated_at": "2024-06-10T14:30:01.870Z",
    }


def technical_indicators() -> dict:
    """Return realistic indicators of AAPL with their Bollinger bands."""
    middle = 186.92
    return {
        "symbol": "AAPL",
        "rsi": 61.37,
        "macd": 1.284,
        "sma_20": middle,
        "ema_50": 184.31,
        "bollinger": {"upper": 191.48, "middle": middle, "lower": 182.36, "bandwidth": 0.0488},
        "calculated_at": 1_718_031_060_000,
        "tenant_id": "acme-trading",
    }


# Label, message type, builder: the issue's four messages.
SERIALIZATION_SAMPLES = (
    ("TickData", "trading.v1.TickData", lambda cls, rng: tick_data(rng)),
    ("MarketDataStream (1 KB)", "trading.v1.MarketDataStream", market_data_stream),
    ("Order", "trading.v1.Order", lambda cls, rng: order()),
    ("TechnicalIndicators", "ai.v1.TechnicalIndicators", lambda cls, rng: technical_indicators()),
)


def catalogue_samples(schemas_dir: Path) -> list[Sample]:
    """Return the spec's four samples, with classes compiled from the catalogue in `schemas_dir`."""
    pool = message_pool(compile_sources(read_folder(schemas_dir)).files)
    rng = random.Random(SEED)
    samples = []
    for label, full_name, build in SERIALIZATION_SAMPLES:
        cls = message_class(pool, full_name)
        samples.append(Sample(label, cls, build(cls, rng)))
    return samples


def schema_samples(proto_path: Path) -> tuple[str, list[Sample]]:
    """Return the import path of a .proto file and a filled sample of each of its messages."""
    selection = select_sources([proto_path])
    (import_path,) = selection.roots
    pool = message_pool(compile_sources(selection.sources, selection.roots).files)
    package_prefix = pool.FindFileByName(import_path).package + "."
    samples = [
        Sample(
            descriptor.full_name.removeprefix(package_prefix),
            message_class(pool, descriptor.full_name),
            sample_data(descriptor),
        )
        for descriptor in messages_of_file(pool, import_path)
    ]
    return import_path, samples


# ---------------------------------------------------------------- runs and reports


def run_serialization_benchmark(schemas_dir: Path, settings: TimingSettings = TimingSettings()) -> dict:
    """Benchmark the spec's four messages and return the report (see write_report)."""
    rows = _measure_all(catalogue_samples(schemas_dir), settings)
    return _report("serialization", f"the spec's messages from {schemas_dir}", rows, settings)


def run_schema_benchmark(proto_path: Path, settings: TimingSettings = TimingSettings()) -> dict:
    """Benchmark every message of one .proto file with generic sample data and return the report."""
    import_path, samples = schema_samples(proto_path)
    rows = _measure_all(samples, settings)
    report = _report("schema", f"every message of {import_path}, filled by field type", rows, settings)
    report["file"] = import_path
    return report


def _measure_all(samples: list[Sample], settings: TimingSettings) -> list[dict]:
    require_upb()
    with _one_core():
        return [measure(sample, settings) for sample in samples]


def require_upb() -> None:
    """Raise BackendMismatch unless protobuf runs on upb."""
    backend = api_implementation.Type()
    if backend != EXPECTED_BACKEND:
        raise BackendMismatch(
            f'protobuf runs on the "{backend}" backend; these figures are for upb (unset '
            "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION)."
        )


@contextmanager
def _one_core() -> Iterator[None]:
    """Pin the process to one core while timing, so figures do not jump between cores."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(previous)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, previous)


def _report(kind: str, subject: str, rows: list[dict], settings: TimingSettings) -> dict:
    return {
        "benchmark": kind,
        "subject": subject,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "settings": asdict(settings),
        "spec": {"serialize_ms": SPEC_SERIALIZE_MS, "parse_ms": SPEC_PARSE_MS, "size_reduction": SPEC_SIZE_REDUCTION},
        "results": rows,
    }


def machine_info() -> dict:
    """Return what the figures depend on: CPU, Python, protobuf and its backend."""
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_model() or platform.processor(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "protobuf": google.protobuf.__version__,
        "protobuf_backend": api_implementation.Type(),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def write_report(report: dict, results_dir: Path, stem: str) -> tuple[Path, Path]:
    """Write the report as STEM.json and STEM.md under `results_dir`; return both paths."""
    results_dir.mkdir(parents=True, exist_ok=True)
    json_path, markdown_path = results_dir / f"{stem}.json", results_dir / f"{stem}.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    markdown_path.write_text(markdown(report), encoding="utf-8")
    return json_path, markdown_path


def publish(report: dict, results_dir: Path, stem: str, out: TextIO) -> None:
    """Write the report's files and print its Markdown with where it was written."""
    paths = write_report(report, results_dir, stem)
    out.write(markdown(report) + "\n")
    out.write("Written: " + ", ".join(map(str, paths)) + "\n")


def schema_results_stem(import_path: str) -> str:
    """Return the results name of a file: trading/market_data.proto -> schema_trading_market_data."""
    return "schema_" + import_path.removesuffix(".proto").replace("/", "_")


def markdown(report: dict) -> str:
    """Return the report as a Markdown page: machine, table of figures, and the spec's claims."""
    machine = report["machine"]
    lines = [
        f"# {report['benchmark'].capitalize()} benchmark: {report['subject']}",
        "",
        f"{report['date']} on {machine['processor']} ({machine['cpus']} CPUs), Python {machine['python']}, "
        f"protobuf {machine['protobuf']} ({machine['protobuf_backend']} backend). "
        f"Median of {report['settings']['repeats']} repeats, in microseconds per call; JSON is compact `json.dumps` "
        "(no spaces) and `json.loads` "
        "of the same data.",
        "",
        "| Message | Protobuf bytes | JSON bytes | Smaller | Serialize pb / JSON (µs) | Parse pb / JSON (µs) | < 1 ms "
        "| < 0.5 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | :---: | :---: |",
    ]
    for row in report["results"]:
        checks = row["checks"]
        lines.append(
            f"| {row['message']} | {row['protobuf_bytes']} | {row['json_bytes']} | {row['size_reduction']:.0%} "
            f"| {row['protobuf_serialize_us']:.2f} / {row['json_serialize_us']:.2f} | {row['protobuf_parse_us']:.2f} / "
            f"{row['json_parse_us']:.2f} "
            f"| {_mark(checks['serialize_under_1_ms'])} | {_mark(checks['parse_under_0_5_ms'])} |"
        )
    lines += ["", *_claim_lines(report), ""]
    return "\n".join(lines)


def _claim_lines(report: dict) -> list[str]:
    rows = report["results"]
    if not rows:
        return ["No message to measure."]
    reductions = [row["size_reduction"] for row in rows]
    slowest_serialize = max(row["protobuf_serialize_us"] for row in rows)
    slowest_parse = max(row["protobuf_parse_us"] for row in rows)
    return [
        "The spec's claims, checked on these messages:",
        "",
        f"- Serialization under {SPEC_SERIALIZE_MS:g} ms: slowest {slowest_serialize:.2f} µs "
        f"({_verdict(slowest_serialize < SPEC_SERIALIZE_MS * 1000)}).",
        f"- Parsing under {SPEC_PARSE_MS:g} ms: slowest {slowest_parse:.2f} µs "
        f"({_verdict(slowest_parse < SPEC_PARSE_MS * 1000)}).",
        f"- About {SPEC_SIZE_REDUCTION:.0%} smaller than JSON (taken as at least "
        f"{SPEC_SIZE_REDUCTION - SIZE_TOLERANCE:.0%}): "
        f"{min(reductions):.0%} to {max(reductions):.0%} smaller than compact JSON, "
        f"{min(row['size_reduction_default'] for row in rows):.0%} to "
        f"{max(row['size_reduction_default'] for row in rows):.0%} "
        f"than json.dumps' default form ({_verdict(min(reductions) >= SPEC_SIZE_REDUCTION - SIZE_TOLERANCE)} for every "
        "message).",
    ]


def _mark(passed: bool) -> str:
    return "yes" if passed else "**no**"


def _verdict(passed: bool) -> str:
    return "holds" if passed else "does not hold"
