"""Index two sets of files and hand each rule matched (previous, current) elements.

Files pair by path, messages, enums, services and extensions by fully qualified name
across the whole set (a type may move to another file), fields by number, enum
values by number, methods by name. Rules never walk files: they get one pair at a
time from `Comparison.pairs(kind)`.

The comparison is a tree diff. Top-level declarations are indexed and paired by
full name; a message pair whose descriptors are equal (in the same surroundings)
has equal nested types too, so only differing pairs are descended into. Deleted
types are found by the rules over pairs of differing files (and over the packages
those are in), by their names inside the file as buf finds them. A comparison of
two large, mostly equal schemas therefore costs little more than one equality test
per top-level type.
"""

import weakref
from collections import defaultdict
from functools import cached_property

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
from protoengine.model import declarations_of

# The kinds of pairs a rule can ask for.
SCHEMAS = "schemas"
FILES = "files"
MESSAGES = "messages"
FIELDS = "fields"
ENUMS = "enums"
ENUM_VALUES = "enum_values"
SERVICES = "services"
METHODS = "methods"

# (file path, start line, start column, end line, end column); the numbers are 0 when buf has no location.
Place = tuple[str, int, int, int, int]


class Element:
    """One declaration: its descriptor, its file, its source path, its full name and what declares it."""

    def __init__(self, proto, file: "FileRef", path: tuple[int, ...], full_name: str, parent):
        self.proto = proto
        self.file = file
        self.path = path
        self.full_name = full_name
        self.parent = parent

    @property
    def name(self) -> str:
        return self.proto.name

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


class FileRef:
    """One file of a set, with its top-level declarations by full name."""

    def __init__(self, proto: FileDescriptorProto, schema: "Schema"):
        self.proto = proto
        self.schema = schema
        self.name = proto.name
        self.package = proto.package
        self.syntax = proto.syntax or "proto2"
        self.parent = None
        self.messages: dict[str, MessageRef] = {}
        self.enums: dict[str, EnumRef] = {}
        self.services: dict[str, ServiceRef] = {}
        self.extensions: dict[str, FieldRef] = {}
        self._finder: PositionFinder | None = None
        self._declared: dict[str, dict] = {}
        options = proto.options
        self.context = (
            self.syntax,
            proto.edition,
            _features_bytes(options) if proto.HasField("options") else b"",
            options.java_string_check_utf8,
        )

    @property
    def options(self):
        return self.proto.options if self.proto.HasField("options") else None

    def place(self, path: tuple[int, ...]) -> Place:
        """Return the span of exactly the element at `path`; zeros when the source has none."""
        if self._finder is None:
            model = self.schema.model
            self._finder = model.finder(self.proto) if model is not None else PositionFinder(self.proto)
        return (self.name, *self._finder.exact_span(path))

    def at(self, *suffix: int) -> Place:
        """Return the place of a file-level declaration (an option, the package, the syntax), else the bare file."""
        return self.place(suffix) if suffix else (self.name, 0, 0, 0, 0)

    def prefix(self) -> str:
        return f"{self.package}." if self.package else ""

    def declared(self, kind: str) -> dict[str, tuple["FileRef", tuple[int, ...]]]:
        """Return the file's declarations of one kind by their name inside the file (`Outer`, `Outer.Inner`).

        `kind` is "messages", "enums", "extensions" or "services"; each name maps to
        (this file, source path). Read from the set model's one walk of the file
        (DescriptorModel.declarations) and kept with the file.
        """
        found = self._declared.get(kind)
        if found is None:
            model = self.schema.model
            table = model.declarations(self.proto) if model is not None else declarations_of(self.proto)
            found = self._declared[kind] = {name: (self, path) for name, path in table[kind].items()}
        return found

    def same_declarations(self, other: "FileRef") -> bool:
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


class MessageRef(Element):
    def __init__(self, proto: DescriptorProto, file, path, full_name, parent, context):
        super().__init__(proto, file, path, full_name, parent)
        # Syntax and inherited features: what, besides the descriptor, decides the encoding.
        self.context = context

    @cached_property
    def inner_context(self) -> tuple:
        """Return the context nested declarations inherit: this one's, plus the features it sets."""
        if self.file.syntax == "editions" and self.proto.HasField("options"):
            return self.context + (_features_bytes(self.proto.options),)
        return self.context

    @cached_property
    def is_map_entry(self) -> bool:
        return isinstance(self.parent, MessageRef) and self.proto.HasField("options") and self.proto.options.map_entry

    @cached_property
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

    @cached_property
    def messages(self) -> dict[str, "MessageRef"]:
        """Return the nested messages by name."""
        return {
            proto.name: MessageRef(
                proto,
                self.file,
                self.path + (MESSAGE_NESTED_TYPE, index),
                f"{self.full_name}.{proto.name}",
                self,
                self.inner_context,
            )
            for index, proto in enumerate(self.proto.nested_type)
        }

    @cached_property
    def enums(self) -> dict[str, "EnumRef"]:
        """Return the nested enums by name."""
        return {
            proto.name: EnumRef(
                proto,
                self.file,
                self.path + (MESSAGE_ENUM_TYPE, index),
                f"{self.full_name}.{proto.name}",
                self,
                self.inner_context,
            )
            for index, proto in enumerate(self.proto.enum_type)
        }

    @cached_property
    def extensions(self) -> dict[str, "FieldRef"]:
        """Return the extensions declared inside this message, by name."""
        return {
            proto.name: FieldRef(
                proto, self.file, self.path + (MESSAGE_EXTENSION, index), f"{self.full_name}.{proto.name}", self
            )
            for index, proto in enumerate(self.proto.extension)
        }

    @cached_property
    def numbers(self) -> dict[int, int]:
        """Return the index of each field number in the descriptor, without wrapping the fields."""
        return {proto.number: index for index, proto in enumerate(self.proto.field)}

    @cached_property
    def _wrapped(self) -> dict[int, "FieldRef"]:
        return {}

    def field(self, number: int) -> "FieldRef":
        """Return the field of that number (which must exist)."""
        ref = self._wrapped.get(number)
        if ref is None:
            index = self.numbers[number]
            proto = self.proto.field[index]
            path = self.map_field_path or self.path + (MESSAGE_FIELD, index)
            ref = self._wrapped[number] = FieldRef(
                proto, self.file, path, f"{self.full_name}.{proto.name}", self, self.oneof_of(proto)
            )
        return ref

    @property
    def fields(self) -> dict[int, "FieldRef"]:
        """Return every field by number."""
        return {number: self.field(number) for number in self.numbers}

    def oneof_of(self, field: FieldDescriptorProto) -> str | None:
        """Return the name of the real oneof the field belongs to, if any."""
        if field.HasField("oneof_index") and field.oneof_index not in self.synthetic_oneofs:
            return self.proto.oneof_decl[field.oneof_index].name
        return None

    @cached_property
    def synthetic_oneofs(self) -> frozenset[int]:
        """Return the indexes of the oneofs protoc made for proto3 `optional` fields."""
        if not self.proto.oneof_decl:
            return frozenset()
        return frozenset(f.oneof_index for f in self.proto.field if f.proto3_optional)

    @cached_property
    def oneofs(self) -> dict[str, int]:
        """Return the real (not synthetic) oneofs: name -> index."""
        return {
            oneof.name: index for index, oneof in enumerate(self.proto.oneof_decl) if index not in self.synthetic_oneofs
        }


class FieldRef(Element):
    """A message field or an extension; `parent` is the message (or file) that declares it."""

    def __init__(self, proto: FieldDescriptorProto, file, path, full_name, parent, oneof=None):
        super().__init__(proto, file, path, full_name, parent)
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
        return isinstance(self.parent, MessageRef) and self.parent.is_map_entry and not self.is_extension

    def surroundings(self) -> tuple:
        """Return what, besides the field's own descriptor, decides how it is encoded."""
        scope = self.parent.context if isinstance(self.parent, MessageRef) else self.file.context
        return (scope, self.oneof, self.is_map)


class EnumRef(Element):
    def __init__(self, proto, file, path, full_name, parent, context):
        super().__init__(proto, file, path, full_name, parent)
        self.context = context

    @cached_property
    def values(self) -> dict[int, list["EnumValueRef"]]:
        """Return the values by number; aliases share a number."""
        values: dict[int, list[EnumValueRef]] = defaultdict(list)
        for index, proto in enumerate(self.proto.value):
            values[proto.number].append(
                EnumValueRef(proto, self.file, self.path + (ENUM_VALUE, index), f"{self.full_name}.{proto.name}", self)
            )
        return dict(values)

    @property
    def default_number(self) -> int:
        """Return the number a field of this enum holds when unset without an explicit default."""
        return self.proto.value[0].number if self.proto.value else 0


class EnumValueRef(Element):
    pass


class ServiceRef(Element):
    @cached_property
    def methods(self) -> dict[str, "MethodRef"]:
        """Return the methods by name."""
        return {
            proto.name: MethodRef(
                proto, self.file, self.path + (SERVICE_METHOD, index), f"{self.full_name}.{proto.name}", self
            )
            for index, proto in enumerate(self.proto.method)
        }


class MethodRef(Element):
    pass


class Schema:
    """The files of a set and their top-level declarations; Google's well-known types are left out."""

    def __init__(self, files, model=None):
        # The set's DescriptorModel shares each file's position finder with lint and the printer.
        self.model = model
        self.files: dict[str, FileRef] = {}
        self.messages: dict[str, MessageRef] = {}
        self.enums: dict[str, EnumRef] = {}
        self.services: dict[str, ServiceRef] = {}
        self.extensions: dict[str, FieldRef] = {}
        self.packages: dict[str, list[FileRef]] = defaultdict(list)
        for proto in files:
            if not is_well_known(proto.name):
                self._add_file(FileRef(proto, self))

    def _add_file(self, file: FileRef) -> None:
        self.files[file.name] = file
        self.packages[file.package].append(file)
        proto, prefix, context = file.proto, file.prefix(), file.context
        for index, message in enumerate(proto.message_type):
            ref = MessageRef(message, file, (FILE_MESSAGE_TYPE, index), prefix + message.name, file, context)
            self.messages[ref.full_name] = file.messages[ref.full_name] = ref
        for index, enum in enumerate(proto.enum_type):
            ref = EnumRef(enum, file, (FILE_ENUM_TYPE, index), prefix + enum.name, file, context)
            self.enums[ref.full_name] = file.enums[ref.full_name] = ref
        for index, service in enumerate(proto.service):
            ref = ServiceRef(service, file, (FILE_SERVICE, index), prefix + service.name, file)
            self.services[ref.full_name] = file.services[ref.full_name] = ref
        for index, extension in enumerate(proto.extension):
            ref = FieldRef(extension, file, (FILE_EXTENSION, index), prefix + extension.name, file)
            self.extensions[ref.full_name] = file.extensions[ref.full_name] = ref

    def find(self, full_name: str) -> "MessageRef | EnumRef | None":
        """Return the message or enum of that full name, looking into nested declarations as needed."""
        found = self.messages.get(full_name) or self.enums.get(full_name)
        if found is None and "." in full_name:
            scope, _, name = full_name.rpartition(".")
            parent = self.find(scope)
            if isinstance(parent, MessageRef):
                found = parent.messages.get(name) or parent.enums.get(name)
        return found


def _features_bytes(options) -> bytes:
    return options.features.SerializeToString() if options.HasField("features") else b""


class Comparison:
    """The previous and current schema, and the pairs of their elements that rules look at."""

    def __init__(self, previous: Schema, current: Schema):
        self.previous = previous
        self.current = current

    def pairs(self, kind: str) -> list[tuple]:
        return getattr(self, f"_{kind}")

    @cached_property
    def _schemas(self):
        return [(self.previous, self.current)]

    @cached_property
    def _files(self):
        return [
            (old, new)
            for old, new in _matched(self.previous.files, self.current.files)
            if not old.same_declarations(new)
        ]

    @cached_property
    def _message_tree(self) -> list[tuple[MessageRef, MessageRef]]:
        """Return every message pair that differs, top-level or nested in a differing pair."""
        return self._message_pairs(only_differing=True)

    @cached_property
    def _messages(self):
        changed = self._message_tree
        shifted = self._shifted_enum_defaults
        if shifted:
            # Unchanged messages whose fields read one of those enums' defaults changed meaning too.
            seen = {old.full_name for old, _ in changed}
            changed = changed + [
                (old, new)
                for old, new in self._message_pairs(only_differing=False)
                if old.full_name not in seen and _uses_any(new.proto, shifted)
            ]
        return changed

    def _message_pairs(self, only_differing: bool) -> list[tuple[MessageRef, MessageRef]]:
        """Return matched message pairs, top-level then nested; an equal pair's subtree is equal, so it is skipped."""
        pairs, pending = [], _matched(self.previous.messages, self.current.messages)
        while pending:
            old, new = pending.pop()
            if only_differing and old.proto == new.proto and old.context == new.context:
                continue
            pairs.append((old, new))
            pending += _matched(old.messages, new.messages)
        return pairs

    @cached_property
    def _fields(self):
        shifted = self._shifted_enum_defaults
        pairs = [
            (old.field(number), new.field(number))
            for old, new in self._messages
            for number in _changed_fields(old, new, shifted)
        ]
        extensions = _matched(self._extensions_by_key(self.previous), self._extensions_by_key(self.current))
        return pairs + [
            (old, new)
            for old, new in extensions
            if old.proto != new.proto or old.surroundings() != new.surroundings() or new.type_name in shifted
        ]

    def _extensions_by_key(self, schema: Schema) -> dict[tuple[str, int], FieldRef]:
        """Return extensions that may differ (file-level or in a differing message) by extended message and number."""
        side = 0 if schema is self.previous else 1
        nested = [ref for pair in self._message_tree for ref in pair[side].extensions.values()]
        return {(ref.message_name, ref.number): ref for ref in [*schema.extensions.values(), *nested]}

    @cached_property
    def _enums(self):
        nested = [pair for old, new in self._message_tree for pair in _matched(old.enums, new.enums)]
        return [
            (old, new)
            for old, new in _matched(self.previous.enums, self.current.enums) + nested
            if old.proto != new.proto or old.context != new.context
        ]

    @cached_property
    def _enum_values(self):
        return [pair for old, new in self._enums for pair in _matched(old.values, new.values)]

    @cached_property
    def _services(self):
        return [
            (old, new) for old, new in _matched(self.previous.services, self.current.services) if old.proto != new.proto
        ]

    @cached_property
    def _methods(self):
        return [
            (old, new)
            for old_service, new_service in self._services
            for old, new in _matched(old_service.methods, new_service.methods)
            if old.proto != new.proto
        ]

    @cached_property
    def _shifted_enum_defaults(self) -> frozenset[str]:
        """Return the enums whose first value changed: unset fields of those types now read differently."""
        return frozenset(old.full_name for old, new in self._enums if old.default_number != new.default_number)


def _changed_fields(previous: MessageRef, current: MessageRef, shifted: frozenset[str]) -> list[int]:
    """Return the numbers of the fields both messages have and that differ in any way that matters.

    Besides its own descriptor, a field's meaning depends on its message's scope
    (syntax, inherited features), on the oneof it is in and, for repeated message
    fields, on whether its nested entry type is a map entry.
    """
    same_scope = previous.context == current.context
    same_oneofs = previous.proto.oneof_decl == current.proto.oneof_decl
    same_nested = previous.proto.nested_type == current.proto.nested_type
    if same_scope and same_oneofs and same_nested and not shifted and only_appended(previous, current):
        return []  # the usual release
    old_fields, new_fields = previous.proto.field, current.proto.field
    new_numbers = current.numbers
    changed = []
    for number, index in previous.numbers.items():
        new_index = new_numbers.get(number)
        if new_index is None:
            continue
        old, new = old_fields[index], new_fields[new_index]
        if (
            old != new
            or not same_scope
            or (shifted and new.type_name[1:] in shifted)
            or not same_oneofs
            and previous.oneof_of(old) != current.oneof_of(new)
            or (
                not same_nested
                and new.label == FieldDescriptorProto.LABEL_REPEATED
                and previous.field(number).is_map != current.field(number).is_map
            )
        ):
            changed.append(number)
    return changed


def only_appended(previous: MessageRef, current: MessageRef) -> bool:
    """Tell whether the current message keeps every previous field as it was and only adds fields after them.

    Several rules ask this of the same pair; the answer is kept with the current message
    (which refers to the previous one weakly, so a kept version does not keep older ones alive).
    """
    known = current.__dict__.get("_appended_to")
    if known is not None and known[0]() is previous:
        return known[1]
    old = previous.proto.field
    answer = list(old) == list(current.proto.field[: len(old)])
    current._appended_to = (weakref.ref(previous), answer)
    return answer


def _matched(previous: dict, current: dict) -> list[tuple]:
    return [(old, current[key]) for key, old in previous.items() if key in current]


def _uses_any(message: DescriptorProto, type_names: frozenset[str]) -> bool:
    return any(field.type_name[1:] in type_names for field in message.field)
