"""Each new version gets MAJOR, MINOR, PATCH or NONE, and the next version number follows."""

import pytest

from protoengine.compiler import compile_sources
from protoengine.semver import classify_change, next_version

ORDER = """syntax = "proto3";
package trading.v1;

// An order on the book.
message Order {
  string id = 1;
  int32 qty = 2;
}

service Orders {
  rpc Get(Order) returns (Order);
}
"""


def files(text: str, **more: str):
    return compile_sources({"trading/v1/order.proto": text, **more}).own_files


def bump(new: str, *, rule_set: str = "SPEC", **more: str) -> str:
    return classify_change(files(ORDER), files(new, **more), rule_set=rule_set)


def test_an_identical_schema_is_no_change():
    assert bump(ORDER) == "NONE"


@pytest.mark.parametrize(
    "edit",
    [
        ("// An order on the book.", "// An order on the book, as the exchange sees it."),
        ("int32 qty = 2;", "int32 qty = 2;  // in lots"),
        ("int32 qty = 2;", "int32 qty = 2 [deprecated = true];"),
        ("message Order {", "\n\nmessage Order {"),
    ],
)
def test_comments_layout_and_non_semantic_options_are_a_patch(edit):
    assert bump(ORDER.replace(*edit)) == "PATCH"


@pytest.mark.parametrize(
    "edit",
    [
        ("int32 qty = 2;", "int32 qty = 2;\n  string venue = 3;"),
        ("}\n\nservice", "}\n\nmessage Fill {}\n\nservice"),
        ("returns (Order);", "returns (Order);\n  rpc Put(Order) returns (Order);"),
    ],
)
def test_additions_are_a_minor_change(edit):
    assert bump(ORDER.replace(*edit)) == "MINOR"


def test_a_new_file_is_a_minor_change():
    assert (
        bump(ORDER, **{"trading/v1/fill.proto": 'syntax = "proto3";\npackage trading.v1;\n\nmessage Fill {}\n'})
        == "MINOR"
    )


@pytest.mark.parametrize(
    "edit",
    [
        ("  int32 qty = 2;\n", ""),
        ("int32 qty", "string qty"),
        ("int32 qty", "int64 qty"),
    ],
)
def test_removals_and_type_changes_are_major(edit):
    assert bump(ORDER.replace(*edit)) == "MAJOR"


def test_removing_a_message_is_major():
    with_fill = ORDER + "\nmessage Fill {\n  int64 qty = 1;\n}\n"
    assert classify_change(files(with_fill), files(ORDER)) == "MAJOR"


def test_the_rule_set_decides_what_is_major():
    renamed = ORDER.replace("int32 qty", "int32 quantity")
    assert bump(renamed, rule_set="SPEC") == "MAJOR", "SPEC keeps JSON names"
    assert bump(renamed, rule_set="WIRE") == "MINOR"


@pytest.mark.parametrize(
    "version, change, expected",
    [
        ("1.4.2", "MAJOR", "2.0.0"),
        ("1.4.2", "MINOR", "1.5.0"),
        ("1.4.2", "PATCH", "1.4.3"),
        ("1.4.2", "NONE", "1.4.2"),
        ("v1.9.9", "MINOR", "v1.10.0"),
        (None, "MINOR", "1.0.0"),
    ],
)
def test_the_next_version_follows_the_change(version, change, expected):
    assert next_version(version, change) == expected


@pytest.mark.parametrize(
    "version, change", [("1.4", "MINOR"), ("01.2.3", "PATCH"), ("1.2.3-rc1", "PATCH"), ("1.2.3", "HUGE")]
)
def test_a_malformed_version_or_change_is_refused(version, change):
    with pytest.raises(ValueError):
        next_version(version, change)
