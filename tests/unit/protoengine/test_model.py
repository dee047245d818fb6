"""The element index of a compiled set: one tree of declarations that breaking and Confluent's SchemaDiff read."""

import gc
import weakref

from protoengine import breaking, compatibility
from protoengine.compiler import compile_sources
from protoengine.locations import (
    ENUM_VALUE,
    FILE_MESSAGE_TYPE,
    FILE_SERVICE,
    MESSAGE_ENUM_TYPE,
    MESSAGE_FIELD,
    MESSAGE_NESTED_TYPE,
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


def test_a_sets_model_is_freed_with_the_set_without_the_cycle_collector():
    from protoengine import canonical, compiler, lint

    current = compiled(ORDER.replace("string id = 1;", "string id = 1;\n  string note = 5;"))
    compatibility.check_new_version(current, [compiled()], level="FULL", rule_set="SPEC")
    lint.lint(current)
    canonical.identity_fingerprint_of(current, "trading/v1/order.proto")
    model = weakref.ref(current.model)
    element = weakref.ref(current.model.breaking.find("trading.v1.Order.Line"))
    gc.disable()
    try:
        compiler.clear_set_cache()  # the compile cache let go of it too
        del current
        assert model() is None and element() is None
    finally:
        gc.enable()
