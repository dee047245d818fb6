"""Find where an element of a FileDescriptorProto was declared, from its source info.

Paths follow descriptor.proto's field numbers: a message is [4, i], its field
[4, i, 2, j], a nested message [4, i, 3, k], an enum [5, i], its value [5, i, 2, j],
a service [6, i], its method [6, i, 2, j].
"""
from collections.abc import Sequence

from google.protobuf.descriptor_pb2 import FileDescriptorProto

# Field numbers inside descriptor.proto, named so that path building reads as prose.
FILE_PACKAGE = 2
FILE_DEPENDENCY = 3
FILE_MESSAGE_TYPE = 4
FILE_ENUM_TYPE = 5
FILE_SERVICE = 6
FILE_OPTIONS = 8
FILE_SYNTAX = 12
FILE_EDITION = 14
MESSAGE_FIELD = 2
MESSAGE_NESTED_TYPE = 3
MESSAGE_ENUM_TYPE = 4
MESSAGE_EXTENSION_RANGE = 5
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


class SourceIndex:
    """Map element paths of one file to their 1-based (line, column) and leading comments.

    Spans are indexed on creation; comments only when first asked for, since most
    callers want positions alone and walking a large file's locations is not free.
    """

    def __init__(self, file: FileDescriptorProto):
        self._locations = file.source_code_info.location
        self._spans: dict[tuple[int, ...], tuple[int, int]] = {}
        for location in self._locations:
            key = tuple(location.path)
            if key not in self._spans:
                span = location.span
                if len(span) >= 3:
                    self._spans[key] = (span[0] + 1, span[1] + 1)
        self._comments: dict[tuple[int, ...], str] | None = None

    def _comment_index(self) -> dict[tuple[int, ...], str]:
        if self._comments is None:
            self._comments = {}
            for location in self._locations:
                if location.leading_comments or location.trailing_comments:
                    self._comments.setdefault(tuple(location.path), location.leading_comments + location.trailing_comments)
        return self._comments

    def position(self, path: Sequence[int]) -> tuple[int, int]:
        """Return the (line, column) of the element, or of its nearest located parent, or (0, 0)."""
        key = tuple(path)
        while key:
            if key in self._spans:
                return self._spans[key]
            key = key[:-1]
        return (0, 0)

    def comment(self, path: Sequence[int]) -> str:
        """Return the element's leading and trailing comments, empty when there are none."""
        return self._comment_index().get(tuple(path), "")

    def lines_with_comment(self, text: str) -> list[int]:
        """Return the 1-based lines whose span's comments contain `text` (for `// lint:ignore`)."""
        return sorted({self._spans[key][0] for key, comment in self._comment_index().items() if text in comment and key in self._spans})
