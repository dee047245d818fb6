"""The lazy position finder answers exactly as a full index of every location would, in any order of questions."""

import random

from protoengine.compiler import compile_sources
from protoengine.locations import PositionFinder, SourceIndex

RICH = """syntax = "proto2";
package acme.v1;

option go_package = "example.com/acme/v1";

// A quote, with a comment that holds "quotes", \\ backslashes and non-ASCII: é, 漢字.
message Quote {
  option deprecated = true;
  optional string symbol = 1 [json_name = "ticker", deprecated = true];
  repeated double levels = 2 [packed = true];
  map<string, int64> sizes = 3;
  oneof venue {
    string exchange = 4;
    int32 pool = 5;
  }
  optional group Leg = 6 {
    optional int64 qty = 1;
  }
  message Nested {
    enum Kind {
      KIND_UNSPECIFIED = 0;
      KIND_A = 1;
    }
    optional Kind kind = 1 [default = KIND_A];
  }
  extensions 100 to 199;
  reserved 20 to 29, 40;
  reserved "old";
}

extend Quote {
  optional int32 tag = 100;
}

enum Side {
  SIDE_UNSPECIFIED = 0;
  SIDE_BUY = 1;
  reserved 5 to 9;
}

service Quotes {
  rpc Get(Quote) returns (stream Quote) {
    option idempotency_level = NO_SIDE_EFFECTS;
  }
}
""" + "".join(f"\nmessage Filler{i} {{\n  optional int32 f = {i + 1};\n}}\n" for i in range(200))


def compiled():
    return compile_sources({"rich.proto": RICH}).file("rich.proto")


def full_index(file) -> dict:
    """The plain way: read every location, keep the first span of each path."""
    spans = {}
    for location in file.source_code_info.location:
        spans.setdefault(tuple(location.path), (location.span[0] + 1, location.span[1] + 1))
    return spans


def test_every_recorded_path_has_the_position_a_full_index_gives():
    file = compiled()
    paths = [tuple(location.path) for location in file.source_code_info.location if location.path]
    random.Random(7).shuffle(paths)  # answers must not depend on the order of the questions
    expected = full_index(file)
    finder, index = PositionFinder(file), SourceIndex(file)
    assert [finder.position(path) for path in paths] == [expected[path] for path in paths]
    assert [index.position(path) for path in paths] == [expected[path] for path in paths]


def test_comments_are_found_by_element_path():
    file = compiled()
    index = SourceIndex(file)
    assert "A quote, with a comment" in index.leading_comment((4, 0))
    assert index.comment((4, 0)).startswith(" A quote")
    assert index.leading_comment((4, 0, 2, 0)) == ""


def test_an_unrecorded_path_falls_back_to_its_nearest_recorded_parent():
    file = compiled()
    quote_field = (4, 0, 2, 0)
    assert PositionFinder(file).position(quote_field + (99, 5)) == full_index(file)[quote_field] == (9, 3)
    assert PositionFinder(file).position((99,)) == (0, 0)


def test_every_recorded_path_has_the_comments_a_full_scan_gives():
    file = compiled()
    expected = {}
    for location in file.source_code_info.location:
        expected.setdefault(tuple(location.path), (location.leading_comments, location.trailing_comments))
    paths = [path for path in expected if path]
    random.Random(11).shuffle(paths)
    finder = PositionFinder(file)
    assert [finder.comments(path) for path in paths] == [expected[path] for path in paths]
