"""The wire reader finds custom options in serialized *Options bytes without a descriptor pool."""

import pytest

from protoengine.compiler import compile_sources
from protoengine.wire import WireFormatError, field_numbers, iter_fields, last_varint
from tests.unit.protoengine.lint.helpers import OPTIONS_PATH, OPTIONS_TEXT, proto3


def test_it_reads_the_pii_and_classification_options_protoc_retained():
    text = proto3(
        "a.v1",
        f'import "{OPTIONS_PATH}";',
        "message User {",
        "  string email = 1 [(registry.v1.pii) = true, (registry.v1.classification) = "
        "DATA_CLASSIFICATION_CONFIDENTIAL, deprecated = true];",
        "}",
    )
    compiled = compile_sources({OPTIONS_PATH: OPTIONS_TEXT, "a/v1/a.proto": text})
    data = compiled.file("a/v1/a.proto").message_type[0].field[0].options.SerializeToString()
    assert last_varint(data, 50001) == 1
    assert last_varint(data, 50002) == 3
    assert field_numbers(data) == {3, 50001, 50002}


def test_the_last_of_repeated_values_wins_and_absent_fields_are_none():
    data = b"\x88\xb5\x18\x01\x88\xb5\x18\x00"
    assert last_varint(data, 50001) == 0
    assert last_varint(data, 50002) is None


def test_it_walks_every_wire_type_and_skips_groups():
    data = (
        b"\x08\x96\x01"  # 1: varint 150
        b"\x11"
        + (7).to_bytes(8, "little")  # 2: fixed64
        + b"\x1a\x02hi"  # 3: bytes
        + b"\x23\x08\x01\x24"  # 4: group holding 1: 1
        + b"\x2d"
        + (9).to_bytes(4, "little")  # 5: fixed32
    )
    assert [(number, value) for number, _, value in iter_fields(data)] == [
        (1, 150),
        (2, 7),
        (3, b"hi"),
        (4, b"\x08\x01"),
        (5, 9),
    ]


@pytest.mark.parametrize("data", [b"\x08", b"\x1a\x05hi", b"\x23\x08\x01", b"\x24", b"\x0f", b"\x00\x01", b"\x11\x00"])
def test_it_refuses_broken_bytes(data):
    with pytest.raises(WireFormatError):
        list(iter_fields(data))
