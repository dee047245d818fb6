"""The elements lint rules look at, gathered in one walk per file.

Rules never walk descriptors themselves: the engine hands each rule one element
of the kind it declares (a field, an enum value, a method...), buf's way. Every
element knows its file, its source path (for line and column) and its `parent`,
the element whose `// lint:ignore` comments also apply to it (a field's message,
an enum value's enum, a method's service).

A message's fields are listed by the walk with their names, and made elements
only when a rule asks for them: a field rule whose row tests names (`names_pass`)
is handed only the extensions of a file whose field names all pass, which is how
the usual rules see a large schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from posixpath import dirname

from google.protobuf.descriptor_pb2 import FieldDescriptorProto, FileDescriptorProto

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
        # Every message field's descriptor and name, read in one walk; their elements are built only when a
        # rule needs them (see `fields`): the usual rules judge a large schema's fields by their names alone.
        self.field_protos: list[FieldDescriptorProto] = []
        self.field_names: list[str] = []
        # The extensions, nested ones first: few, built as elements at once.
        self.extensions: list[Field] = []
        self._fields: list[Field] | None = None
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
        for index, extension in enumerate(proto.extension[:]):
            self.extensions.append(Field(self, (FILE_EXTENSION, index), extension, None, is_extension=True))
        _walk_services(self, proto)

    @property
    def fields(self) -> list[Field]:
        """Return every field and extension in declaration order (a message's fields, then its extensions; the
        file's extensions last), their elements built on first need."""
        if self._fields is None:
            fields: list[Field] = []
            for message in self.messages:
                fields += message.fields
                if message.extensions:
                    fields += message.extensions
            self._fields = fields + [extension for extension in self.extensions if extension.parent is None]
        return self._fields

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
            if message._fields is not None or message.extensions:  # only these refer back to their message
                message.release()
        for enum in self.enums:
            enum.values = []
        for elements in (self.messages, self.extensions, self.oneofs, self.enums, self.enum_values):
            elements.clear()
        self._fields = None
        self.field_protos, self.field_names = [], []
        self.memo = {}  # what a rule keeps may refer back to the file (IMPORT_USED's reading of its types)
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
    __slots__ = ("full_name", "is_map_entry", "field_protos", "extensions", "_fields")
    kind = "message"

    def __init__(self, file, path, proto, parent, full_name: str):
        # _walk_messages writes this out (an attribute added here is set there too); HasField called as the
        # function it is.
        self.file = file
        self.path = path
        self.proto = proto
        self.name = proto.name
        self.parent = parent
        self.full_name = full_name
        self.is_map_entry = _has_field(proto, "options") and proto.options.map_entry
        self.field_protos: Sequence[FieldDescriptorProto] = ()
        self.extensions: Sequence[Field] = ()  # most messages declare none
        self._fields: list[Field] | None = None

    @property
    def is_top_level(self) -> bool:
        return self.parent is None

    @property
    def fields(self) -> list[Field]:
        """Return the message's fields (its extensions aside) in declaration order, built on first need."""
        if self._fields is None:
            self._fields = _field_elements(self)
        return self._fields

    def release(self) -> None:
        """Drop the fields, which refer to this message (see LintFile.release)."""
        self._fields, self.field_protos, self.extensions = None, (), ()


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
_NAME_OF = attrgetter("name")

# Repeated fields are sliced before a loop (`proto.field[:]`, a list of the same items, made in C): protobuf's
# upb containers have no iterator of their own, so a loop over one ends in an IndexError, formatted and then
# dropped, which costs about as much as reading a few items; a large schema's walk has thousands of loops.


def _walk_messages(file: LintFile, protos, prefix: tuple[int, ...], scope: str, parent: Message | None) -> None:
    # The hottest loop of a lint run (a large schema has thousands of fields): names are bound locally,
    # empty lists are not walked, repeated fields are sliced before a loop (see above), and a message's
    # fields are only listed with their names (read in C), not wrapped as elements.
    messages, field_protos, field_names, oneofs = file.messages, file.field_protos, file.field_names, file.oneofs
    for index, proto in enumerate(protos[:]):
        path = prefix + (index,)
        # Message's __init__ written out, as _field_elements does Field's: every message passes here.
        message = _new(Message)
        message.file = file
        message.path = path
        message.proto = proto
        message.name = name = proto.name
        message.parent = parent
        message.full_name = full_name = scope + name
        message.is_map_entry = _has_field(proto, "options") and proto.options.map_entry
        message.field_protos = own = proto.field[:]
        message.extensions = ()
        message._fields = None
        messages.append(message)
        field_protos += own
        field_names += map(_NAME_OF, own)
        if proto.extension:
            message.extensions = [
                Field(file, path + (MESSAGE_EXTENSION, number), extension, message, is_extension=True)
                for number, extension in enumerate(proto.extension[:])
            ]
            file.extensions += message.extensions
        if proto.oneof_decl:
            synthetic = {field.oneof_index for field in own if field.proto3_optional}
            for number, oneof in enumerate(proto.oneof_decl[:]):
                oneofs.append(Oneof(file, path + (MESSAGE_ONEOF_DECL, number), oneof, message, number in synthetic))
        if proto.enum_type:
            _walk_enums(file, proto.enum_type, path + (MESSAGE_ENUM_TYPE,), full_name + ".", message)
        if proto.nested_type:
            _walk_messages(file, proto.nested_type, path + (MESSAGE_NESTED_TYPE,), full_name + ".", message)


def _field_elements(message: Message) -> list[Field]:
    """Return the elements of a message's fields, in declaration order."""
    file, own = message.file, []
    field_prefix = message.path + (MESSAGE_FIELD,)
    for number, field_proto in enumerate(message.field_protos):
        # Field's __init__ written out: a class call with a Python __init__ costs twice a plain call.
        field = _new(Field)
        field.file = file
        field.path = field_prefix + (number,)
        field.proto = field_proto
        field.name = field_proto.name
        field.parent = message
        field.is_extension = False
        own.append(field)
    return own


def _walk_enums(file: LintFile, protos, prefix: tuple[int, ...], scope: str, parent: Message | None) -> None:
    for index, proto in enumerate(protos[:]):
        path = prefix + (index,)
        enum = Enum(file, path, proto, parent)
        value_prefix = path + (ENUM_VALUE,)
        enum.values = [
            EnumValue(file, value_prefix + (number,), value, enum) for number, value in enumerate(proto.value[:])
        ]
        file.enums.append(enum)
        file.enum_values.extend(enum.values)


def _walk_services(file: LintFile, proto: FileDescriptorProto) -> None:
    for index, service_proto in enumerate(proto.service[:]):
        path = (FILE_SERVICE, index)
        service = Service(file, path, service_proto, None)
        file.services.append(service)
        for number, method in enumerate(service_proto.method[:]):
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
    # For a field rule: a test of the names of a file's message fields, `(names, config)`; when it says yes,
    # the check would find nothing in any of them, and only the file's extensions are handed to it.
    names_pass: Callable[[list[str], object], bool] | None = None


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
