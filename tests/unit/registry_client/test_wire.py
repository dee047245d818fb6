"""Confluent's framing: magic byte, big-endian id, zigzag message-index array with the single-byte [0] form."""

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from registry_client import SerializationError
from registry_client.wire import encode_indexes, header, message_indexes, read_frame


def nested_types():
    """Build a file with messages A, B { C, D { E } } in a private pool and return its message classes."""
    file = descriptor_pb2.FileDescriptorProto(name="wire_test.proto", package="wire.test", syntax="proto3")
    file.message_type.add(name="A")
    b = file.message_type.add(name="B")
    b.nested_type.add(name="C")
    b.nested_type.add(name="D").nested_type.add(name="E")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {name: pool.FindMessageTypeByName(f"wire.test.{name}") for name in ("A", "B", "B.C", "B.D", "B.D.E")}


def test_message_indexes_walk_from_the_file_down_to_the_message():
    descriptors = nested_types()
    assert [message_indexes(descriptors[name]) for name in ("A", "B", "B.C", "B.D", "B.D.E")] == [
        (0,),
        (1,),
        (1, 0),
        (1, 1),
        (1, 1, 0),
    ]
    assert message_factory.GetMessageClass(descriptors["B.D.E"])  # the pool is a real one


def test_the_first_message_is_one_zero_byte_and_others_are_a_zigzag_count_and_indexes():
    assert encode_indexes((0,)) == b"\x00"
    assert encode_indexes((1,)) == b"\x02\x02"
    assert encode_indexes((1, 1, 0)) == b"\x06\x02\x02\x00"
    assert encode_indexes((70,)) == b"\x02\x8c\x01"


def test_a_header_is_magic_byte_big_endian_id_and_indexes():
    assert header(258, (0,)) == b"\x00\x00\x00\x01\x02\x00"
    assert header(2**31 - 1, (2, 0)) == b"\x00\x7f\xff\xff\xff\x04\x04\x00"


@pytest.mark.parametrize("indexes", [(0,), (1,), (3, 0), (1, 1, 0), (200,)])
def test_read_frame_reverses_header_the_first_time_and_from_memory_after(indexes):
    for payload in (b"payload", b"another"):
        frame = read_frame(header(77, indexes) + payload)
        assert (frame.schema_id, frame.message_indexes, frame.payload) == (77, indexes, payload)


@pytest.mark.parametrize("data", [b"", b"\x01\x00\x00\x00\x01\x00", b"\x00\x00\x00", b"\x00\x00\x00\x00\x01\x80"])
def test_bytes_that_are_not_a_frame_are_refused_with_a_serialization_error(data):
    with pytest.raises(SerializationError):
        read_frame(data)
