"""Sample data for any message, and the serialization benchmarks' measurements and reports."""

import json
import time
from pathlib import Path

from django.conf import settings

from protoengine.compiler import compile_sources
from protoengine.folders import read_folder
from tests.performance import benchmark_schema, benchmark_serialization
from tests.performance import serialization as benchmarks
from tests.performance.samples import message_class, message_pool, messages_of_file, sample_data, to_message

SCHEMAS_DIR = Path(settings.REGISTRY_SCHEMAS_DIR)
SMOKE = benchmarks.TimingSettings(repeats=1, min_seconds=0.001)

EVERY_KIND = """syntax = "proto3";
package kinds.v1;
import "google/protobuf/any.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
enum Colour { COLOUR_UNSPECIFIED = 0; COLOUR_RED = 1; COLOUR_GREEN = 2; }
message Node {
  string label = 1;
  repeated Node children = 2;
}
message Everything {
  string text = 1;
  bytes blob = 2;
  bool flag = 3;
  double price = 4;
  sint32 delta = 5;
  fixed64 created_ms = 6;
  Colour colour = 7;
  repeated int32 numbers = 8;
  map<string, int64> counts = 9;
  map<bool, Colour> by_flag = 10;
  map<int32, Node> nodes = 11;
  oneof choice {
    string first = 12;
    int32 second = 13;
  }
  optional string maybe = 14;
  Node tree = 15;
  google.protobuf.Timestamp at = 16;
  google.protobuf.Struct attributes = 17;
  google.protobuf.Any anything = 18;
  google.protobuf.DoubleValue ratio = 19;
  message Inner { string note = 1; }
  Inner inner = 20;
}
"""


def kinds_pool():
    return message_pool(compile_sources({"kinds.proto": EVERY_KIND}).files)


def depth_of(node: dict) -> int:
    return 1 + max((depth_of(child) for child in node.get("children", [])), default=0)


def test_sample_data_sets_one_value_of_the_right_kind_per_field():
    pool = kinds_pool()

    data = sample_data(pool.FindMessageTypeByName("kinds.v1.Everything"))

    assert isinstance(data["text"], str) and isinstance(data["blob"], str)
    assert data["flag"] is True and isinstance(data["price"], float) and isinstance(data["delta"], int)
    assert data["created_ms"] > 1_000_000_000_000
    assert data["colour"] == "COLOUR_RED"
    assert len(data["numbers"]) == 3
    assert set(data["by_flag"]) == {"true", "false"} and set(data["by_flag"].values()) == {"COLOUR_RED"}
    assert all(isinstance(key, str) for key in data["nodes"])
    assert "first" in data and "second" not in data
    assert "maybe" in data
    assert data["at"].endswith("Z") and isinstance(data["attributes"], dict)
    assert "anything" not in data
    assert data["inner"] == {"note": "note-1"}


def test_sample_data_stops_a_recursive_message_at_the_depth_limit():
    pool = kinds_pool()

    data = sample_data(pool.FindMessageTypeByName("kinds.v1.Node"))

    assert depth_of(data) == 1 + 3


def test_sample_data_becomes_a_message_that_round_trips_through_both_encodings():
    pool = kinds_pool()
    cls = message_class(pool, "kinds.v1.Everything")
    data = sample_data(cls.DESCRIPTOR)

    message = to_message(cls, data)

    assert cls.FromString(message.SerializeToString()) == message
    assert json.loads(json.dumps(data)) == data
    assert message.colour == 1 and message.WhichOneof("choice") == "first"


def test_messages_of_a_file_include_nested_ones_but_not_map_entries():
    pool = kinds_pool()

    names = [message.full_name for message in messages_of_file(pool, "kinds.proto")]

    assert names == ["kinds.v1.Node", "kinds.v1.Everything", "kinds.v1.Everything.Inner"]


def test_the_market_data_stream_sample_is_one_kilobyte_and_a_tick_more_at_most():
    samples = {sample.label: sample for sample in benchmarks.catalogue_samples(SCHEMAS_DIR)}
    stream = samples["MarketDataStream (1 KB)"]

    size = len(to_message(stream.cls, stream.data).SerializeToString())
    shorter = dict(stream.data, ticks=stream.data["ticks"][:-1])

    assert size >= benchmarks.STREAM_TARGET_BYTES
    assert len(to_message(stream.cls, shorter).SerializeToString()) < benchmarks.STREAM_TARGET_BYTES
    assert list(samples) == ["TickData", "MarketDataStream (1 KB)", "Order", "TechnicalIndicators"]


def test_measure_reports_both_sizes_and_checks_the_timings_against_the_spec():
    (tick,) = [sample for sample in benchmarks.catalogue_samples(SCHEMAS_DIR) if sample.label == "TickData"]

    row = benchmarks.measure(tick, SMOKE)

    assert row["protobuf_bytes"] == len(to_message(tick.cls, tick.data).SerializeToString())
    assert row["json_bytes"] == len(json.dumps(tick.data, separators=(",", ":")))
    assert row["json_default_bytes"] == len(json.dumps(tick.data))
    assert row["size_reduction"] == round(1 - row["protobuf_bytes"] / row["json_bytes"], 4)
    assert row["checks"]["serialize_under_1_ms"] == (row["protobuf_serialize_us"] < 1000)
    assert row["checks"]["parse_under_0_5_ms"] == (row["protobuf_parse_us"] < 500)


def test_time_call_reports_microseconds_per_call():
    timing = benchmarks.time_call(lambda: time.sleep(0.002), benchmarks.TimingSettings(repeats=2, min_seconds=0.01))

    assert 2000 <= timing.min_us <= timing.median_us


def test_time_call_calibrates_loops_to_fill_the_minimum_time():
    # A call that costs nothing needs many loops to fill 10 ms, however loaded the machine is.
    timing = benchmarks.time_call(lambda: None, benchmarks.TimingSettings(repeats=2, min_seconds=0.01))

    assert timing.loops >= 1000


def test_benchmark_serialization_writes_json_and_markdown_with_the_machine_and_backend(tmp_path, capsys):
    benchmark_serialization.main(["--quick", "--results", str(tmp_path)])

    report = json.loads((tmp_path / "serialization.json").read_text())
    assert report["machine"]["protobuf_backend"] == "upb"
    assert [row["message"] for row in report["results"]] == [label for label, _, _ in benchmarks.SERIALIZATION_SAMPLES]
    page = (tmp_path / "serialization.md").read_text()
    assert "| MarketDataStream (1 KB) |" in page
    assert "upb backend" in page


def test_benchmark_schema_measures_every_message_of_the_file(tmp_path):
    benchmark_schema.main([str(SCHEMAS_DIR / "trading" / "market_data.proto"), "--quick", "--results", str(tmp_path)])

    report = json.loads((tmp_path / "schema_trading_market_data.json").read_text())
    pool = message_pool(compile_sources(read_folder(SCHEMAS_DIR), ["trading/market_data.proto"]).files)
    expected = [message.full_name for message in messages_of_file(pool, "trading/market_data.proto")]
    assert [row["type"] for row in report["results"]] == expected
    assert report["file"] == "trading/market_data.proto"
    assert (tmp_path / "schema_trading_market_data.md").is_file()
