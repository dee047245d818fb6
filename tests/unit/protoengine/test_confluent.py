"""The CONFLUENT rule set gives Confluent Schema Registry's own protobuf verdicts, difference by difference.

Cases marked "Confluent's case" repeat examples from Confluent's own
`diff-schema-examples.json`, with the differences and verdict it expects.
"""

import threading
from itertools import permutations

import pytest

from protoengine.compiler import compile_sources
from protoengine.confluent_diff import DIFFERENCE_TYPES, MAX_REPEATED_DIFFERENCES, check, diff
from protoengine.findings import Finding

ROOT = "trading/v1/tick.proto"


def proto(*lines: str) -> str:
    """Join lines, so that a test reads line numbers straight off its arguments."""
    return "\n".join(lines) + "\n"


def schema(text: str, imports: dict[str, str] | None = None, path: str = ROOT):
    return compile_sources({path: text, **(imports or {})}, roots=[path]).files


def differences(previous, current) -> list[tuple[str, str, bool]]:
    return sorted((d.type, d.full_path, d.compatible) for d in diff(previous, current))


def p3(*body: str, package: str = "trading.v1") -> str:
    return proto('syntax = "proto3";', f"package {package};", *body)


def p2(*body: str) -> str:
    return proto('syntax = "proto2";', "package trading.v1;", *body)


# Package and messages.


def test_it_refuses_a_changed_package_at_the_package_statement_of_the_current_file():
    previous = schema(p3("message Tick {", "  string symbol = 1;", "}"))
    current = schema(p3("message Tick {", "  string symbol = 1;", "}", package="trading.v2"))

    assert differences(previous, current) == [("PACKAGE_CHANGED", "#/", False)]
    assert check(previous, current) == [
        Finding(
            ROOT,
            2,
            1,
            "FILE_SAME_PACKAGE",
            'Package changed from "trading.v1" to "trading.v2".',
            confluent="PACKAGE_CHANGED",
        )
    ]


def test_it_points_a_removed_package_at_the_previous_file():
    previous = schema(p3("message Tick {}"))
    current = schema(proto('syntax = "proto3";', "message Tick {}"))

    [finding] = check(previous, current)
    assert (finding.line, finding.column, finding.confluent) == (2, 1, "PACKAGE_CHANGED")
    assert finding.message == 'Package changed from "trading.v1" to no package.'


def test_it_allows_an_added_message():
    previous = schema(p3("message Tick {}"))
    current = schema(p3("message Tick {}", "message Quote {}"))

    assert differences(previous, current) == [("MESSAGE_ADDED", "#/Quote", True)]
    assert check(previous, current) == []


def test_it_refuses_a_removed_message_at_its_place_in_the_previous_file():
    previous = schema(p3("message Tick {}", "message Quote {", "  double bid = 1;", "}"))
    current = schema(p3("message Tick {}"))

    assert check(previous, current) == [
        Finding(ROOT, 4, 1, "MESSAGE_NO_DELETE", 'Message "trading.v1.Quote" was removed.', confluent="MESSAGE_REMOVED")
    ]


def test_it_matches_nested_messages_by_their_full_name():
    previous = schema(
        p3("message Book {", "  message Level {", "    double price = 1;", "  }", "  message Side {}", "}")
    )
    current = schema(
        p3("message Book {", "  message Level {", "    double price = 1;", "    double size = 2;", "  }", "}")
    )

    assert differences(previous, current) == [
        ("FIELD_ADDED", "#/Book/Level/2", True),
        ("MESSAGE_REMOVED", "#/Book/Side", False),
    ]
    [finding] = check(previous, current)
    assert (finding.line, finding.column, finding.message) == (7, 3, 'Message "trading.v1.Book.Side" was removed.')


def test_it_allows_reordered_messages_and_reports_them_as_moved():
    # Confluent's case: a record names its message by index in the schema it was written with.
    previous = schema(p3("message Tick {}", "message Quote {}"))
    current = schema(p3("message Quote {}", "message Tick {}"))

    assert differences(previous, current) == [("MESSAGE_MOVED", "#/Quote", True), ("MESSAGE_MOVED", "#/Tick", True)]
    assert check(previous, current) == []


def test_it_does_not_count_enums_when_it_numbers_messages():
    previous = schema(p3("message Tick {}", "message Quote {}"))
    current = schema(p3("enum Venue { VENUE_UNSPECIFIED = 0; }", "message Tick {}", "message Quote {}"))

    assert differences(previous, current) == [("ENUM_ADDED", "#/Venue", True)]


# Enums.


def test_it_allows_added_and_removed_enums():
    previous = schema(p3("enum Side { SIDE_UNSPECIFIED = 0; }"))
    current = schema(p3("enum Venue { VENUE_UNSPECIFIED = 0; }"))

    assert differences(previous, current) == [("ENUM_ADDED", "#/Venue", True), ("ENUM_REMOVED", "#/Side", True)]
    assert check(previous, current) == []


def test_it_allows_added_renamed_and_removed_enum_values():
    previous = schema(p3("enum Side {", "  SIDE_UNSPECIFIED = 0;", "  BUY = 1;", "  SELL = 2;", "}"))
    current = schema(p3("enum Side {", "  SIDE_UNSPECIFIED = 0;", "  BID = 1;", "  SHORT = 3;", "}"))

    assert differences(previous, current) == [
        ("ENUM_CONST_ADDED", "#/Side/3", True),
        ("ENUM_CONST_CHANGED", "#/Side/1", True),
        ("ENUM_CONST_REMOVED", "#/Side/2", True),
    ]
    assert check(previous, current) == []
    renamed = next(d for d in diff(previous, current) if d.type == "ENUM_CONST_CHANGED")
    assert (renamed.line, renamed.message) == (
        5,
        'Enum value 1 on enum "trading.v1.Side" was renamed from "BUY" to "BID".',
    )


# Fields: the lenient cases.


def test_it_allows_a_removed_field_and_shows_it_in_the_previous_file():
    # Confluent's case "Detect removed field".
    previous = schema(p3("message Tick {", "  string symbol = 1;", "  double bid = 2;", "}"))
    current = schema(p3("message Tick {", "  string symbol = 1;", "}"))

    [removed] = diff(previous, current)
    assert (removed.type, removed.full_path, removed.compatible) == ("FIELD_REMOVED", "#/Tick/2", True)
    assert (removed.path, removed.line, removed.column) == (ROOT, 5, 3)
    assert removed.message == 'Field 2 "bid" was removed from message "trading.v1.Tick".'
    assert check(previous, current) == []


def test_it_allows_a_changed_field_number_as_a_removal_and_an_addition():
    # Confluent's case "Detect changed field number".
    previous = schema(p3("message Tick {", "  string symbol = 1;", "}"))
    current = schema(p3("message Tick {", "  string symbol = 2;", "}"))

    assert differences(previous, current) == [("FIELD_ADDED", "#/Tick/2", True), ("FIELD_REMOVED", "#/Tick/1", True)]
    assert check(previous, current) == []


def test_it_allows_a_renamed_field():
    previous = schema(p3("message Tick {", "  double bid = 1;", "}"))
    current = schema(p3("message Tick {", "  double best_bid = 1;", "}"))

    [renamed] = diff(previous, current)
    assert (renamed.type, renamed.compatible, renamed.line, renamed.column) == ("FIELD_NAME_CHANGED", True, 4, 10)


GENERAL_NUMBERS = ["int32", "int64", "uint32", "uint64", "bool", "Side"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        *permutations(GENERAL_NUMBERS, 2),
        ("string", "bytes"),
        ("bytes", "string"),
        ("sint32", "sint64"),
        ("fixed32", "sfixed32"),
        ("sfixed64", "fixed64"),
    ],
)
def test_it_allows_a_scalar_change_within_a_wire_compatible_group(before, after):
    side = "enum Side { SIDE_UNSPECIFIED = 0; }"
    previous = schema(p3(side, "message Tick {", f"  {before} value = 1;", "}"))
    current = schema(p3(side, "message Tick {", f"  {after} value = 1;", "}"))

    assert diff(previous, current) == []


def test_it_allows_an_enum_field_to_change_to_another_enum():
    enums = ("enum Side { SIDE_UNSPECIFIED = 0; }", "enum Venue { VENUE_UNSPECIFIED = 0; }")
    previous = schema(p3(*enums, "message Tick {", "  Side value = 1;", "}"))
    current = schema(p3(*enums, "message Tick {", "  Venue value = 1;", "}"))

    assert diff(previous, current) == []


# Fields: the strict cases.


def test_it_refuses_a_scalar_kind_change_and_names_the_full_field():
    previous = schema(p3("message TickData {", "  string symbol = 1;", "  double bid = 2;", "}"))
    current = schema(p3("message TickData {", "  string symbol = 1;", "  string bid = 2;", "}"))

    assert check(previous, current) == [
        Finding(
            ROOT,
            5,
            3,
            "FIELD_WIRE_COMPATIBLE_TYPE",
            'Field 2 "bid" on message "trading.v1.TickData" changed kind from double to string.',
            confluent="FIELD_SCALAR_KIND_CHANGED",
        )
    ]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("int32", "sint32"),
        ("int64", "fixed64"),
        ("float", "double"),
        ("string", "int32"),
        ("fixed32", "fixed64"),
        ("bool", "sint64"),
        ("Side", "string"),
    ],
)
def test_it_refuses_a_scalar_change_across_groups(before, after):
    side = "enum Side { SIDE_UNSPECIFIED = 0; }"
    previous = schema(p3(side, "message Tick {", f"  {before} value = 1;", "}"))
    current = schema(p3(side, "message Tick {", f"  {after} value = 1;", "}"))

    assert [(f.confluent, f.rule, f.line) for f in check(previous, current)] == [
        ("FIELD_SCALAR_KIND_CHANGED", "FIELD_WIRE_COMPATIBLE_TYPE", 5)
    ]


def test_it_refuses_a_scalar_field_that_becomes_a_message():
    # Confluent's case "Detect incompatible field type change" (scalar to message).
    previous = schema(p3("message Tick {", "  int32 venue = 2;", "}"))
    current = schema(p3("message Tick {", "  Venue venue = 2;", "}", "message Venue {", "  string mic = 1;", "}"))

    assert differences(previous, current) == [
        ("FIELD_KIND_CHANGED", "#/Tick/2", False),
        ("MESSAGE_ADDED", "#/Venue", True),
    ]
    assert check(previous, current) == [
        Finding(
            ROOT,
            4,
            3,
            "FIELD_SAME_TYPE",
            'Field 2 "venue" on message "trading.v1.Tick" changed kind from int32 to message "trading.v1.Venue".',
            confluent="FIELD_KIND_CHANGED",
        )
    ]


def test_it_refuses_a_field_whose_message_type_changes_name():
    # Confluent's case: TestMessage2 becomes TestMessage3.
    previous = schema(p3("message Tick {", "  Price bid = 1;", "}", "message Price { double value = 1; }"))
    current = schema(p3("message Tick {", "  Amount bid = 1;", "}", "message Amount { double value = 1; }"))

    assert differences(previous, current) == [
        ("FIELD_NAMED_TYPE_CHANGED", "#/Tick/1", False),
        ("MESSAGE_ADDED", "#/Amount", True),
        ("MESSAGE_REMOVED", "#/Price", False),
    ]
    named = next(f for f in check(previous, current) if f.confluent == "FIELD_NAMED_TYPE_CHANGED")
    assert (named.rule, named.line, named.column) == ("FIELD_SAME_TYPE", 4, 3)
    assert (
        named.message
        == 'Field 1 "bid" on message "trading.v1.Tick" changed type from "trading.v1.Price" to "trading.v1.Amount".'
    )


def test_it_compares_the_value_type_of_maps_and_ignores_their_entry_messages():
    # Confluent's case: map<string, int32> becomes map<string, string>.
    previous = schema(p3("message Book {", "  map<string, int32> sizes = 2;", "}"))
    current = schema(p3("message Book {", "  map<string, string> labels = 2;", "}"))

    assert differences(previous, current) == [
        ("FIELD_NAME_CHANGED", "#/Book/2", True),
        ("FIELD_SCALAR_KIND_CHANGED", "#/Book/2", False),
    ]


def test_it_allows_a_removed_map_field_without_a_removed_message():
    previous = schema(p3("message Book {", "  string name = 1;", "  map<string, string> tags = 10;", "}"))
    current = schema(p3("message Book {", "  string name = 1;", "}"))

    assert differences(previous, current) == [("FIELD_REMOVED", "#/Book/10", True)]


def test_it_refuses_a_numeric_label_change():
    # Confluent's case "Detect incompatible field label change for number".
    previous = schema(p3("message Tick {", "  optional int32 size = 1;", "}"))
    current = schema(p3("message Tick {", "  repeated int32 size = 1;", "}"))

    assert check(previous, current) == [
        Finding(
            ROOT,
            4,
            3,
            "FIELD_WIRE_COMPATIBLE_CARDINALITY",
            'Field 1 "size" on message "trading.v1.Tick" changed label from optional to repeated.',
            confluent="FIELD_NUMERIC_LABEL_CHANGED",
        )
    ]


@pytest.mark.parametrize("scalar", ["string", "bytes"])
def test_it_allows_a_string_or_bytes_label_change(scalar):
    previous = schema(p3("message Tick {", f"  optional {scalar} note = 1;", "}"))
    current = schema(p3("message Tick {", f"  repeated {scalar} note = 1;", "}"))

    assert differences(previous, current) == [("FIELD_STRING_OR_BYTES_LABEL_CHANGED", "#/Tick/1", True)]
    assert check(previous, current) == []


def test_it_ignores_labels_of_message_fields_and_labels_the_text_does_not_write():
    # Confluent compares only written labels: a proto3 implicit field has none.
    previous = schema(p3("message Tick {", "  optional Price bid = 1;", "  int32 size = 2;", "}", "message Price {}"))
    current = schema(
        p3("message Tick {", "  repeated Price bid = 1;", "  repeated int32 size = 2;", "}", "message Price {}")
    )

    assert diff(previous, current) == []


def test_it_refuses_an_added_required_field():
    # Confluent's case "Detect added required field".
    previous = schema(p2("message Tick {", "  optional string symbol = 1;", "}"))
    current = schema(p2("message Tick {", "  optional string symbol = 1;", "  required double bid = 2;", "}"))

    assert check(previous, current) == [
        Finding(
            ROOT,
            5,
            3,
            "MESSAGE_SAME_REQUIRED_FIELDS",
            'Required field 2 "bid" was added to message "trading.v1.Tick".',
            confluent="REQUIRED_FIELD_ADDED",
        )
    ]


def test_it_refuses_a_removed_required_field_at_its_place_in_the_previous_file():
    previous = schema(p2("message Tick {", "  optional string symbol = 1;", "  required double bid = 2;", "}"))
    current = schema(p2("message Tick {", "  optional string symbol = 1;", "}"))

    assert check(previous, current) == [
        Finding(
            ROOT,
            5,
            3,
            "MESSAGE_SAME_REQUIRED_FIELDS",
            'Required field 2 "bid" was removed from message "trading.v1.Tick".',
            confluent="REQUIRED_FIELD_REMOVED",
        )
    ]


def test_it_ignores_proto2_groups_as_confluent_does():
    previous = schema(p2("message Tick {", "  optional group Extra = 1 { optional int32 a = 1; }", "}"))
    current = schema(p2("message Tick {", "}"))

    assert diff(previous, current) == []


# Oneofs.


def test_it_allows_a_single_field_moved_into_a_new_oneof():
    # Confluent's case "Detect compatible move field to oneof".
    previous = schema(p3("message Tick {", "  string symbol = 1;", "  string venue = 2;", "}"))
    current = schema(
        p3("message Tick {", "  string symbol = 1;", "  oneof where {", "    string venue = 2;", "  }", "}")
    )

    assert differences(previous, current) == [("ONEOF_ADDED", "#/Tick/where", True)]


def test_it_allows_a_removed_oneof():
    previous = schema(p3("message Tick {", "  oneof where {", "    string venue = 2;", "  }", "}"))
    current = schema(p3("message Tick {", "}"))

    [removed] = diff(previous, current)
    assert (removed.type, removed.compatible, removed.line, removed.column) == ("ONEOF_REMOVED", True, 4, 3)


def test_it_allows_a_field_added_to_a_oneof():
    previous = schema(p3("message Tick {", "  oneof where {", "    string venue = 2;", "  }", "}"))
    current = schema(
        p3("message Tick {", "  oneof where {", "    string venue = 2;", "    int32 venue_id = 3;", "  }", "}")
    )

    assert differences(previous, current) == [("ONEOF_FIELD_ADDED", "#/Tick/where/3", True)]


def test_it_refuses_a_field_removed_from_a_oneof():
    # Confluent's case "Detect incompatible remove field from oneof".
    previous = schema(
        p3("message Tick {", "  oneof where {", "    string venue = 2;", "    int32 venue_id = 3;", "  }", "}")
    )
    current = schema(p3("message Tick {", "  oneof where {", "    string venue = 2;", "  }", "}"))

    assert check(previous, current) == [
        Finding(
            ROOT,
            6,
            5,
            "FIELD_NO_DELETE",
            'Field 3 "venue_id" was removed from oneof "where" on message "trading.v1.Tick".',
            confluent="ONEOF_FIELD_REMOVED",
        )
    ]


def test_it_allows_a_field_moved_out_of_a_oneof():
    previous = schema(
        p3("message Tick {", "  oneof where {", "    string venue = 2;", "    int32 venue_id = 3;", "  }", "}")
    )
    current = schema(
        p3("message Tick {", "  oneof where {", "    string venue = 2;", "  }", "  int32 venue_id = 3;", "}")
    )

    assert differences(previous, current) == [("FIELD_ADDED", "#/Tick/3", True)]
    assert check(previous, current) == []


def test_it_refuses_an_incompatible_change_of_a_field_that_left_its_oneof():
    previous = schema(
        p3("message Tick {", "  oneof where {", "    string venue = 2;", "    int32 venue_id = 3;", "  }", "}")
    )
    current = schema(
        p3("message Tick {", "  oneof where {", "    string venue = 2;", "  }", "  double venue_id = 3;", "}")
    )

    assert [(f.confluent, f.line, f.column) for f in check(previous, current)] == [("FIELD_SCALAR_KIND_CHANGED", 7, 3)]


def test_it_refuses_several_fields_moved_into_one_oneof():
    # Confluent's case "Detect incompatible field to oneof change".
    previous = schema(p3("message Tick {", "  string venue = 1;", "  int32 venue_id = 2;", "}"))
    current = schema(
        p3(
            "message Tick {",
            "  oneof where {",
            "    string venue = 1;",
            "    int32 venue_id = 2;",
            "    string mic = 3;",
            "  }",
            "}",
        )
    )

    assert differences(previous, current) == [
        ("MULTIPLE_FIELDS_MOVED_TO_ONEOF", "#/Tick/where", False),
        ("ONEOF_ADDED", "#/Tick/where", True),
    ]
    assert check(previous, current) == [
        Finding(
            ROOT,
            4,
            3,
            "FIELD_SAME_ONEOF",
            'Oneof "where" on message "trading.v1.Tick" now makes fields exclusive that could be set together before '
            '(1 "venue", 2 "venue_id").',
            confluent="MULTIPLE_FIELDS_MOVED_TO_ONEOF",
        )
    ]


def test_it_refuses_a_field_moved_into_an_existing_oneof():
    # Confluent's case "Detect incompatible move field to oneof".
    previous = schema(
        p3("message Tick {", "  string symbol = 1;", "  oneof where {", "    string venue = 2;", "  }", "}")
    )
    current = schema(
        p3("message Tick {", "  oneof where {", "    string symbol = 1;", "    string venue = 2;", "  }", "}")
    )

    assert differences(previous, current) == [
        ("FIELD_MOVED_TO_EXISTING_ONEOF", "#/Tick/where", False),
        ("ONEOF_FIELD_ADDED", "#/Tick/where/1", True),
    ]
    [finding] = check(previous, current)
    assert (finding.rule, finding.line, finding.column) == ("FIELD_SAME_ONEOF", 4, 3)


def test_it_refuses_a_field_moved_into_a_renamed_oneof():
    # Confluent's case "Detect incompatible move field to renamed oneof".
    previous = schema(
        p3("message Tick {", "  string symbol = 1;", "  oneof where {", "    string venue = 2;", "  }", "}")
    )
    current = schema(
        p3("message Tick {", "  oneof place {", "    string symbol = 1;", "    string venue = 2;", "  }", "}")
    )

    assert differences(previous, current) == [
        ("FIELD_MOVED_TO_EXISTING_ONEOF", "#/Tick/place", False),
        ("ONEOF_ADDED", "#/Tick/place", True),
        ("ONEOF_REMOVED", "#/Tick/where", True),
    ]


def test_it_refuses_merging_two_oneofs():
    previous = schema(
        p3(
            "message Tick {",
            "  oneof where {",
            "    string venue = 1;",
            "  }",
            "  oneof when {",
            "    int64 at = 2;",
            "  }",
            "}",
        )
    )
    current = schema(p3("message Tick {", "  oneof where {", "    string venue = 1;", "    int64 at = 2;", "  }", "}"))

    assert [f.confluent for f in check(previous, current)] == ["FIELD_MOVED_TO_EXISTING_ONEOF"]


def test_it_ignores_the_synthetic_oneofs_of_proto3_optional_fields():
    previous = schema(p3("message Tick {", "  double bid = 1;", "}"))
    current = schema(p3("message Tick {", "  optional double bid = 1;", "}"))

    assert diff(previous, current) == []


# Imported files and well-known types.

VENUE = "common/v1/venue.proto"


def venue(*body: str, package: str = "common.v1") -> dict[str, str]:
    return {VENUE: proto('syntax = "proto3";', f"package {package};", *body)}


def ticks_using(type_name: str, *fields: str) -> str:
    return p3(f'import "{VENUE}";', "message Tick {", f"  {type_name} venue = 1;", *fields, "}")


def test_it_refuses_an_incompatible_change_inside_an_imported_message_at_both_places():
    # Confluent's case "Detect incompatible import change".
    previous = schema(ticks_using("common.v1.Venue"), venue("message Venue {", "  int32 id = 1;", "}"))
    current = schema(ticks_using("common.v1.Venue"), venue("message Venue {", "  string id = 1;", "}"))

    assert check(previous, current) == [
        Finding(
            VENUE,
            4,
            3,
            "FIELD_WIRE_COMPATIBLE_TYPE",
            'Field 1 "id" on message "common.v1.Venue" changed kind from int32 to string.',
            confluent="FIELD_SCALAR_KIND_CHANGED",
        ),
        Finding(
            ROOT,
            5,
            3,
            "FIELD_SAME_TYPE",
            'Field 1 "venue" on message "trading.v1.Tick" has type "common.v1.Venue", whose definition changed '
            "incompatibly.",
            confluent="FIELD_NAMED_TYPE_CHANGED",
        ),
    ]
    assert differences(previous, current)[0][:2] == ("FIELD_NAMED_TYPE_CHANGED", "#/Tick/1")
    assert ("FIELD_SCALAR_KIND_CHANGED", "#/Venue/1", False) in differences(previous, current)


def test_it_allows_an_imported_message_that_moved_to_another_package_unchanged():
    # Confluent's case "Detect import change with different remote package nested name".
    previous = schema(
        ticks_using("common.v1.Outer.Venue"), venue("message Outer {", "  message Venue { int32 id = 1; }", "}")
    )
    current = schema(
        ticks_using("common.v2.Outer.Venue"),
        venue("message Outer {", "  message Venue { int32 id = 1; }", "}", package="common.v2"),
    )

    assert diff(previous, current) == []


def test_it_refuses_a_message_moved_from_the_root_into_an_import():
    # Confluent's case "Detect moving to import": only the removal from the root counts.
    previous = schema(p3("message Tick {", "  Venue venue = 1;", "}", "message Venue { int32 id = 1; }"))
    current = schema(ticks_using("common.v1.Venue"), venue("message Venue { int32 id = 1; }"))

    assert differences(previous, current) == [("MESSAGE_REMOVED", "#/Venue", False)]


def test_it_allows_a_message_moved_from_an_import_into_the_root():
    # Confluent's case "Detect moving from import".
    previous = schema(ticks_using("common.v1.Venue"), venue("message Venue { int32 id = 1; }"))
    current = schema(p3("message Tick {", "  Venue venue = 1;", "}", "message Venue { int32 id = 1; }"))

    assert differences(previous, current) == [("MESSAGE_ADDED", "#/Venue", True)]


def test_it_reports_a_change_in_an_import_used_by_two_fields_once_per_place():
    previous = schema(
        ticks_using("common.v1.Venue", "  common.v1.Venue backup = 2;"), venue("message Venue { int32 id = 1; }")
    )
    current = schema(
        ticks_using("common.v1.Venue", "  common.v1.Venue backup = 2;"), venue("message Venue { string id = 1; }")
    )

    assert [(f.path, f.confluent) for f in check(previous, current)] == [
        (VENUE, "FIELD_SCALAR_KIND_CHANGED"),
        (ROOT, "FIELD_NAMED_TYPE_CHANGED"),
        (ROOT, "FIELD_NAMED_TYPE_CHANGED"),
    ]


def test_it_ends_on_recursive_imported_messages():
    previous = schema(
        ticks_using("common.v1.Venue"), venue("message Venue {", "  Venue parent = 1;", "  int32 id = 2;", "}")
    )
    current = schema(
        ticks_using("common.v1.Venue"), venue("message Venue {", "  Venue parent = 1;", "  sint32 id = 2;", "}")
    )

    assert [f.confluent for f in check(previous, current)] == ["FIELD_SCALAR_KIND_CHANGED", "FIELD_NAMED_TYPE_CHANGED"]


def diamond(depth: int, bottom: str) -> dict[str, str]:
    """Return an import whose message at each level refers twice to the next: 2**depth paths to the bottom."""
    levels = [f"message Level{i} {{ Level{i + 1} left = 1; Level{i + 1} right = 2; }}" for i in range(depth)]
    return venue(*levels, f"message Level{depth} {{ {bottom} }}")


def diff_within(seconds: float, previous, current) -> list:
    """Run the diff in a thread so that a walk along every path fails the test instead of hanging it."""
    found = []
    worker = threading.Thread(target=lambda: found.append(diff(previous, current)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"the diff did not finish within {seconds} s"
    return found[0]


@pytest.mark.parametrize(
    ("bottom", "change", "compatible"),
    [
        pytest.param("int32 id = 1; string note = 2;", "FIELD_ADDED", True, id="a field added at the bottom"),
        pytest.param("string id = 1;", "FIELD_SCALAR_KIND_CHANGED", False, id="a field retyped at the bottom"),
    ],
)
def test_it_compares_a_message_reached_along_many_paths_once(bottom, change, compatible):
    previous = schema(ticks_using("common.v1.Level0"), diamond(30, "int32 id = 1;"))
    current = schema(ticks_using("common.v1.Level0"), diamond(30, bottom))

    found = diff_within(10, previous, current)

    assert (change, "#/Level30/2" if compatible else "#/Level30/1") in [(d.type, d.full_path) for d in found]
    assert all(d.compatible for d in found) == compatible
    assert len(found) <= MAX_REPEATED_DIFFERENCES + len(set(found)), "repeats stop at the bound"
    if not compatible:
        assert ("FIELD_NAMED_TYPE_CHANGED", "#/Tick/1") in [(d.type, d.full_path) for d in found]


def test_it_uses_well_known_types_without_comparing_them():
    timestamp = p3(
        'import "google/protobuf/timestamp.proto";', "message Tick {", "  google.protobuf.Timestamp at = 1;", "}"
    )
    duration = p3(
        'import "google/protobuf/duration.proto";', "message Tick {", "  google.protobuf.Duration at = 1;", "}"
    )

    assert diff(schema(timestamp), schema(timestamp)) == []
    assert [(f.confluent, f.line) for f in check(schema(timestamp), schema(duration))] == [
        ("FIELD_NAMED_TYPE_CHANGED", 5)
    ]


def test_it_compares_the_last_file_as_the_root():
    quote = proto('syntax = "proto3";', "package trading.v1;", "message Quote {}")
    previous = compile_sources({"trading/v1/quote.proto": quote, ROOT: p3("message Tick {}")}).own_files
    current = compile_sources(
        {"trading/v1/quote.proto": proto('syntax = "proto3";', "package trading.v1;"), ROOT: p3("message Tick {}")}
    ).own_files

    assert [f.name for f in previous][-1] == ROOT
    assert diff(previous, current) == []


def test_it_has_nothing_to_say_without_a_previous_schema():
    assert check([], schema(p3("message Tick {}"))) == []


# Directions and the table.


def test_a_forward_check_swaps_the_arguments_as_confluent_does():
    previous = schema(p3("message Tick {}"))
    current = schema(p3("message Tick {}", "message Quote {}"))

    assert check(previous, current) == []
    assert check(current, previous) == [
        Finding(ROOT, 4, 1, "MESSAGE_NO_DELETE", 'Message "trading.v1.Quote" was removed.', confluent="MESSAGE_REMOVED")
    ]


EVOLVING = p3(
    "message Tick {",
    "  int32 qty = 1;",
    "  string note = 2;",
    "}",
    "enum Side {",
    "  SIDE_UNSPECIFIED = 0;",
    "  SIDE_BUY = 1;",
    "}",
)

NOTE = "  string note = 2;\n"


@pytest.mark.parametrize(
    "current",
    [
        pytest.param(EVOLVING + "message Quote {}\n", id="a message added"),
        pytest.param(EVOLVING + "enum Venue {\n  VENUE_UNSPECIFIED = 0;\n}\n", id="an enum added"),
        pytest.param(EVOLVING.replace("  SIDE_BUY = 1;\n", "  SIDE_BUY = 1;\n  SIDE_SELL = 2;\n"), id="a value added"),
        pytest.param(EVOLVING.replace("SIDE_BUY = 1", "SIDE_LONG = 1"), id="a value renamed"),
        pytest.param(EVOLVING.replace("  SIDE_BUY = 1;\n", ""), id="a value removed"),
        pytest.param(
            EVOLVING.replace("  string note = 2;\n", "  string note = 2;\n  int64 at = 3;\n"), id="a field added"
        ),
        pytest.param(EVOLVING.replace("  string note = 2;\n", ""), id="a field removed"),
        pytest.param(EVOLVING.replace("string note = 2", "string remark = 2"), id="a field renamed"),
        pytest.param(
            EVOLVING.replace(
                "  string note = 2;\n", "  string note = 2;\n  oneof where {\n    string venue = 3;\n  }\n"
            ),
            id="a oneof added",
        ),
    ],
)
def test_confluent_accepts_the_changes_it_calls_compatible(current):
    assert check(schema(EVOLVING), schema(current)) == []


def test_confluent_refuses_a_changed_scalar_kind_and_a_removed_message_with_a_rule_id():
    [retyped] = check(schema(EVOLVING), schema(EVOLVING.replace("int32 qty", "string qty")))
    [removed] = check(schema(EVOLVING + "message Quote {}\n"), schema(EVOLVING))
    assert (retyped.confluent, removed.confluent) == ("FIELD_SCALAR_KIND_CHANGED", "MESSAGE_REMOVED")
    assert retyped.rule and removed.rule == "MESSAGE_NO_DELETE"
    assert all(row.rule for row in DIFFERENCE_TYPES.values() if not row.compatible), (
        "every incompatible difference maps to a rule id"
    )
