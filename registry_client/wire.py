"""Confluent's wire format: magic byte 0, a 4-byte big-endian schema id, the message-index array, the payload.

The message-index array locates the message inside its .proto file: [0] is the file's first message,
[1, 0] the first message nested in the second. It is written as a count followed by the indexes, all
zigzag varints, except that [0] (the common case) is written as the single byte 0.
"""

from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor

from registry_client._protowire import read_varint, varint
from registry_client.errors import SerializationError

MAGIC_BYTE = 0
HEADER_SIZE = 5


@dataclass(frozen=True)
class Frame:
    schema_id: int
    message_indexes: tuple[int, ...]
    payload: memoryview | bytes


def message_indexes(descriptor: Descriptor) -> tuple[int, ...]:
    """Return the path of indexes from the file's top-level messages down to `descriptor`."""
    path = []
    current = descriptor
    while current.containing_type is not None:
        parent = current.containing_type
        path.append(parent.nested_types.index(current))
        current = parent
    path.append(list(current.file.message_types_by_name).index(current.name))
    return tuple(reversed(path))


def _zigzag_varint(value: int) -> bytes:
    return varint((value << 1) ^ (value >> 63))


def encode_indexes(indexes: tuple[int, ...]) -> bytes:
    if indexes == (0,):
        return b"\x00"
    return _zigzag_varint(len(indexes)) + b"".join(_zigzag_varint(index) for index in indexes)


def header(schema_id: int, indexes: tuple[int, ...]) -> bytes:
    """Return the bytes that precede the payload: magic byte, schema id and message indexes."""
    return bytes([MAGIC_BYTE]) + schema_id.to_bytes(4, "big") + encode_indexes(indexes)


def _read_zigzag(data: bytes, offset: int) -> tuple[int, int]:
    try:
        value, offset = read_varint(data, offset)
    except SerializationError:
        raise SerializationError("Truncated or malformed message-index array in the Confluent frame") from None
    return (value >> 1) ^ -(value & 1), offset


def read_frame(data: bytes) -> Frame:
    """Split framed bytes into schema id, message indexes and payload; SerializationError when not framed."""
    if len(data) < HEADER_SIZE + 1 or data[0] != MAGIC_BYTE:
        raise SerializationError(
            "Unknown magic byte: these bytes were not written by a schema-registry serializer "
            f"(first byte {data[:1].hex() or 'missing'}, {len(data)} bytes)"
        )
    schema_id = int.from_bytes(data[1:HEADER_SIZE], "big")
    count, offset = _read_zigzag(data, HEADER_SIZE)
    if count == 0:
        return Frame(schema_id, (0,), memoryview(data)[offset:])
    if count < 0 or count > 100:
        raise SerializationError(f"Implausible message-index count {count} in the Confluent frame")
    indexes = []
    for _ in range(count):
        index, offset = _read_zigzag(data, offset)
        indexes.append(index)
    return Frame(schema_id, tuple(indexes), memoryview(data)[offset:])
