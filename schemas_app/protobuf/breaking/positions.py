"""Find where declarations are in a file, paying only for the places a finding needs.

`locations.SourceIndex` reads every location of a file up front, which costs tens of
milliseconds on a schema of a few thousand fields. A comparison usually needs a
handful of places, so this finder searches the serialized source info for each
wanted path instead: a Location is written as its packed `path` field followed by
its packed `span` field, so the exact bytes of "this path, then a span" identify it.

protoc records a declaration's location before those of its parts, and the items of
a list (messages, fields, values) in declaration order, so each search starts after
the location of an already found parent or earlier sibling; a search that finds
nothing from there starts over from the top, so a different order is only slower.
"""
import bisect
from collections.abc import Sequence

from google.protobuf.descriptor_pb2 import FileDescriptorProto

_LOCATION_TAG = 0x0A  # SourceCodeInfo.location, field 1, length-delimited
_PATH_TAG = b"\x0a"  # Location.path, field 1, packed
_SPAN_TAG = b"\x12"  # Location.span, field 2, packed


class PositionFinder:
    """Map element paths of one file to 1-based (line, column), like SourceIndex.position."""

    def __init__(self, file: FileDescriptorProto):
        self._file = file
        self._data: bytes | None = None
        self._found: dict[tuple[int, ...], tuple[int, int] | None] = {}
        self._offsets: dict[tuple[int, ...], int] = {}
        # For each parent path, the (index, offset) of list items found so far, sorted.
        self._items: dict[tuple[int, ...], list[tuple[int, int]]] = {}

    def position(self, path: Sequence[int]) -> tuple[int, int]:
        """Return the (line, column) of the element, or of its nearest located parent, or (0, 0)."""
        key = tuple(path)
        while key:
            found = self._lookup(key)
            if found is not None:
                return found
            key = key[:-1]
        return (0, 0)

    def _lookup(self, key: tuple[int, ...]) -> tuple[int, int] | None:
        if key not in self._found:
            self._found[key] = self._search(key)
        return self._found[key]

    def _search(self, key: tuple[int, ...]) -> tuple[int, int] | None:
        if self._data is None:
            self._data = self._file.source_code_info.SerializeToString()
        for length in range(2, len(key), 2):
            self._lookup(key[:length])  # locate the enclosing declarations first: they bound the search
        payload = b"".join(_varint(number) for number in key)
        needle = _PATH_TAG + _varint(len(payload)) + payload + _SPAN_TAG
        hint = self._hint(key)
        offset = self._find(needle, hint)
        if offset is None and hint:
            offset = self._find(needle, 0)
        if offset is None:
            return None
        self._remember(key, offset)
        span = _read_packed(self._data, offset + len(needle))
        return (span[0] + 1, span[1] + 1) if len(span) >= 2 else None

    def _find(self, needle: bytes, start: int) -> int | None:
        data = self._data
        offset = data.find(needle, start)
        while offset >= 0:
            if _opens_location(data, offset):
                return offset
            offset = data.find(needle, offset + 1)
        return None

    def _hint(self, key: tuple[int, ...]) -> int:
        """Return an offset the key's location cannot precede: its nearest found parent's or earlier sibling's."""
        hint = 0
        for length in range(len(key) - 1, 0, -1):
            if key[:length] in self._offsets:
                hint = self._offsets[key[:length]]
                break
        if len(key) % 2 == 0:  # the key ends with a list index
            items = self._items.get(key[:-1], ())
            before = bisect.bisect_left(items, (key[-1], -1))
            if before:
                hint = max(hint, items[before - 1][1])
        return hint

    def _remember(self, key: tuple[int, ...], offset: int) -> None:
        self._offsets[key] = offset
        if len(key) % 2 == 0:
            bisect.insort(self._items.setdefault(key[:-1], []), (key[-1], offset))


def _opens_location(data: bytes, index: int) -> bool:
    """Tell whether a path field at `index` is the first field of a Location record."""
    for width in (1, 2, 3):
        tag_at = index - width - 1
        if tag_at >= 0 and data[tag_at] == _LOCATION_TAG:
            length, end = _read_varint(data, tag_at + 1)
            if end == index and length > 0:
                return True
    return False


def _read_packed(data: bytes, index: int) -> list[int]:
    length, index = _read_varint(data, index)
    end = index + length
    values = []
    while index < end:
        value, index = _read_varint(data, index)
        values.append(value)
    return values


def _read_varint(data: bytes, index: int) -> tuple[int, int]:
    value = shift = 0
    while index < len(data):
        byte = data[index]
        index += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
    return value, index


def _varint(value: int) -> bytes:
    # Path components are non-negative; negative int32 would need the 10-byte form.
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
