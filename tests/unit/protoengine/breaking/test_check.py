"""The comparison as a whole: matching across files, rule selection, messages, and syntax-independent meaning."""

import pytest

from protoengine.breaking import CATEGORIES, DEPRECATED_RULE_IDS, RULES, check, resolve_rule_ids, rule_ids_in
from protoengine.compiler import compile_sources

ALL = list(CATEGORIES)
P3 = 'syntax = "proto3";\npackage trading.v1;\n\n'
TICK = P3 + "message TickData {\n  string symbol = 1;\n  double bid = 3;\n}\n"


def files(mapping: dict[str, str] | str, *, with_imports: bool = False):
    result = compile_sources({"a.proto": mapping} if isinstance(mapping, str) else mapping)
    return result.files if with_imports else result.own_files


def rules_of(findings) -> set[str]:
    return {finding.rule for finding in findings}


# Matching


def test_a_changed_type_reads_as_a_sentence():
    [finding] = check(files(TICK), files(TICK.replace("double bid", "float bid")), ["FIELD_SAME_TYPE"])
    assert finding.message == 'Field "3" with name "bid" on message "TickData" changed type from "double" to "float".'
    assert (finding.path, finding.line, finding.column, finding.end_line, finding.end_column) == ("a.proto", 6, 3, 6, 8)


def test_types_are_matched_by_full_name_across_files():
    previous = files({"a.proto": TICK, "b.proto": P3 + "message Quote {}\n"})
    moved_and_changed = TICK.removeprefix(P3).replace("double bid", "float bid")
    current = files({"a.proto": P3 + "message Other {}\n", "b.proto": P3 + "message Quote {}\n" + moved_and_changed})
    findings = check(previous, current, ALL)
    assert rules_of(findings) == {
        "MESSAGE_NO_DELETE",
        "FIELD_SAME_TYPE",
        "FIELD_WIRE_COMPATIBLE_TYPE",
        "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
    }
    assert {f.path for f in findings if f.rule.startswith("FIELD")} == {"b.proto"}, (
        "the moved message's fields are still compared"
    )
    assert rules_of(check(previous, current, ["PACKAGE"])) == {"FIELD_SAME_TYPE"}, (
        "a move within the package deletes nothing"
    )


def test_a_deleted_field_points_at_its_message_in_the_current_file_even_after_a_move():
    previous = files({"old.proto": TICK})
    current = files({"new.proto": TICK.replace("  double bid = 3;\n", "")})
    [finding] = check(previous, current, ["FIELD_NO_DELETE"])
    assert (finding.path, finding.line, finding.column, finding.end_line, finding.end_column) == (
        "new.proto",
        4,
        1,
        6,
        2,
    )
    assert finding.message == 'Previously present field "3" with name "bid" on message "TickData" was deleted.'


def test_well_known_type_files_are_ignored_when_present():
    text = (
        P3 + 'import "google/protobuf/timestamp.proto";\n\nmessage TickData {\n  google.protobuf.Timestamp at = 1;\n}\n'
    )
    assert check(files(text, with_imports=True), files(text), ALL) == []
    assert check(files(text), files(text, with_imports=True), ALL) == []


def test_findings_are_sorted_by_path_line_and_column():
    previous = files(
        {"a.proto": TICK, "b.proto": P3.replace("trading", "b") + "message Q {\n  int32 x = 1;\n  int32 y = 2;\n}\n"}
    )
    current = files(
        {
            "a.proto": TICK.replace("string symbol", "bytes symbol").replace("double bid", "float bid"),
            "b.proto": P3.replace("trading", "b") + "message Q {\n  sint32 x = 1;\n}\n",
        }
    )
    findings = check(previous, current, ALL)
    assert len({f.path for f in findings}) == 2
    assert [(f.path, f.line, f.column) for f in findings] == sorted((f.path, f.line, f.column) for f in findings)


def test_a_message_deleted_with_its_nested_types_reports_each_by_its_name_in_the_file_as_buf_does():
    previous = files(P3 + "message Outer {\n  message Inner {}\n  enum Kind {\n    KIND_UNSPECIFIED = 0;\n  }\n}\n")
    findings = check(previous, files(P3), ["FILE"])
    assert sorted((f.rule, f.message, f.line) for f in findings) == [
        ("ENUM_NO_DELETE", 'Previously present enum "Outer.Kind" was deleted from file.', 0),
        ("MESSAGE_NO_DELETE", 'Previously present message "Outer" was deleted from file.', 0),
        ("MESSAGE_NO_DELETE", 'Previously present message "Outer.Inner" was deleted from file.', 0),
    ]


def test_a_map_value_change_is_reported_on_the_map_fields_type():
    text = P3 + "message Book {\n  map<string, int32> levels = 1;\n}\n"
    [finding] = check(files(text), files(text.replace("int32>", "int64>")), ["FIELD_SAME_TYPE"])
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (5, 3, 5, 21)
    assert (
        finding.message == 'Field "2" with name "value" on message "LevelsEntry" changed type from "int32" to "int64".'
    )


def test_a_deleted_map_field_also_deletes_its_entry_message_as_buf_sees_it():
    text = P3 + "message Book {\n  string venue = 1;\n  map<string, int32> levels = 2;\n}\n"
    findings = check(files(text), files(text.replace("  map<string, int32> levels = 2;\n", "")), ["FILE", "PACKAGE"])
    assert rules_of(findings) == {"FIELD_NO_DELETE", "MESSAGE_NO_DELETE", "PACKAGE_MESSAGE_NO_DELETE"}
    assert {f.message for f in findings if f.rule == "MESSAGE_NO_DELETE"} == {
        'Previously present message "Book.LevelsEntry" was deleted from file.'
    }


def test_a_map_and_a_repeated_entry_differ_in_json_only():
    previous = files(
        P3 + "message Book {\n  message LevelsEntry {\n    string key = 1;\n    int32 value = 2;\n  }\n  repeated "
        "LevelsEntry levels = 1;\n}\n"
    )
    current = files(P3 + "message Book {\n  map<string, int32> levels = 1;\n}\n")
    assert rules_of(
        check(previous, current, ["FIELD_WIRE_COMPATIBLE_CARDINALITY", "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"])
    ) == {"FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"}


def test_extensions_are_matched_by_extended_message_and_number():
    base = (
        'syntax = "proto2";\npackage trading.v1;\n\nmessage Base {\n  extensions 100 to 199;\n}\n\nextend Base {\n '
        " optional int32 tag = 100;\n}\n"
    )
    [finding] = check(files(base), files(base.replace("int32 tag", "string tag")), ["FIELD_SAME_TYPE"])
    assert (
        finding.message
        == 'Extension "100" with name "trading.v1.tag" on message "trading.v1.Base" changed type from "int32" to '
        '"string".'
    )


# What the wire allows


def test_string_may_become_bytes_on_the_wire_but_not_the_reverse():
    text = P3 + "message Blob {\n  string data = 1;\n}\n"
    assert check(files(text), files(text.replace("string data", "bytes data")), ["WIRE"]) == []
    [finding] = check(files(text.replace("string data", "bytes data")), files(text), ["WIRE"])
    assert "there is no way to enforce that a bytes field is UTF-8" in finding.message


def test_an_enum_may_move_if_it_keeps_its_short_name_and_values():
    enum = "enum Side {\n  SIDE_UNSPECIFIED = 0;\n  SIDE_BUY = 1;\n}\n"
    previous = files({"a.proto": P3 + enum + "message Order {\n  Side side = 1;\n}\n"})
    moved = files(
        {
            "a.proto": P3 + 'import "b.proto";\n\nmessage Order {\n  common.v1.Side side = 1;\n}\n',
            "b.proto": 'syntax = "proto3";\npackage common.v1;\n\n'
            + enum.replace("SIDE_BUY = 1;", "SIDE_BUY = 1;\n  SIDE_SELL = 2;"),
        }
    )
    renamed = files(
        {
            "a.proto": P3
            + enum.replace("Side", "Direction").replace("SIDE_", "DIRECTION_")
            + "message Order {\n  Direction side = 1;\n}\n"
        }
    )
    assert check(previous, moved, ["FIELD_WIRE_COMPATIBLE_TYPE", "FIELD_WIRE_JSON_COMPATIBLE_TYPE"]) == []
    assert rules_of(check(previous, renamed, ["FIELD_WIRE_COMPATIBLE_TYPE", "FIELD_WIRE_JSON_COMPATIBLE_TYPE"])) == {
        "FIELD_WIRE_COMPATIBLE_TYPE",
        "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
    }


def test_a_proto3_field_becoming_optional_keeps_the_wire_but_not_the_generated_code():
    previous = files(TICK)
    current = files(TICK.replace("double bid", "optional double bid"))
    assert check(previous, current, ["WIRE", "WIRE_JSON"]) == []
    assert rules_of(check(previous, current, ["FILE"])) == {"FIELD_SAME_CARDINALITY"}


# One meaning, whatever the syntax


PROTO2 = """syntax = "proto2";
package trading.v1;

enum Side {
  SIDE_UNSPECIFIED = 0;
  SIDE_BUY = 1;
}

message Order {
  required string id = 1;
  optional Side side = 2 [default = SIDE_BUY];
  repeated int32 fills = 3;
  optional group Leg = 4 {
    optional int64 qty = 1;
  }
}
"""

EDITIONS = """edition = "2023";
package trading.v1;

option features.enum_type = CLOSED;
option features.utf8_validation = NONE;
option features.repeated_field_encoding = EXPANDED;
option features.json_format = LEGACY_BEST_EFFORT;

enum Side {
  SIDE_UNSPECIFIED = 0;
  SIDE_BUY = 1;
}

message Order {
  string id = 1 [features.field_presence = LEGACY_REQUIRED];
  Side side = 2 [default = SIDE_BUY];
  repeated int32 fills = 3;
  message Leg {
    int64 qty = 1;
  }
  Leg leg = 4 [features.message_encoding = DELIMITED];
}
"""


def test_rewriting_proto2_as_editions_without_changing_meaning_breaks_only_the_syntax_rule():
    assert rules_of(check(files(PROTO2), files(EDITIONS), ALL)) == {"FILE_SAME_SYNTAX"}


def test_editions_features_change_presence_requiredness_and_encoding():
    previous = files(EDITIONS)
    current = files(
        EDITIONS.replace(" [features.field_presence = LEGACY_REQUIRED]", "")
        .replace(" [features.message_encoding = DELIMITED]", "")
        .replace("CLOSED", "OPEN")
    )
    assert rules_of(check(previous, current, ALL)) >= {
        "MESSAGE_SAME_REQUIRED_FIELDS",
        "FIELD_SAME_CARDINALITY",
        "FIELD_SAME_TYPE",
        "FIELD_WIRE_COMPATIBLE_TYPE",
        "ENUM_SAME_TYPE",
    }


def test_reordering_a_closed_enum_changes_the_default_of_fields_that_set_none():
    enum = "enum Side {\n  SIDE_BUY = 1;\n  SIDE_SELL = 2;\n}\n"
    text = 'syntax = "proto2";\npackage trading.v1;\n\n' + enum + "message Order {\n  optional Side side = 1;\n}\n"
    reordered = text.replace("  SIDE_BUY = 1;\n  SIDE_SELL = 2;\n", "  SIDE_SELL = 2;\n  SIDE_BUY = 1;\n")
    [finding] = check(files(text), files(reordered), ["FIELD_SAME_DEFAULT"])
    assert (
        finding.message
        == 'Field "1" with name "side" on message "Order" changed default value from SIDE_BUY to SIDE_SELL.'
    )


def test_a_default_written_differently_is_the_same_default():
    text = (
        'syntax = "proto2";\npackage trading.v1;\n\nmessage Limits {\n  optional float ratio = 1 [default = 0.1];\n}\n'
    )
    assert check(files(text), files(text.replace("float ratio", "double ratio")), ["FIELD_SAME_DEFAULT"]) == []
    assert check(files(text), files(text.replace("0.1", "1e-1")), ["FIELD_SAME_DEFAULT"]) == []


# Choosing rules


def test_the_default_selection_is_the_file_category():
    assert resolve_rule_ids() == rule_ids_in("FILE")


ORDER = P3 + "message Order {\n  int32 qty = 1;\n  string note = 2;\n}\nmessage Quote {}\n"


@pytest.mark.parametrize(
    ("category", "retyped", "message_deleted", "field_deleted"),
    [
        ("FILE", {"FIELD_SAME_TYPE"}, {"MESSAGE_NO_DELETE"}, {"FIELD_NO_DELETE"}),
        ("PACKAGE", {"FIELD_SAME_TYPE"}, {"PACKAGE_MESSAGE_NO_DELETE"}, {"FIELD_NO_DELETE"}),
        (
            "WIRE_JSON",
            {"FIELD_WIRE_JSON_COMPATIBLE_TYPE"},
            set(),
            {"FIELD_NO_DELETE_UNLESS_NAME_RESERVED", "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED"},
        ),
        ("WIRE", {"FIELD_WIRE_COMPATIBLE_TYPE"}, set(), {"FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED"}),
    ],
)
def test_each_category_reports_a_change_under_bufs_rule_id_for_it(category, retyped, message_deleted, field_deleted):
    previous = files(ORDER)
    assert rules_of(check(previous, files(ORDER.replace("int32 qty", "string qty")), [category])) == retyped
    assert rules_of(check(previous, files(ORDER.replace("message Quote {}\n", "")), [category])) == message_deleted
    assert rules_of(check(previous, files(ORDER.replace("  string note = 2;\n", "")), [category])) == field_deleted


def test_every_rule_says_what_it_checks_in_one_voice():
    assert all(rule.purpose.startswith("Checks that") for rule in RULES.values())


def test_categories_and_rule_ids_can_be_mixed_and_excepted():
    selected = resolve_rule_ids(use=["WIRE", "FIELD_SAME_NAME"], except_=["FIELD_WIRE_COMPATIBLE_TYPE"])
    assert "FIELD_SAME_NAME" in selected and "FIELD_WIRE_COMPATIBLE_TYPE" not in selected
    assert selected == (rule_ids_in("WIRE") | {"FIELD_SAME_NAME"}) - {"FIELD_WIRE_COMPATIBLE_TYPE"}
    assert resolve_rule_ids(use=["wire"]) == rule_ids_in("WIRE")


@pytest.mark.parametrize("old_id", sorted(DEPRECATED_RULE_IDS))
def test_a_deprecated_rule_id_selects_its_replacements(old_id):
    assert resolve_rule_ids(use=[old_id]) == frozenset(DEPRECATED_RULE_IDS[old_id])
    assert set(DEPRECATED_RULE_IDS[old_id]) <= set(RULES)


def test_a_deprecated_id_reports_under_its_replacement():
    findings = check(files(TICK), files(TICK.replace("double bid", "repeated double bid")), ["FIELD_SAME_LABEL"])
    assert rules_of(findings) == {
        "FIELD_SAME_CARDINALITY",
        "FIELD_WIRE_COMPATIBLE_CARDINALITY",
        "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY",
    }


def test_an_unknown_rule_id_is_refused_with_a_suggestion():
    with pytest.raises(
        ValueError, match='Unknown breaking rule or category "FIELD_NO_DELEET". Did you mean FIELD_NO_DELETE'
    ):
        resolve_rule_ids(use=["FIELD_NO_DELEET"])
    with pytest.raises(ValueError, match="WIRE_JSON"):
        check(files(TICK), files(TICK), ["NOPE"])


def test_a_single_string_is_refused_rather_than_read_letter_by_letter():
    with pytest.raises(ValueError, match="lists"):
        resolve_rule_ids(use="FILE")
