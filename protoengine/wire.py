"""Read protobuf wire format just far enough to see custom options.

protoc runs with `--retain_options`, so a custom option such as
`(registry.v1.pii) = true` stays inside FieldOptions as an unknown field, and
`FieldOptions.SerializeToString()` gives its bytes back
(`b'\\x88\\xb5\\x18\\x01'` for field 50001 = 1). Reading the tags here keeps lint and
identity fingerprints free of descriptor pools and generated option modules.
"""

from collections.abc import Iterator

VARINT = 0
FIXED64 = 1
LENGTH_DELIMITED = 2
START_GROUP = 3
END_GROUP = 4
FIXED32 = 5


class WireFormatError(ValueError):
    """The bytes are not valid protobuf wire format."""


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    """Return the varint at `offset` and the offset just after it."""
    value = 0
    shift = 0
    while True:
        if offset >= len(data) or shift > 63:
            raise WireFormatError("truncated or overlong varint")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7


def iter_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield `(field number, wire type, value)` for each top-level field.

    Varints and fixed-width values come back as unsigned ints, length-delimited
    values as bytes; groups are skipped whole and yield their raw bytes.
    """
    offset = 0
    while offset < len(data):
        number, wire_type, value, offset = _read_field(data, offset)
        if wire_type == END_GROUP:
            raise WireFormatError(f"unexpected end of group {number}")
        yield number, wire_type, value


def iter_records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield `(field number, the field's whole bytes, tag included)` for each top-level field."""
    for number, start, _, end in iter_record_spans(data):
        yield number, data[start:end]


def iter_record_spans(data: bytes) -> Iterator[tuple[int, int, int, int]]:
    """Yield `(field number, start, value start, end)` for each top-level field, copying nothing.

    `data[start:end]` is the field's whole bytes, tag included; for a length-delimited field
    `data[value start:end]` is its value, else the value start is where the tag ends.
    """
    offset = 0
    while offset < len(data):
        tag, value_start = read_varint(data, offset)
        number, wire_type = tag >> 3, tag & 7
        if wire_type == LENGTH_DELIMITED and number:
            length, value_start = read_varint(data, value_start)
            end = value_start + length
            if end > len(data):
                raise WireFormatError("truncated length-delimited field")
        else:
            number, wire_type, _, end = _read_field(data, offset)
            if wire_type == END_GROUP:
                raise WireFormatError(f"unexpected end of group {number}")
        yield number, offset, value_start, end
        offset = end


def _read_field(data: bytes, offset: int) -> tuple[int, int, int | bytes, int]:
    tag, offset = read_varint(data, offset)
    number, wire_type = tag >> 3, tag & 7
    if number == 0:
        raise WireFormatError("field number 0")
    if wire_type == VARINT:
        value, offset = read_varint(data, offset)
    elif wire_type == FIXED64:
        value, offset = _fixed(data, offset, 8)
    elif wire_type == FIXED32:
        value, offset = _fixed(data, offset, 4)
    elif wire_type == LENGTH_DELIMITED:
        length, offset = read_varint(data, offset)
        if offset + length > len(data):
            raise WireFormatError("truncated length-delimited field")
        value, offset = data[offset : offset + length], offset + length
    elif wire_type == START_GROUP:
        value, offset = _skip_group(data, offset, number)
    elif wire_type == END_GROUP:
        value = b""
    else:
        raise WireFormatError(f"unknown wire type {wire_type}")
    return number, wire_type, value, offset


def _fixed(data: bytes, offset: int, width: int) -> tuple[int, int]:
    if offset + width > len(data):
        raise WireFormatError("truncated fixed-width field")
    return int.from_bytes(data[offset : offset + width], "little"), offset + width


def _skip_group(data: bytes, offset: int, number: int) -> tuple[bytes, int]:
    start = offset
    while True:
        if offset >= len(data):
            raise WireFormatError(f"unterminated group {number}")
        inner_number, wire_type, _, end = _read_field(data, offset)
        if wire_type == END_GROUP:
            if inner_number != number:
                raise WireFormatError(f"group {number} closed by {inner_number}")
            return data[start:offset], end
        offset = end


def last_varint(data: bytes, number: int) -> int | None:
    """Return the last varint value of field `number` (protobuf's "last one wins"), None when absent."""
    found = None
    for field_number, wire_type, value in iter_fields(data):
        if field_number == number and wire_type == VARINT:
            found = value
    return found


def field_numbers(data: bytes) -> set[int]:
    """Return the numbers of the top-level fields present in the bytes."""
    return {number for number, _, _ in iter_fields(data)}
