"""Find where an element of a FileDescriptorProto was declared, from its source info.

Paths follow descriptor.proto's field numbers: a message is [4, i], its field
[4, i, 2, j], a nested message [4, i, 3, k], an enum [5, i], its value [5, i, 2, j],
a service [6, i], its method [6, i, 2, j].
"""

import bisect
from collections.abc import Callable, Sequence

from google.protobuf.descriptor_pb2 import FileDescriptorProto

# Field numbers inside descriptor.proto, named so that path building reads as prose.
FILE_PACKAGE = 2
FILE_DEPENDENCY = 3
FILE_MESSAGE_TYPE = 4
FILE_ENUM_TYPE = 5
FILE_SERVICE = 6
FILE_EXTENSION = 7
FILE_OPTIONS = 8
FILE_SYNTAX = 12
FILE_EDITION = 14
MESSAGE_FIELD = 2
MESSAGE_NESTED_TYPE = 3
MESSAGE_ENUM_TYPE = 4
MESSAGE_EXTENSION_RANGE = 5
MESSAGE_EXTENSION = 6
MESSAGE_OPTIONS = 7
MESSAGE_ONEOF_DECL = 8
MESSAGE_RESERVED_RANGE = 9
MESSAGE_RESERVED_NAME = 10
FIELD_NAME = 1
FIELD_NUMBER = 3
FIELD_LABEL = 4
FIELD_TYPE = 5
FIELD_TYPE_NAME = 6
FIELD_DEFAULT_VALUE = 7
FIELD_OPTIONS = 8
FIELD_JSON_NAME = 10
ENUM_VALUE = 2
ENUM_OPTIONS = 3
ENUM_RESERVED_RANGE = 4
ENUM_RESERVED_NAME = 5
ENUM_VALUE_NAME = 1
ENUM_VALUE_NUMBER = 2
SERVICE_METHOD = 2
METHOD_INPUT_TYPE = 2
METHOD_OUTPUT_TYPE = 3
METHOD_OPTIONS = 4
METHOD_CLIENT_STREAMING = 5
METHOD_SERVER_STREAMING = 6


# (line, column, end line, end column), 1-based.
Span = tuple[int, int, int, int]
NO_SPAN: Span = (0, 0, 0, 0)


class SourceIndex:
    """Map element paths of one file to their 1-based (line, column) and comments.

    Both come from a PositionFinder, which searches the serialized source info only
    for the elements asked about, so a large clean file costs almost nothing.
    """

    def __init__(self, file: FileDescriptorProto, finder: "PositionFinder | None" = None):
        self._finder = finder or PositionFinder(file)

    def position(self, path: Sequence[int]) -> tuple[int, int]:
        """Return the (line, column) of the element, or of its nearest located parent, or (0, 0)."""
        return self._finder.position(path)

    def span(self, path: Sequence[int]) -> Span:
        """Return where the element starts and ends (see PositionFinder.span), or (0, 0, 0, 0)."""
        return self._finder.span(path)

    def exact_span(self, path: Sequence[int]) -> Span:
        """Return where exactly this element starts and ends, (0, 0, 0, 0) when it has no location of its own."""
        return self._finder.exact_span(path)

    def comment(self, path: Sequence[int]) -> str:
        """Return the element's leading and trailing comments, empty when there are none."""
        return "".join(self._finder.comments(path))

    def leading_comment(self, path: Sequence[int]) -> str:
        """Return only the element's leading comment (buf's COMMENT_* rules ignore trailing ones)."""
        return self._finder.comments(path)[0]

    def mentions(self, text: bytes, *, any_case: bool = False) -> bool:
        """Tell whether any of the file's comments contains `text` (UTF-8): a quick no for a search."""
        return self._finder.mentions(text, any_case=any_case)


# Finding positions without reading every location.
#
# Building a full index of a file's locations costs tens of milliseconds on a schema of
# a few thousand fields, while a check usually needs a handful of places. A Location is
# written as its packed `path` field followed by its packed `span` field, so the exact
# bytes of "this path, then a span" identify it in the serialized source info.
# protoc records a declaration's location before those of its parts, and the items of a
# list in declaration order, so each search starts after the location of an already found
# parent or earlier sibling; a search that finds nothing from there starts over.

_LOCATION_TAG = 0x0A  # SourceCodeInfo.location, field 1, length-delimited
_PATH_TAG = b"\x0a"  # Location.path, field 1, packed
_SPAN_TAG = b"\x12"  # Location.span, field 2, packed


class PositionFinder:
    """Map element paths of one file to 1-based (line, column), like SourceIndex.position."""

    def __init__(self, file: FileDescriptorProto, source_info: Callable[[], bytes] | None = None):
        """`source_info`, when given, returns the bytes of the file's source info (its set's model serializes
        each file once for this and for identity fingerprints); by default they are serialized on first need."""
        self.file = file
        self._source_info = source_info or (lambda: file.source_code_info.SerializeToString())
        self._data: bytes | None = None
        self._found: dict[tuple[int, ...], Span | None] = {}
        self._offsets: dict[tuple[int, ...], int] = {}
        # Where each found path's Location record continues after its span, and where it ends.
        self._rests: dict[tuple[int, ...], tuple[int, int]] = {}
        # For each parent path, the (index, offset) of list items found so far, sorted.
        self._items: dict[tuple[int, ...], list[tuple[int, int]]] = {}
        # Whether the source info contains a text, by text and case (see `mentions`).
        self._mentioned: dict[tuple[bytes, bool], bool] = {}

    def position(self, path: Sequence[int]) -> tuple[int, int]:
        """Return the (line, column) of the element, or of its nearest located parent, or (0, 0)."""
        return self.span(path)[:2]

    def span(self, path: Sequence[int]) -> Span:
        """Return (line, column, end line, end column) of the element, or of its nearest located parent.

        All 1-based; the end column is the one just after the element's last character, as buf prints it.
        (0, 0, 0, 0) when neither the element nor a parent has a location.
        """
        key = tuple(path)
        while key:
            found = self._lookup(key)
            if found is not None:
                return found
            key = key[:-1]
        return NO_SPAN

    def exact_span(self, path: Sequence[int]) -> Span:
        """Return the span of exactly this path, without falling back to a parent; (0, 0, 0, 0) when it has none."""
        key = tuple(path)
        return (self._lookup(key) if key else None) or NO_SPAN

    def comments(self, path: Sequence[int]) -> tuple[str, str]:
        """Return the (leading, trailing) comments of exactly this element, empty when it has none."""
        key = tuple(path)
        if not key or self._lookup(key) is None:
            return ("", "")
        start, end = self._rests[key]
        leading = trailing = ""
        index = start
        while index < end:
            tag, index = _read_varint(self._data, index)
            if tag & 7 != 2:  # Location's remaining fields are all strings
                break
            length, index = _read_varint(self._data, index)
            text = self._data[index : index + length]
            index += length
            if tag >> 3 == 3:
                leading = text.decode("utf-8", "replace")
            elif tag >> 3 == 4:
                trailing = text.decode("utf-8", "replace")
        return (leading, trailing)

    def mentions(self, text: bytes, *, any_case: bool = False) -> bool:
        """Tell whether any comment (or other string) of the file's source info contains `text`, UTF-8 encoded.

        With `any_case`, ASCII letters match in either case (`Deprecated` for b"deprecated").
        """
        key = (text, any_case)
        found = self._mentioned.get(key)
        if found is None:
            if self._data is None:
                self._data = self._source_info()
            # Lower-casing the bytes and searching takes a fifth of the time of a case-insensitive regex.
            found = text.lower() in self._data.lower() if any_case else text in self._data
            self._mentioned[key] = found
        return found

    def _lookup(self, key: tuple[int, ...]) -> Span | None:
        if key not in self._found:
            self._found[key] = self._search(key)
        return self._found[key]

    def _search(self, key: tuple[int, ...]) -> Span | None:
        if self._data is None:
            self._data = self._source_info()
        for length in range(2, len(key), 2):
            self._lookup(key[:length])  # locate the enclosing declarations first: they bound the search
        # Path numbers below 128 are one varint byte each: the usual path is its own encoding.
        payload = bytes(key) if max(key) < 128 and min(key) >= 0 else b"".join(_varint(number) for number in key)
        # A path is shorter than 128 bytes but in absurdly deep files: its length is one varint byte.
        size = bytes((len(payload),)) if len(payload) < 128 else _varint(len(payload))
        needle = _PATH_TAG + size + payload + _SPAN_TAG
        hint = self._hint(key)
        found = self._find(needle, hint)
        if found is None and hint:
            found = self._find(needle, 0)
        if found is None:
            return None
        offset, record_end = found
        self._remember(key, offset)
        span, after_span = _read_packed(self._data, offset + len(needle))
        self._rests[key] = (after_span, record_end)
        if len(span) == 3:  # start and end on one line: [line, column, end column]
            return (span[0] + 1, span[1] + 1, span[0] + 1, span[2] + 1)
        return (span[0] + 1, span[1] + 1, span[2] + 1, span[3] + 1) if len(span) == 4 else None

    def _find(self, needle: bytes, start: int) -> tuple[int, int] | None:
        """Return (offset of the path field, end of its Location record), or None."""
        data = self._data
        offset = data.find(needle, start)
        while offset >= 0:
            record_end = _location_end(data, offset)
            if record_end is not None:
                return offset, record_end
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


def _location_end(data: bytes, index: int) -> int | None:
    """Return where the Location record ends when a path field at `index` is its first field, else None."""
    for width in (1, 2, 3):
        tag_at = index - width - 1
        if tag_at >= 0 and data[tag_at] == _LOCATION_TAG:
            length, end = _read_varint(data, tag_at + 1)
            if end == index and length > 0:
                return index + length
    return None


def _read_packed(data: bytes, index: int) -> tuple[list[int], int]:
    """Return the values of a packed varint field starting at its length, and the offset after it."""
    length, index = _read_varint(data, index)
    end = index + length
    # The varints read in one loop over the field's bytes, without a call per number: a span is read per finding.
    values, value, shift = [], 0, 0
    for byte in data[index:end]:
        if byte < 0x80:
            values.append(value | byte << shift)
            value = shift = 0
        else:
            value |= (byte & 0x7F) << shift
            shift += 7
    return values, end


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
