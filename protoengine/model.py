"""One model of a compiled file set, built once and shared by everything that reads the set.

Breaking checks, lint, Confluent's SchemaDiff, semantic versions and the printer all
need the same things of a set: its files by name, where each element was declared and
what it says in comments, and indexes of declarations by full name. A `DescriptorModel`
builds each part on first need and keeps it, and a compiled set (`CompiledFiles.model`)
keeps its model, so a set compared, linted and printed in one registration is indexed
once, and an earlier version kept in a cache is never indexed again.

The element index (`DescriptorModel.elements`) is the one tree of the set's
declarations that breaking and Confluent's SchemaDiff both read: each file's top-level
messages, enums, services and extensions by full name, and below a message its nested
types, fields by number and oneofs, below an enum its values, below a service its
methods, each element with its descriptor, file, source path, full name and parent.
Everything below the top level is wrapped on first need and kept, so a comparison that
looks only at the messages that changed never wraps the rest.
"""

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from functools import cached_property
from typing import TypeVar

from google.protobuf.descriptor_pb2 import DescriptorProto, FieldDescriptorProto, FileDescriptorProto

from protoengine.compiler import is_well_known
from protoengine.locations import (
    ENUM_VALUE,
    FILE_ENUM_TYPE,
    FILE_EXTENSION,
    FILE_MESSAGE_TYPE,
    FILE_SERVICE,
    MESSAGE_ENUM_TYPE,
    MESSAGE_EXTENSION,
    MESSAGE_FIELD,
    MESSAGE_NESTED_TYPE,
    SERVICE_METHOD,
    PositionFinder,
)

# What a file declares, by kind, each by its name inside the file with its source path.
Declarations = dict[str, dict[str, tuple[int, ...]]]

# (file path, start line, start column, end line, end column); the numbers are 0 when the source has no location.
Place = tuple[str, int, int, int, int]

T = TypeVar("T")


class DescriptorModel:
    """The files of a compiled set (well-known types included) and what is derived from them.

    `given` names the files that came from the input (CompiledFiles.given): a tree's own copy
    of a well-known file is one of its own files, as buf treats it.
    """

    def __init__(self, files: Iterable[FileDescriptorProto], given: Collection[str] = frozenset()):
        self.files: tuple[FileDescriptorProto, ...] = tuple(files)
        self.given = frozenset(given)
        self._finders: dict[str, PositionFinder] = {}
        self._serialized: dict[str, tuple[bytes, bytes]] = {}
        self._symbols: dict[str, dict[str, str]] = {}
        self._confluent: dict[bool, object] = {}
        self._declarations: dict[str, Declarations] = {}
        self._file_elements: dict[str, FileElement] = {}
        self._elements: dict[bool, ElementIndex] = {}

    @cached_property
    def own_files(self) -> tuple[FileDescriptorProto, ...]:
        """Return the files that are not Google's well-known types, or that the input gave (its own copy of one)."""
        return tuple(file for file in self.files if file.name in self.given or not is_well_known(file.name))

    @cached_property
    def by_name(self) -> dict[str, FileDescriptorProto]:
        return {file.name: file for file in self.files}

    def release(self) -> None:
        """Let go of everything built from the set: its element trees, finders, tables and Confluent's view.

        Called when the set's CompiledFiles is freed (the set's last user is done with it). Elements refer
        to their file and parents, which list them, and the finders and the workspace read through the
        model: left as they are, only the cycle collector frees them (and the parsed set they hold), later
        and at the cost of whatever runs then. Emptied here, reference counting frees them at once.
        """
        pending: list = list(self._file_elements.values())
        for index in self._elements.values():
            pending.extend(index.files.values())
        self._file_elements, self._elements, self._finders, self._confluent = {}, {}, {}, {}
        self.__dict__.pop("workspace", None)
        seen: set[int] = set()
        while pending:
            element = pending.pop()
            if id(element) in seen:
                continue
            seen.add(id(element))
            attributes = vars(element)
            for value in attributes.values():
                if isinstance(value, dict):
                    pending.extend(item for item in value.values() if isinstance(item, FileElement | Element))
            attributes.clear()

    def finder(self, file: FileDescriptorProto) -> PositionFinder:
        """Return the one position and comment finder of a file of this set (a new one for a foreign file)."""
        finder = self._finders.get(file.name)
        if finder is None or finder.file is not file:
            if self.by_name.get(file.name) is file:
                finder = self._finders[file.name] = PositionFinder(file, lambda: self.serialized(file)[1])
            else:
                finder = PositionFinder(file)
        return finder

    def serialized(self, file: FileDescriptorProto) -> tuple[bytes, bytes]:
        """Return a file of this set serialized once: its bytes without name and source info, and its source info's.

        The position finder searches the second; identity fingerprints hash both
        (canonical.identity_fingerprint_of). A foreign file is serialized anew.
        """
        from protoengine.canonical import descriptor_and_source_info  # canonical prints with the model

        return self._kept_per_file(self._serialized, file, descriptor_and_source_info)

    def declarations(self, file: FileDescriptorProto) -> Declarations:
        """Return a file's messages, enums, extensions and services by name inside the file (see declarations_of).

        Walked once per file of the set: breaking's deletion rules and lint's table of
        declaring files both read it.
        """
        return self._kept_per_file(self._declarations, file, declarations_of)

    def symbols(self, file: FileDescriptorProto) -> dict[str, str]:
        """Return the full names a file of this set declares with their kinds: the printer's symbol table."""
        from protoengine.printer import symbols_of_file

        return self._kept_per_file(self._symbols, file, symbols_of_file)

    def _kept_per_file(self, kept: dict, file: FileDescriptorProto, compute: Callable[[FileDescriptorProto], T]) -> T:
        """Return compute(file), computed once for a file of this set and kept in `kept`; anew for a foreign file."""
        if self.by_name.get(file.name) is not file:
            return compute(file)
        found = kept.get(file.name)
        if found is None:
            found = kept[file.name] = compute(file)
        return found

    def file_element(self, file: FileDescriptorProto) -> "FileElement":
        """Return the one element tree of a file of this set (a new one for a foreign file)."""
        found = self._file_elements.get(file.name)
        if found is None or found.proto is not file:
            found = FileElement(file, self)
            if self.by_name.get(file.name) is file:
                self._file_elements[file.name] = found
        return found

    def elements(self, *, well_known: bool = True) -> "ElementIndex":
        """Return the element index of the set's files; without `well_known`, of its own files (see own_files).

        Both indexes share each file's element tree, so an element reached through
        either is the same object, wrapped once.
        """
        index = self._elements.get(well_known)
        if index is None:
            files = self.files if well_known else self.own_files
            index = self._elements[well_known] = ElementIndex(self, [self.file_element(file) for file in files])
        return index

    @property
    def breaking(self) -> "ElementIndex":
        """Return the index breaking-change comparisons read: the set's own files (no bundled well-known types)."""
        return self.elements(well_known=False)

    def confluent(self, *, well_known: bool = True):
        """Return the set as Confluent's SchemaDiff sees it: its root file and the types the root can see.

        Without `well_known`, types of Google's well-known files stay unknown to it, as
        they do when a version reaches the comparison as a breaking index (own files only).
        """
        from protoengine.confluent_diff import ConfluentSchema

        if well_known not in self._confluent:
            self._confluent[well_known] = ConfluentSchema.of(self, well_known=well_known)
        return self._confluent[well_known]

    @cached_property
    def workspace(self):
        """Return which file declares each type and extension, for lint's import rules."""
        from protoengine.lint.workspace import Workspace

        return Workspace(self.files, self.declarations)


def model_of(files) -> DescriptorModel:
    """Return the model of a compiled set, of a model, or a new one of a plain sequence of files."""
    if isinstance(files, DescriptorModel):
        return files
    model = getattr(files, "model", None)
    if isinstance(model, DescriptorModel):
        return model
    return DescriptorModel(files)


def declarations_of(file: FileDescriptorProto) -> Declarations:
    """Return what a file declares: {"messages", "enums", "extensions", "services"} -> {name: source path}.

    Names are those inside the file (`Outer`, `Outer.Inner`, map entries included), as
    buf pairs declarations; the package plus "." before one gives its full name. Read
    straight from the descriptors, without wrapping any element.
    """
    messages: dict[str, tuple[int, ...]] = {}
    # Repeated fields are sliced before a loop: upb's containers have no iterator, and a loop over one ends in an
    # IndexError, formatted and dropped (about the cost of reading a few items).
    enums = {enum.name: (FILE_ENUM_TYPE, index) for index, enum in enumerate(file.enum_type[:])}
    extensions = {extension.name: (FILE_EXTENSION, index) for index, extension in enumerate(file.extension[:])}
    services = {service.name: (FILE_SERVICE, index) for index, service in enumerate(file.service[:])}
    pending = [("", (FILE_MESSAGE_TYPE, index), message) for index, message in enumerate(file.message_type[:])]
    while pending:
        scope, path, message = pending.pop()
        name = scope + message.name
        messages[name] = path
        inner = name + "."
        if message.enum_type:
            for index, enum in enumerate(message.enum_type[:]):
                enums[inner + enum.name] = path + (MESSAGE_ENUM_TYPE, index)
        if message.extension:
            for index, extension in enumerate(message.extension[:]):
                extensions[inner + extension.name] = path + (MESSAGE_EXTENSION, index)
        if message.nested_type:
            pending += [
                (inner, path + (MESSAGE_NESTED_TYPE, index), nested)
                for index, nested in enumerate(message.nested_type[:])
            ]
    return {"messages": messages, "enums": enums, "extensions": extensions, "services": services}


# ---------------------------------------------------------------- the element index


class _kept:  # a decorator, named like functools.cached_property
    """Compute an attribute on first read and keep it in the instance, as functools.cached_property does.

    Without the lock Python 3.11's cached_property takes on every first read: a comparison
    of a large set reads thousands of these, each once.
    """

    def __init__(self, function):
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.function(instance)
        return value


class ElementIndex:
    """Files of a set by name and their top-level declarations by full name, looking into nested ones on demand."""

    def __init__(self, model: DescriptorModel, files: Iterable["FileElement"]):
        self.model = model
        self.files: dict[str, FileElement] = {}
        self.messages: dict[str, MessageElement] = {}
        self.enums: dict[str, EnumElement] = {}
        self.services: dict[str, ServiceElement] = {}
        self.extensions: dict[str, FieldElement] = {}
        self.packages: dict[str, list[FileElement]] = defaultdict(list)
        for file in files:
            self.files[file.name] = file
            self.packages[file.package].append(file)
            self.messages.update(file.messages)
            self.enums.update(file.enums)
            self.services.update(file.services)
            self.extensions.update(file.extensions)

    def find(self, full_name: str) -> "MessageElement | EnumElement | None":
        """Return the message or enum of that full name, looking into nested declarations as needed."""
        found = self.messages.get(full_name) or self.enums.get(full_name)
        if found is None and "." in full_name:
            scope, _, name = full_name.rpartition(".")
            parent = self.find(scope)
            if isinstance(parent, MessageElement):
                found = parent.messages.get(name) or parent.enums.get(name)
        return found


class FileElement:
    """One file of a set, with its top-level declarations by full name."""

    def __init__(self, proto: FileDescriptorProto, model: DescriptorModel):
        self.proto = proto
        self.model = model
        self.name = proto.name
        self.package = proto.package
        self.syntax = proto.syntax or "proto2"
        self.parent = None
        self._finder: PositionFinder | None = None
        self._declared: dict[str, dict] = {}
        options = proto.options
        # Syntax, edition and file-wide features: what, besides each descriptor, decides the encoding.
        self.context = (
            self.syntax,
            proto.edition,
            _features_bytes(options) if proto.HasField("options") else b"",
            options.java_string_check_utf8,
        )
        prefix, context = self.prefix(), self.context
        self.messages: dict[str, MessageElement] = {}
        for index, message in enumerate(proto.message_type):
            element = MessageElement(message, self, (FILE_MESSAGE_TYPE, index), prefix + message.name, self, context)
            self.messages[element.full_name] = element
        self.enums: dict[str, EnumElement] = {}
        for index, enum in enumerate(proto.enum_type):
            element = EnumElement(enum, self, (FILE_ENUM_TYPE, index), prefix + enum.name, self, context)
            self.enums[element.full_name] = element
        self.services: dict[str, ServiceElement] = {}
        for index, service in enumerate(proto.service):
            element = ServiceElement(service, self, (FILE_SERVICE, index), prefix + service.name, self)
            self.services[element.full_name] = element
        self.extensions: dict[str, FieldElement] = {}
        for index, extension in enumerate(proto.extension):
            element = FieldElement(extension, self, (FILE_EXTENSION, index), prefix + extension.name, self)
            self.extensions[element.full_name] = element

    @property
    def options(self):
        return self.proto.options if self.proto.HasField("options") else None

    @property
    def finder(self) -> PositionFinder:
        """Return the set's one position and comment finder of this file."""
        if self._finder is None:
            self._finder = self.model.finder(self.proto)
        return self._finder

    def place(self, path: tuple[int, ...]) -> Place:
        """Return the span of exactly the element at `path`; zeros when the source has none."""
        return (self.name, *self.finder.exact_span(path))

    def at(self, *suffix: int) -> Place:
        """Return the place of a file-level declaration (an option, the package, the syntax), else the bare file."""
        return self.place(suffix) if suffix else (self.name, 0, 0, 0, 0)

    def prefix(self) -> str:
        return f"{self.package}." if self.package else ""

    def declared(self, kind: str) -> dict[str, tuple["FileElement", tuple[int, ...]]]:
        """Return the file's declarations of one kind by their name inside the file (`Outer`, `Outer.Inner`).

        `kind` is "messages", "enums", "extensions" or "services"; each name maps to
        (this file, source path). Read from the set model's one walk of the file
        (DescriptorModel.declarations) and kept with the file.
        """
        found = self._declared.get(kind)
        if found is None:
            table = self.model.declarations(self.proto)
            found = self._declared[kind] = {name: (self, path) for name, path in table[kind].items()}
        return found

    def same_declarations(self, other: "FileElement") -> bool:
        """Tell whether two versions of the file declare exactly the same things (comments and layout aside)."""
        mine, theirs = self.proto, other.proto
        return (
            self.context == other.context
            and mine.package == theirs.package
            and mine.options == theirs.options
            and mine.message_type == theirs.message_type
            and mine.enum_type == theirs.enum_type
            and mine.service == theirs.service
            and mine.extension == theirs.extension
        )


class Element:
    """One declaration: its descriptor, its file, its source path, its full name and what declares it."""

    def __init__(self, proto, file: FileElement, path: tuple[int, ...], full_name: str, parent):
        self.proto = proto
        self.file = file
        self.path = path
        self.full_name = full_name
        self.parent = parent

    @property
    def name(self) -> str:
        return self.proto.name

    @property
    def local_name(self) -> str:
        """Return the name inside the file: the full name without the package (`Outer.Inner`)."""
        return self.full_name[len(self.file.prefix()) :]

    def at(self, *suffix: int) -> Place:
        """Return the place of a part of this element named by `suffix` if the source has it, else the element's."""
        if suffix:
            place = self.file.place(self.path + suffix)
            if place[1]:
                return place
        return self.file.place(self.path)

    @property
    def options(self):
        return self.proto.options if self.proto.HasField("options") else None


class MessageElement(Element):
    def __init__(self, proto: DescriptorProto, file, path, full_name, parent, context):
        super().__init__(proto, file, path, full_name, parent)
        # Syntax and inherited features: what, besides the descriptor, decides the encoding.
        self.context = context

    @_kept
    def inner_context(self) -> tuple:
        """Return the context nested declarations inherit: this one's, plus the features it sets."""
        if self.file.syntax == "editions" and self.proto.HasField("options"):
            return self.context + (_features_bytes(self.proto.options),)
        return self.context

    @_kept
    def is_map_entry(self) -> bool:
        proto = self.proto
        return isinstance(self.parent, MessageElement) and proto.HasField("options") and proto.options.map_entry

    @_kept
    def map_field_path(self) -> tuple[int, ...] | None:
        """Return the source path of the map field this entry message was generated for."""
        if not self.is_map_entry:
            return None
        type_name = f".{self.full_name}"
        index = next(index for index, field in enumerate(self.parent.proto.field) if field.type_name == type_name)
        return self.parent.path + (MESSAGE_FIELD, index)

    @property
    def map_field(self) -> FieldDescriptorProto:
        """Return the map field this entry message was generated for."""
        return self.parent.proto.field[self.map_field_path[-1]]

    def at(self, *suffix: int) -> Place:
        # A map's entry message is generated and has no source; its place is the map field's.
        if self.is_map_entry:
            return self.file.place(self.map_field_path)
        return super().at(*suffix)

    @_kept
    def messages(self) -> dict[str, "MessageElement"]:
        """Return the nested messages by name."""
        if not self.proto.nested_type:
            return {}
        return self._declared(self.proto.nested_type, MESSAGE_NESTED_TYPE, MessageElement, self.inner_context)

    @_kept
    def enums(self) -> dict[str, "EnumElement"]:
        """Return the nested enums by name."""
        if not self.proto.enum_type:
            return {}
        return self._declared(self.proto.enum_type, MESSAGE_ENUM_TYPE, EnumElement, self.inner_context)

    @_kept
    def extensions(self) -> dict[str, "FieldElement"]:
        """Return the extensions declared inside this message, by name."""
        return self._declared(self.proto.extension, MESSAGE_EXTENSION, FieldElement)

    def _declared(self, protos, kind: int, element_class, *context) -> dict:
        """Return elements of the declarations `protos` (this message's `kind` of child) by name."""
        return {
            proto.name: element_class(
                proto, self.file, self.path + (kind, index), f"{self.full_name}.{proto.name}", self, *context
            )
            for index, proto in enumerate(protos[:])
        }

    @_kept
    def numbers(self) -> dict[int, int]:
        """Return the index of each field number in the descriptor, without wrapping the fields."""
        return {proto.number: index for index, proto in enumerate(self.proto.field[:])}

    @_kept
    def _wrapped(self) -> dict[int, "FieldElement"]:
        return {}

    def field(self, number: int) -> "FieldElement":
        """Return the field of that number (which must exist)."""
        element = self._wrapped.get(number)
        if element is None:
            index = self.numbers[number]
            element = self._wrapped[number] = self._wrap(index, self.proto.field[index])
        return element

    @_kept
    def fields(self) -> dict[int, "FieldElement"]:
        """Return every field by number, in declaration order: the same elements `field` returns."""
        wrapped, found = self._wrapped, {}
        for index, proto in enumerate(self.proto.field[:]):
            element = wrapped.get(proto.number)
            if element is None:
                element = wrapped[proto.number] = self._wrap(index, proto)
            found[proto.number] = element
        return found

    def _wrap(self, index: int, proto: FieldDescriptorProto) -> "FieldElement":
        path = self.map_field_path if self.is_map_entry else self.path + (MESSAGE_FIELD, index)
        return FieldElement(proto, self.file, path, f"{self.full_name}.{proto.name}", self, self.oneof_of(proto))

    def oneof_of(self, field: FieldDescriptorProto) -> str | None:
        """Return the name of the real oneof the field belongs to, if any."""
        if field.HasField("oneof_index") and field.oneof_index not in self.synthetic_oneofs:
            return self.proto.oneof_decl[field.oneof_index].name
        return None

    @_kept
    def synthetic_oneofs(self) -> frozenset[int]:
        """Return the indexes of the oneofs protoc made for proto3 `optional` fields."""
        if not self.proto.oneof_decl:
            return frozenset()
        return frozenset(f.oneof_index for f in self.proto.field if f.proto3_optional)

    @_kept
    def oneofs(self) -> dict[str, int]:
        """Return the real (not synthetic) oneofs: name -> index."""
        return {
            oneof.name: index for index, oneof in enumerate(self.proto.oneof_decl) if index not in self.synthetic_oneofs
        }


class FieldElement(Element):
    """A message field or an extension; `parent` is the message (or file) that declares it."""

    def __init__(self, proto: FieldDescriptorProto, file, path, full_name, parent, oneof=None):
        # Assigned here rather than through super(): a large set has thousands of fields.
        self.proto = proto
        self.file = file
        self.path = path
        self.full_name = full_name
        self.parent = parent
        self.oneof = oneof

    @property
    def number(self) -> int:
        return self.proto.number

    @property
    def is_extension(self) -> bool:
        return bool(self.proto.extendee)

    @property
    def message_name(self) -> str:
        """Return the full name of the message this field belongs to (the extended one for extensions)."""
        return self.proto.extendee.lstrip(".") if self.is_extension else self.parent.full_name

    @property
    def type_name(self) -> str:
        return self.proto.type_name.lstrip(".")

    @property
    def is_map(self) -> bool:
        """Tell whether this is a map field: a repeated field of a map entry nested in its own message."""
        if (
            self.is_extension
            or self.proto.label != FieldDescriptorProto.LABEL_REPEATED
            or self.proto.type != FieldDescriptorProto.TYPE_MESSAGE
        ):
            return False
        scope, _, name = self.type_name.rpartition(".")
        entry = self.parent.messages.get(name) if scope == self.parent.full_name else None
        return entry is not None and entry.is_map_entry

    @property
    def in_map_entry(self) -> bool:
        return isinstance(self.parent, MessageElement) and self.parent.is_map_entry and not self.is_extension

    def surroundings(self) -> tuple:
        """Return what, besides the field's own descriptor, decides how it is encoded."""
        scope = self.parent.context if isinstance(self.parent, MessageElement) else self.file.context
        return (scope, self.oneof, self.is_map)


class EnumElement(Element):
    def __init__(self, proto, file, path, full_name, parent, context):
        super().__init__(proto, file, path, full_name, parent)
        self.context = context

    @_kept
    def values(self) -> dict[int, list["EnumValueElement"]]:
        """Return the values by number; aliases share a number."""
        values: dict[int, list[EnumValueElement]] = defaultdict(list)
        for index, proto in enumerate(self.proto.value):
            values[proto.number].append(
                EnumValueElement(
                    proto, self.file, self.path + (ENUM_VALUE, index), f"{self.full_name}.{proto.name}", self
                )
            )
        return dict(values)

    @property
    def default_number(self) -> int:
        """Return the number a field of this enum holds when unset without an explicit default."""
        return self.proto.value[0].number if self.proto.value else 0


class EnumValueElement(Element):
    pass


class ServiceElement(Element):
    @_kept
    def methods(self) -> dict[str, "MethodElement"]:
        """Return the methods by name."""
        return {
            proto.name: MethodElement(
                proto, self.file, self.path + (SERVICE_METHOD, index), f"{self.full_name}.{proto.name}", self
            )
            for index, proto in enumerate(self.proto.method)
        }


class MethodElement(Element):
    pass


def _features_bytes(options) -> bytes:
    return options.features.SerializeToString() if options.HasField("features") else b""
