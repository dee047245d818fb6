"""Compatibility levels pick a direction and how many earlier versions; rule sets pick what breaks."""

import pytest

from protoengine.compatibility import (
    LEVELS,
    RULE_SETS,
    check_compatibility,
    latest_only_level,
    transitive_level,
    versions_the_level_reads,
)
from protoengine.compiler import compile_sources

HEAD = 'syntax = "proto3";\npackage trading.v1;\n\n'
ORDER = (
    HEAD
    + "message Order {\n  string id = 1;\n  int32 qty = 2;\n  string note = 3;\n}\n\nenum Side {\n  SIDE_UNSPECIFIED = "
    "0;\n  SIDE_BUY = 1;\n}\n"
)


def files(text: str):
    return compile_sources({"trading/v1/order.proto": text}).own_files


def rules(text: str, history: list[str], **options) -> set[str]:
    return {
        finding.rule for finding in check_compatibility(files(text), [files(version) for version in history], **options)
    }


NOTE_RESERVED = ORDER.replace("  string note = 3;\n", '  reserved 3;\n  reserved "note";\n')
BUY_RESERVED = ORDER.replace("  SIDE_BUY = 1;\n", '  reserved 1;\n  reserved "SIDE_BUY";\n')
QTY_UNSIGNED = ORDER.replace("int32 qty", "uint32 qty")


def test_backward_lets_new_code_ignore_a_removed_field_whose_number_is_reserved():
    assert rules(NOTE_RESERVED, [ORDER], level="BACKWARD") == set()


def test_forward_refuses_a_removed_field_that_old_code_still_reads():
    assert rules(NOTE_RESERVED, [ORDER], level="FORWARD") == {"FIELD_NO_DELETE"}
    assert rules(NOTE_RESERVED, [ORDER], level="FULL") == {"FIELD_NO_DELETE"}


def test_backward_refuses_a_removed_enum_value_even_when_reserved():
    assert rules(BUY_RESERVED, [ORDER], level="BACKWARD") == {"ENUM_VALUE_NO_DELETE"}
    assert rules(BUY_RESERVED, [ORDER], level="FORWARD") == set()


def test_forward_refuses_any_type_change_and_backward_only_an_unsafe_one():
    assert rules(QTY_UNSIGNED, [ORDER], level="BACKWARD") == set(), "int32 and uint32 share the wire and JSON"
    assert rules(QTY_UNSIGNED, [ORDER], level="FORWARD") == {"FIELD_SAME_TYPE"}
    assert rules(ORDER.replace("int32 qty", "int64 qty"), [ORDER], level="BACKWARD") == {
        "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
    }


def test_removing_a_field_without_reserving_it_breaks_in_both_directions():
    removed = ORDER.replace("  string note = 3;\n", "")
    assert rules(removed, [ORDER], level="BACKWARD") == {
        "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
        "FIELD_NO_DELETE_UNLESS_NAME_RESERVED",
    }


def test_a_removed_message_breaks_both_directions_but_a_moved_one_does_not():
    with_fill = ORDER + "\nmessage Fill {\n  int64 qty = 1;\n}\n"
    for level in ("BACKWARD", "FORWARD"):
        assert rules(ORDER, [with_fill], level=level) == {"PACKAGE_MESSAGE_NO_DELETE"}
    moved = check_compatibility(
        compile_sources(
            {"trading/v1/order.proto": ORDER, "trading/v1/fill.proto": HEAD + "message Fill {\n  int64 qty = 1;\n}\n"}
        ).own_files,
        [files(with_fill)],
        level="FULL",
    )
    assert moved == []


def test_a_new_required_field_breaks_both_directions():
    proto2 = (
        ORDER.replace('"proto3"', '"proto2"')
        .replace("  string", "  optional string")
        .replace("  int32", "  optional int32")
    )
    added = proto2.replace("string note = 3;", "string note = 3;\n  required int64 at = 4;")
    for level in ("BACKWARD", "FORWARD"):
        assert rules(added, [proto2], level=level) == {"MESSAGE_SAME_REQUIRED_FIELDS"}


@pytest.mark.parametrize("rule_set", [name for name in RULE_SETS if name != "CONFLUENT"])
@pytest.mark.parametrize("level", LEVELS)
def test_adding_an_optional_field_is_compatible_everywhere(level, rule_set):
    added = ORDER.replace("string note = 3;", "string note = 3;\n  optional string venue = 4;")
    assert rules(added, [ORDER, ORDER], level=level, rule_set=rule_set) == set()


def test_buf_categories_check_the_same_rules_in_both_directions():
    renamed = ORDER.replace("string note", "string comment")
    assert (
        rules(renamed, [ORDER], level="BACKWARD", rule_set="WIRE_JSON")
        == rules(renamed, [ORDER], level="FORWARD", rule_set="WIRE_JSON")
        == {"FIELD_SAME_NAME", "FIELD_SAME_JSON_NAME"}
    )
    assert rules(renamed, [ORDER], level="FULL", rule_set="WIRE") == set()


# How many earlier versions


REUSED = ORDER.replace("  string note = 3;\n", "  int64 count = 3;\n")  # number 3 came back with another type
DROPPED = ORDER.replace("  string note = 3;\n", "")


def test_a_non_transitive_level_compares_with_the_latest_version_only():
    assert rules(REUSED, [ORDER, DROPPED], level="BACKWARD") == set()


def test_a_transitive_level_compares_with_every_earlier_version():
    assert rules(REUSED, [ORDER, DROPPED], level="BACKWARD_TRANSITIVE") == {
        "FIELD_SAME_NAME",
        "FIELD_SAME_JSON_NAME",
        "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
    }


def test_each_level_has_a_latest_only_and_a_transitive_form_reading_the_versions_they_name():
    assert [latest_only_level(level) for level in LEVELS] == [
        "BACKWARD",
        "BACKWARD",
        "FORWARD",
        "FORWARD",
        "FULL",
        "FULL",
        "NONE",
    ]
    assert [transitive_level(level) for level in LEVELS] == [
        "BACKWARD_TRANSITIVE",
        "BACKWARD_TRANSITIVE",
        "FORWARD_TRANSITIVE",
        "FORWARD_TRANSITIVE",
        "FULL_TRANSITIVE",
        "FULL_TRANSITIVE",
        "NONE",
    ]
    assert versions_the_level_reads([1, 2, 3], "FULL") == [3]
    assert versions_the_level_reads([1, 2, 3], "FULL_TRANSITIVE") == [1, 2, 3]


def test_a_finding_seen_against_several_versions_is_reported_once():
    findings = check_compatibility(files(NOTE_RESERVED), [files(ORDER), files(ORDER)], level="FORWARD_TRANSITIVE")
    assert [finding.rule for finding in findings] == ["FIELD_NO_DELETE"]


def test_none_checks_nothing_and_no_history_breaks_nothing():
    assert rules(ORDER.replace("string id", "bytes id"), [ORDER], level="NONE") == set()
    assert check_compatibility(files(ORDER), [], level="FULL_TRANSITIVE") == []


def test_an_unknown_level_or_rule_set_is_refused():
    with pytest.raises(ValueError, match="BACKWARD_TRANSITIVE"):
        check_compatibility(files(ORDER), [files(ORDER)], level="SIDEWAYS")
    with pytest.raises(ValueError, match="WIRE_JSON"):
        check_compatibility(files(ORDER), [files(ORDER)], rule_set="LOOSE")


# Confluent's checker


def test_confluent_backward_reads_old_data_with_the_new_schema_and_forward_swaps_them():
    added = ORDER + "\nmessage Fill {}\n"
    assert check_compatibility(files(added), [files(ORDER)], level="BACKWARD", rule_set="CONFLUENT") == []
    forward = check_compatibility(files(added), [files(ORDER)], level="FORWARD", rule_set="CONFLUENT")
    assert [finding.confluent for finding in forward] == ["MESSAGE_REMOVED"], "old readers do not know the new message"
