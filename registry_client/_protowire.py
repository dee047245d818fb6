"""The few protobuf wire-format primitives the client needs without a schema: varints, tags, field scanning."""

from collections.abc import Iterator

from registry_client.errors import SerializationError

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if offset >= len(data) or shift > 63:
            raise SerializationError("Malformed protobuf varint")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, offset


def length_delimited(number: int, payload: bytes) -> bytes:
    """Return one length-delimited field (wire type 2) numbered `number` holding `payload`."""
    return varint(number << 3 | LENGTH_DELIMITED) + varint(len(payload)) + payload


def fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield (number, wire type, value) for each field of serialized bytes; varints as ints, the rest as bytes."""
    offset = 0
    while offset < len(data):
        tag, offset = read_varint(data, offset)
        number, wire_type = tag >> 3, tag & 7
        if wire_type == VARINT:
            value, offset = read_varint(data, offset)
        elif wire_type == FIXED64:
            value, offset = data[offset : offset + 8], offset + 8
        elif wire_type == FIXED32:
            value, offset = data[offset : offset + 4], offset + 4
        elif wire_type == LENGTH_DELIMITED:
            size, offset = read_varint(data, offset)
            value, offset = data[offset : offset + size], offset + size
        else:
            raise SerializationError(f"Unsupported protobuf wire type {wire_type}")
        yield number, wire_type, value
