"""The element index of a compiled set: one tree of declarations that breaking, Confluent's SchemaDiff and lint read."""

from dataclasses import replace

from protoengine import breaking, compatibility
from protoengine.compiler import compile_sources
from protoengine.lint import LINT_RULES, LintConfig, lint
from protoengine.locations import (
    ENUM_VALUE,
    FILE_DEPENDENCY,
    FILE_MESSAGE_TYPE,
    FILE_SERVICE,
    MESSAGE_ENUM_TYPE,
    MESSAGE_FIELD,
    MESSAGE_NESTED_TYPE,
    MESSAGE_ONEOF_DECL,
    SERVICE_METHOD,
)
from protoengine.model import MessageElement

COMMON = """syntax = "proto3";
package common.v1;
message Money { string currency = 1; int64 units = 2; }
"""
UNUSED = """syntax = "proto3";
package unused.v1;
message Unused { string id = 1; }
"""
ORDER = """syntax = "proto3";
package trading.v1;
import "common/v1/money.proto";
message Order {
  message Line { string sku = 1; common.v1.Money price = 2; }
  enum Side { SIDE_UNSPECIFIED = 0; SIDE_BUY = 1; }
  string id = 1;
  repeated Line lines = 2;
  Side side = 3;
  map<string, string> tags = 4;
}
service Orders { rpc Place(Order) returns (Order); }
"""


def compiled(order: str = ORDER):
    return compile_sources(
        {"common/v1/money.proto": COMMON, "archive/v1/unused.proto": UNUSED, "trading/v1/order.proto": order}
    )


def test_breaking_and_confluent_read_the_same_elements_of_a_set():
    current = compiled(ORDER.replace("string id = 1;", "string id = 1;\n  string note = 5;"))
    previous = compiled()
    for rule_set in ("SPEC", "CONFLUENT"):
        compatibility.check_new_version(current, [previous], level="FULL", rule_set=rule_set)
    model = current.model
    order = model.breaking.find("trading.v1.Order")
    assert model.confluent(well_known=False).type_named("trading.v1.Order") is order
    assert model.elements().find("trading.v1.Order") is order
    assert model.breaking.find("trading.v1.Order.Line") is order.messages["Line"]


def elements_lint_hands_its_rules(monkeypatch, compiled_set) -> dict[tuple[str, str], object]:
    """Lint the set with one rule per element kind, each recording the elements it is handed by (scope, name)."""
    handed = {}
    rule_ids = {
        "PACKAGE_DEFINED": "file",
        "IMPORT_NO_PUBLIC": "import",
        "MESSAGE_PASCAL_CASE": "message",
        "FIELD_LOWER_SNAKE_CASE": "field",
        "ONEOF_LOWER_SNAKE_CASE": "oneof",
        "ENUM_PASCAL_CASE": "enum",
        "ENUM_VALUE_UPPER_SNAKE_CASE": "enum_value",
        "SERVICE_PASCAL_CASE": "service",
        "RPC_PASCAL_CASE": "method",
    }
    for rule_id, scope in rule_ids.items():
        rule = LINT_RULES[rule_id]
        assert rule.scope == scope

        def record(element, config, scope=scope):
            handed[(scope, getattr(element, "full_name", element.name))] = element

        monkeypatch.setitem(LINT_RULES, rule_id, replace(rule, check=record, applies=None))
    lint(compiled_set, LintConfig(use=list(rule_ids), except_=["GOVERNANCE"]))
    return handed


def test_lint_reads_the_very_elements_breaking_and_confluent_read(monkeypatch):
    current = compiled(ORDER.replace("string id = 1;", "string id = 1;\n  string note = 5;"))
    compatibility.check_new_version(current, [compiled()], level="FULL", rule_set="CONFLUENT")
    compatibility.check_new_version(current, [compiled()], level="FULL", rule_set="SPEC")
    handed = elements_lint_hands_its_rules(monkeypatch, current)
    index = current.model.breaking
    order = index.find("trading.v1.Order")
    line = index.find("trading.v1.Order.Line")
    side = index.find("trading.v1.Order.Side")
    assert handed[("file", "trading/v1/order.proto")] is index.files["trading/v1/order.proto"]
    assert handed[("message", "trading.v1.Order")] is order
    assert current.model.confluent(well_known=False).type_named("trading.v1.Order") is order
    assert handed[("message", "trading.v1.Order.Line")] is line is order.messages["Line"]
    assert handed[("field", "trading.v1.Order.note")] is order.field(5)
    assert handed[("field", "trading.v1.Order.Line.price")] is line.field(2)
    assert handed[("enum", "trading.v1.Order.Side")] is side
    assert handed[("enum_value", "trading.v1.Order.Side.SIDE_BUY")] is side.values[1][0]
    place = index.services["trading.v1.Orders"].methods["Place"]
    assert handed[("method", "trading.v1.Orders.Place")] is place
    assert handed[("service", "trading.v1.Orders")] is place.parent


def test_lint_on_a_fresh_set_builds_the_elements_breaking_then_reads(monkeypatch):
    current = compiled()
    handed = elements_lint_hands_its_rules(monkeypatch, current)
    compatibility.check_new_version(current, [compiled()], level="FULL", rule_set="SPEC")
    order = current.model.breaking.find("trading.v1.Order")
    assert handed[("message", "trading.v1.Order")] is order
    assert handed[("field", "trading.v1.Order.side")] is order.field(3)
    # A second run hands its rules the same objects again: nothing is built twice.
    assert elements_lint_hands_its_rules(monkeypatch, current) == handed


def test_each_file_lists_its_oneofs_imports_and_every_nested_declaration_for_lint():
    text = ORDER.replace(
        "Side side = 3;", "Side side = 3;\n  oneof pay { string card = 6; }\n  optional string memo = 7;"
    )
    file = compiled(text).model.breaking.files["trading/v1/order.proto"]
    order = file.messages["trading.v1.Order"]
    contents = file.contents
    assert file.contents is contents and file.path == () and file.file is file
    assert [message.local_name for message in contents.messages] == ["Order", "Order.Line", "Order.TagsEntry"]
    assert [oneof.name for oneof in contents.oneofs] == ["pay", "_memo"]
    pay, memo = contents.oneofs
    assert (pay.path, pay.parent, pay.is_synthetic, memo.is_synthetic) == (
        order.path + (MESSAGE_ONEOF_DECL, 0),
        order,
        False,
        True,
    )
    assert contents.oneofs == list(order.oneof_elements)
    assert contents.fields[:6] == list(order.fields.values())
    assert [value.name for value in contents.enum_values] == ["SIDE_UNSPECIFIED", "SIDE_BUY"]
    assert contents.methods == [file.services["trading.v1.Orders"].methods["Place"]]
    [entry] = file.imports
    assert (entry.name, entry.path, entry.is_public, entry.parent) == (
        "common/v1/money.proto",
        (FILE_DEPENDENCY, 0),
        False,
        file,
    )
    assert file.index is file.index and file.leading_comment(order.path) == ""


def test_the_index_is_built_once_per_set():
    model = compiled().model
    assert model.elements() is model.elements()
    assert model.breaking is model.elements(well_known=False)
    assert isinstance(model.breaking, breaking.Schema)


def test_a_field_read_by_number_is_the_one_listed_with_the_message():
    order = compiled().model.breaking.find("trading.v1.Order")
    assert order.field(3) is order.fields[3]
    assert list(order.fields) == [1, 2, 3, 4]


def test_each_element_knows_its_parent_and_source_path():
    index = compiled().model.breaking
    order = index.find("trading.v1.Order")
    line = index.find("trading.v1.Order.Line")
    side = index.find("trading.v1.Order.Side")
    assert order.path == (FILE_MESSAGE_TYPE, 0) and order.parent is order.file
    assert (line.parent, line.path, line.local_name) == (
        order,
        (FILE_MESSAGE_TYPE, 0, MESSAGE_NESTED_TYPE, 0),
        "Order.Line",
    )
    assert line.field(2).path == line.path + (MESSAGE_FIELD, 1)
    assert line.field(2).parent is line and line.field(2).full_name == "trading.v1.Order.Line.price"
    assert side.path == (FILE_MESSAGE_TYPE, 0, MESSAGE_ENUM_TYPE, 0)
    assert [value.path for [value] in side.values.values()] == [
        side.path + (ENUM_VALUE, 0),
        side.path + (ENUM_VALUE, 1),
    ]
    place = index.services["trading.v1.Orders"].methods["Place"]
    assert place.path == (FILE_SERVICE, 0, SERVICE_METHOD, 0)


def test_a_map_entry_is_a_nested_message_placed_at_its_map_field():
    order = compiled().model.breaking.find("trading.v1.Order")
    entry = order.messages["TagsEntry"]
    assert isinstance(entry, MessageElement) and entry.is_map_entry
    assert not order.is_map_entry
    assert entry.field(1).path == order.path + (MESSAGE_FIELD, 3)


def test_confluent_names_only_types_its_root_can_see():
    model = compiled().model
    view = model.confluent()
    assert view.root.name == "trading/v1/order.proto"
    assert view.type_named("common.v1.Money") is model.elements().find("common.v1.Money")
    assert model.elements().find("unused.v1.Unused") is not None
    assert view.type_named("unused.v1.Unused") is None
