"""The elements lint rules look at, gathered in one walk per file.

Rules never walk descriptors themselves: the engine hands each rule one element
of the kind it declares (a field, an enum value, a method...), buf's way. Every
element knows its file, its source path (for line and column) and its `parent`,
the element whose `// lint:ignore` comments also apply to it (a field's message,
an enum value's enum, a method's service).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from posixpath import dirname

from google.protobuf.descriptor_pb2 import FileDescriptorProto

from protoengine.lint.workspace import Workspace
from protoengine.locations import (
    ENUM_VALUE,
    FILE_DEPENDENCY,
    FILE_ENUM_TYPE,
    FILE_EXTENSION,
    FILE_MESSAGE_TYPE,
    FILE_SERVICE,
    MESSAGE_ENUM_TYPE,
    MESSAGE_EXTENSION,
    MESSAGE_FIELD,
    MESSAGE_NESTED_TYPE,
    MESSAGE_ONEOF_DECL,
    SERVICE_METHOD,
    PositionFinder,
    SourceIndex,
)

_has_field = FileDescriptorProto.HasField  # the C function every message's HasField is

# Every named descriptor (message, field, oneof, enum, value, service, method) keeps its name in field 1.
NAME = 1


class LintFile:
    """One file to lint, with every element it declares listed by kind."""

    kind = "file"

    def __init__(
        self, proto: FileDescriptorProto, workspace: Workspace | None = None, *, finder: PositionFinder | None = None
    ):
        self.proto = proto
        self.workspace = workspace or Workspace([proto])
        self.name = proto.name
        self.path: tuple[int, ...] = ()
        self.parent = None
        self.package = proto.package
        # buf's directory of a file at the root is ".".
        self.directory = dirname(proto.name) or "."
        self.messages: list[Message] = []
        self.fields: list[Field] = []
        self.oneofs: list[Oneof] = []
        self.enums: list[Enum] = []
        self.enum_values: list[EnumValue] = []
        self.services: list[Service] = []
        self.methods: list[Method] = []
        public = set(proto.public_dependency)
        weak = set(proto.weak_dependency)
        self.imports = [
            Import(self, index, name, index in public, index in weak) for index, name in enumerate(proto.dependency)
        ]
        self._index: SourceIndex | None = None
        # The compiled set's finder, shared with the breaking checks and kept with the set.
        self._finder = finder
        # Per-file results that several checks share (used imports, ...), computed on first need.
        self.memo: dict[str, object] = {}
        _walk_messages(self, proto.message_type, (FILE_MESSAGE_TYPE,), _scope(proto.package), None)
        _walk_enums(self, proto.enum_type, (FILE_ENUM_TYPE,), _scope(proto.package), None)
        for index, extension in enumerate(proto.extension):
            self.fields.append(Field(self, (FILE_EXTENSION, index), extension, None, is_extension=True))
        _walk_services(self, proto)

    @property
    def file(self) -> LintFile:
        """Return the file itself: a file is the element of file rules (a property, not a reference to itself)."""
        return self

    def release(self) -> None:
        """Empty the element lists, so that the file and its elements are freed as soon as nobody holds them.

        Elements refer to their file and parent, and files and parents list their elements: without
        this, only Python's cycle collector frees them, and a large schema's thousands of elements
        make its full collections slow long after the lint run that built them.
        """
        for message in self.messages:
            message.fields = []
        for enum in self.enums:
            enum.values = []
        for elements in (self.messages, self.fields, self.oneofs, self.enums, self.enum_values):
            elements.clear()
        self.services, self.methods, self.imports = [], [], []

    @property
    def index(self) -> SourceIndex:
        """Return the file's SourceIndex, built on first use."""
        if self._index is None:
            self._index = SourceIndex(self.proto, self._finder)
        return self._index

    def leading_comment(self, path: tuple[int, ...]) -> str:
        """Return only the leading comment of an element: buf's COMMENT_* rules ignore trailing ones."""
        return self.index.leading_comment(path)


class Element:
    """A named declaration inside a file."""

    __slots__ = ("file", "path", "proto", "name", "parent")
    kind = "element"

    def __init__(self, file: LintFile, path: tuple[int, ...], proto, parent: Element | None):
        # Assigned here rather than through super() in subclasses: a big schema builds thousands.
        self.file = file
        self.path = path
        self.proto = proto
        self.name = proto.name
        self.parent = parent

    @property
    def name_path(self) -> tuple[int, ...]:
        return self.path + (NAME,)


class Message(Element):
    __slots__ = ("full_name", "is_map_entry", "fields")
    kind = "message"

    def __init__(self, file, path, proto, parent, full_name: str):
        # Assigned here, as Field does, and HasField called as the function it is: every message passes here.
        self.file = file
        self.path = path
        self.proto = proto
        self.name = proto.name
        self.parent = parent
        self.full_name = full_name
        self.is_map_entry = _has_field(proto, "options") and proto.options.map_entry
        self.fields: list[Field] = []

    @property
    def is_top_level(self) -> bool:
        return self.parent is None


class Field(Element):
    __slots__ = ("is_extension",)
    kind = "field"

    def __init__(self, file, path, proto, parent, is_extension: bool = False):
        # _walk_messages writes this out for a message's fields: an attribute added here is set there too.
        self.file = file
        self.path = path
        self.proto = proto
        self.name = proto.name
        self.parent = parent
        self.is_extension = is_extension

    @property
    def message(self) -> Message | None:
        return self.parent


class Oneof(Element):
    __slots__ = ("is_synthetic",)
    kind = "oneof"

    def __init__(self, file, path, proto, parent, is_synthetic: bool):
        super().__init__(file, path, proto, parent)
        # proto3 `optional` fields live in a oneof protoc invents; no one named it.
        self.is_synthetic = is_synthetic


class Enum(Element):
    __slots__ = ("values",)
    kind = "enum"


class EnumValue(Element):
    __slots__ = ()
    kind = "enum value"


class Service(Element):
    __slots__ = ()
    kind = "service"


class Method(Element):
    __slots__ = ()
    kind = "method"


class Import:
    """One `import` statement; its `name` is the imported path."""

    __slots__ = ("file", "path", "name", "index", "is_public", "is_weak", "parent")
    kind = "import"

    def __init__(self, file: LintFile, index: int, name: str, is_public: bool, is_weak: bool):
        self.file = file
        self.path = (FILE_DEPENDENCY, index)
        self.name = name
        self.index = index
        self.is_public = is_public
        self.is_weak = is_weak
        self.parent = None


def _scope(package: str) -> str:
    return package + "." if package else ""


_new = object.__new__


def _walk_messages(file: LintFile, protos, prefix: tuple[int, ...], scope: str, parent: Message | None) -> None:
    # The hottest loop of a lint run (a large schema has thousands of fields): names are bound locally and
    # empty lists are not walked.
    messages, fields, oneofs = file.messages, file.fields, file.oneofs
    for index, proto in enumerate(protos):
        path = prefix + (index,)
        full_name = scope + proto.name
        message = Message(file, path, proto, parent, full_name)
        messages.append(message)
        field_prefix = path + (MESSAGE_FIELD,)
        message.fields = own = []
        for number, field_proto in enumerate(proto.field):
            # Field's __init__ written out: a class call with a Python __init__ costs twice a plain call.
            field = _new(Field)
            field.file = file
            field.path = field_prefix + (number,)
            field.proto = field_proto
            field.name = field_proto.name
            field.parent = message
            field.is_extension = False
            own.append(field)
        fields += own
        if proto.extension:
            for number, extension in enumerate(proto.extension):
                fields.append(Field(file, path + (MESSAGE_EXTENSION, number), extension, message, is_extension=True))
        if proto.oneof_decl:
            synthetic = {field.oneof_index for field in proto.field if field.proto3_optional}
            for number, oneof in enumerate(proto.oneof_decl):
                oneofs.append(Oneof(file, path + (MESSAGE_ONEOF_DECL, number), oneof, message, number in synthetic))
        if proto.enum_type:
            _walk_enums(file, proto.enum_type, path + (MESSAGE_ENUM_TYPE,), full_name + ".", message)
        if proto.nested_type:
            _walk_messages(file, proto.nested_type, path + (MESSAGE_NESTED_TYPE,), full_name + ".", message)


def _walk_enums(file: LintFile, protos, prefix: tuple[int, ...], scope: str, parent: Message | None) -> None:
    for index, proto in enumerate(protos):
        path = prefix + (index,)
        enum = Enum(file, path, proto, parent)
        value_prefix = path + (ENUM_VALUE,)
        enum.values = [
            EnumValue(file, value_prefix + (number,), value, enum) for number, value in enumerate(proto.value)
        ]
        file.enums.append(enum)
        file.enum_values.extend(enum.values)


def _walk_services(file: LintFile, proto: FileDescriptorProto) -> None:
    for index, service_proto in enumerate(proto.service):
        path = (FILE_SERVICE, index)
        service = Service(file, path, service_proto, None)
        file.services.append(service)
        for number, method in enumerate(service_proto.method):
            file.methods.append(Method(file, path + (SERVICE_METHOD, number), method, service))


@dataclass(frozen=True)
class Problem:
    """What a rule found: the element it is about, buf-voiced text, and the source path to point at."""

    element: object
    message: str
    at: tuple[int, ...] | None = None

    @property
    def source_path(self) -> tuple[int, ...]:
        return self.element.path if self.at is None else self.at


# What a check returns: nothing, one problem, or several.
CheckResult = Problem | Iterable[Problem] | None


@dataclass(frozen=True)
class LintRule:
    """One row of the rule table: an id, what it is for, its categories, and the check.

    `scope` names what the check is handed: an element kind ("field", "message",
    "enum", "enum_value", "oneof", "service", "method", "import", "file") or
    "files" for rules that compare files with each other; `check(element, config)`
    or `check(files, config)` returns None, a Problem or an iterable of Problems.
    """

    id: str
    purpose: str
    categories: tuple[str, ...]
    scope: str
    check: Callable[..., CheckResult]
    # A cheap test of a whole file; when it says no, the check never sees the file's elements.
    applies: Callable[[LintFile], bool] | None = None


def elements_of(file: LintFile, scope: str) -> list:
    """Return the elements of one kind in the file, in declaration order."""
    if scope == "file":
        return [file]
    return getattr(file, _SCOPE_LISTS[scope])


_SCOPE_LISTS = {
    "message": "messages",
    "field": "fields",
    "oneof": "oneofs",
    "enum": "enums",
    "enum_value": "enum_values",
    "service": "services",
    "method": "methods",
    "import": "imports",
}


def problems(result: CheckResult) -> Iterable[Problem]:
    """Return a check's result as an iterable of Problems."""
    if result is None:
        return ()
    if isinstance(result, Problem):
        return (result,)
    return result
