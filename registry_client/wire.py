"""Confluent's wire format: magic byte 0, a 4-byte big-endian schema id, the message-index array, the payload.

The message-index array locates the message inside its .proto file: [0] is the file's first message,
[1, 0] the first message nested in the second. It is written as a count followed by the indexes, all
zigzag varints, except that [0] (the common case) is written as the single byte 0.
"""

import struct
from typing import NamedTuple

from google.protobuf.descriptor import Descriptor

from registry_client._protowire import read_varint, varint
from registry_client.errors import SerializationError

MAGIC_BYTE = 0
HEADER_SIZE = 5
FIRST_MESSAGE = (0,)
# Magic byte, schema id and the first byte of the index array, read in one call on the hot path.
_HEADER = struct.Struct(">BIB")
# Index arrays of one-byte varints seen so far, by their bytes (a program reads few distinct message types).
MAX_REMEMBERED_INDEX_ARRAYS = 1024
_short_indexes: dict[bytes, tuple[int, ...]] = {}


class Frame(NamedTuple):
    """The parts of framed bytes (a named tuple: built on every message, so it must be cheap)."""

    schema_id: int
    message_indexes: tuple[int, ...]
    payload: bytes


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


def split_frame(data: bytes) -> tuple[int, tuple[int, ...], bytes]:
    """Return (schema id, message indexes, payload) of framed bytes; SerializationError when not framed."""
    if len(data) > HEADER_SIZE:
        magic, schema_id, first = _HEADER.unpack_from(data)
        if magic == MAGIC_BYTE and first == 0:
            # The common case, the file's first message, without the general decoder's loop.
            return schema_id, FIRST_MESSAGE, data[HEADER_SIZE + 1 :]
        if magic == MAGIC_BYTE and first < 0x80:
            # A short index array of one-byte varints: decoded once per distinct array, then looked up.
            end = HEADER_SIZE + 1 + (first >> 1)
            indexes = _short_indexes.get(data[HEADER_SIZE:end])
            if indexes is not None:
                return schema_id, indexes, data[end:]
    if len(data) < HEADER_SIZE + 1 or data[0] != MAGIC_BYTE:
        raise SerializationError(
            "Unknown magic byte: these bytes were not written by a schema-registry serializer "
            f"(first byte {data[:1].hex() or 'missing'}, {len(data)} bytes)"
        )
    schema_id = int.from_bytes(data[1:HEADER_SIZE], "big")
    count, offset = _read_zigzag(data, HEADER_SIZE)
    if count < 0 or count > 100:
        raise SerializationError(f"Implausible message-index count {count} in the Confluent frame")
    indexes = []
    for _ in range(count):
        index, offset = _read_zigzag(data, offset)
        indexes.append(index)
    if offset - HEADER_SIZE == count + 1 and len(_short_indexes) < MAX_REMEMBERED_INDEX_ARRAYS:
        _short_indexes[data[HEADER_SIZE:offset]] = tuple(indexes)
    return schema_id, tuple(indexes), data[offset:]


def read_frame(data: bytes) -> Frame:
    """Split framed bytes into schema id, message indexes and payload; SerializationError when not framed."""
    return Frame(*split_frame(data))
