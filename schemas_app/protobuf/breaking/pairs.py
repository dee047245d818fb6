"""Index two sets of files and hand each rule matched (previous, current) elements.

Files pair by path, packages by name, messages, enums, services and extensions by
fully qualified name across the whole set (a type may move to another file), fields
by number, enum values by number, methods by name. Rules never walk files: they get
one pair at a time from `Comparison.pairs(kind)`.

Pairs whose two sides are identical, in the same surroundings, can break nothing,
so the element adapters skip them; this keeps a comparison of two large, mostly
equal schemas to a few dictionary lookups per type.
"""
from collections import defaultdict
from functools import cached_property

from google.protobuf.descriptor_pb2 import DescriptorProto, FieldDescriptorProto, FileDescriptorProto

from schemas_app.protobuf.breaking.positions import PositionFinder
from schemas_app.protobuf.compiler import is_well_known
from schemas_app.protobuf.locations import (
    ENUM_VALUE,
    FILE_ENUM_TYPE,
    FILE_MESSAGE_TYPE,
    FILE_PACKAGE,
    FILE_SERVICE,
    FILE_SYNTAX,
    MESSAGE_ENUM_TYPE,
    MESSAGE_FIELD,
    MESSAGE_NESTED_TYPE,
    SERVICE_METHOD,
)

# descriptor.proto numbers that locations.py does not name.
FILE_EXTENSION = 7
MESSAGE_EXTENSION = 6

# The kinds of pairs a rule can ask for.
SCHEMAS = "schemas"
FILES = "files"
PACKAGES = "packages"
MESSAGES = "messages"
FIELDS = "fields"
ENUMS = "enums"
ENUM_VALUES = "enum_values"
SERVICES = "services"
METHODS = "methods"

Place = tuple[str, int, int]


class Element:
    """One declaration: its descriptor, its file and its source path."""

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
        """Return (file path, line, column) of this element, or of a part of it named by `suffix`."""
        return self.file.place(self.path + suffix)

    @property
    def options(self):
        return self.proto.options if self.proto.HasField("options") else None


class FileRef:
    """One file of a set, with the types it declares."""

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
        self.context = (self.syntax, proto.edition, _features_bytes(proto.options) if proto.HasField("options") else b"", proto.options.java_string_check_utf8)

    @property
    def options(self):
        return self.proto.options if self.proto.HasField("options") else None

    def place(self, path: tuple[int, ...]) -> Place:
        if self._finder is None:
            self._finder = PositionFinder(self.proto)
        return (self.name, *self._finder.position(path))

    def at(self, *suffix: int) -> Place:
        """Return the place of a file-level declaration (an option, the package), else of its syntax or package statement."""
        for path in (suffix, (FILE_SYNTAX,), (FILE_PACKAGE,)):
            if path:
                place = self.place(path)
                if place[1]:
                    return place
        return (self.name, 0, 0)

    def prefix(self) -> str:
        return f"{self.package}." if self.package else ""


class MessageRef(Element):
    def __init__(self, proto: DescriptorProto, file, path, full_name, parent, context, map_field_path=None):
        super().__init__(proto, file, path, full_name, parent)
        self.context = context
        # A map's entry message is generated and has no source; its place is the map field's.
        self.map_field_path = map_field_path

    @property
    def is_map_entry(self) -> bool:
        return self.map_field_path is not None

    @property
    def map_field(self) -> FieldDescriptorProto:
        """Return the map field this entry message was generated for."""
        return self.parent.proto.field[self.map_field_path[-1]]

    def at(self, *suffix: int) -> Place:
        if self.map_field_path is not None:
            return self.file.place(self.map_field_path)
        return super().at(*suffix)

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
            ref = self._wrapped[number] = FieldRef(proto, self.file, path, f"{self.full_name}.{proto.name}", self, self.oneof_of(proto))
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
        return frozenset(f.oneof_index for f in self.proto.field if f.proto3_optional)

    @cached_property
    def oneofs(self) -> dict[str, int]:
        """Return the real (not synthetic) oneofs: name -> index."""
        return {oneof.name: index for index, oneof in enumerate(self.proto.oneof_decl) if index not in self.synthetic_oneofs}


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
        if self.proto.label != FieldDescriptorProto.LABEL_REPEATED or self.proto.type != FieldDescriptorProto.TYPE_MESSAGE:
            return False
        entry = self.file.schema.messages.get(self.type_name)
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
            values[proto.number].append(EnumValueRef(proto, self.file, self.path + (ENUM_VALUE, index), f"{self.full_name}.{proto.name}", self))
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
        return {proto.name: MethodRef(proto, self.file, self.path + (SERVICE_METHOD, index), f"{self.full_name}.{proto.name}", self) for index, proto in enumerate(self.proto.method)}


class MethodRef(Element):
    pass


class PackageRef:
    """The files of one package, with the types they declare together."""

    def __init__(self, name: str, files: list[FileRef]):
        self.name = name
        self.files = files

    @cached_property
    def messages(self) -> dict[str, MessageRef]:
        return {name: ref for file in self.files for name, ref in file.messages.items()}

    @cached_property
    def enums(self) -> dict[str, EnumRef]:
        return {name: ref for file in self.files for name, ref in file.enums.items()}

    @cached_property
    def services(self) -> dict[str, ServiceRef]:
        return {name: ref for file in self.files for name, ref in file.services.items()}

    @cached_property
    def extensions(self) -> dict[str, FieldRef]:
        return {name: ref for file in self.files for name, ref in file.extensions.items()}


class Schema:
    """Every declaration of a set of files, by full name; Google's well-known types are left out."""

    def __init__(self, files):
        self.files: dict[str, FileRef] = {}
        self.messages: dict[str, MessageRef] = {}
        self.enums: dict[str, EnumRef] = {}
        self.services: dict[str, ServiceRef] = {}
        self.extensions: dict[tuple[str, int], FieldRef] = {}
        for proto in files:
            if not is_well_known(proto.name):
                self._add_file(FileRef(proto, self))

    @cached_property
    def packages(self) -> dict[str, PackageRef]:
        by_name: dict[str, list[FileRef]] = defaultdict(list)
        for file in self.files.values():
            by_name[file.package].append(file)
        return {name: PackageRef(name, files) for name, files in by_name.items()}

    def _add_file(self, file: FileRef) -> None:
        self.files[file.name] = file
        proto = file.proto
        prefix = file.prefix()
        for index, message in enumerate(proto.message_type):
            self._add_message(file, message, (FILE_MESSAGE_TYPE, index), prefix + message.name, file, file.context)
        for index, enum in enumerate(proto.enum_type):
            self._add_enum(file, enum, (FILE_ENUM_TYPE, index), prefix + enum.name, file, file.context)
        for index, service in enumerate(proto.service):
            ref = ServiceRef(service, file, (FILE_SERVICE, index), prefix + service.name, file)
            self.services[ref.full_name] = file.services[ref.full_name] = ref
        for index, extension in enumerate(proto.extension):
            self._add_extension(file, extension, (FILE_EXTENSION, index), prefix + extension.name, file)

    def _add_message(self, file, proto, path, full_name, parent, context, map_field_path=None) -> None:
        ref = MessageRef(proto, file, path, full_name, parent, context, map_field_path)
        self.messages[full_name] = ref
        if map_field_path is None:
            file.messages[full_name] = ref
        inner = context + (_features_bytes(proto.options),) if file.syntax == "editions" and proto.HasField("options") else context
        entry_fields = _map_entry_fields(proto, full_name) if proto.nested_type else {}
        for index, nested in enumerate(proto.nested_type):
            nested_name = f"{full_name}.{nested.name}"
            map_field = entry_fields.get(nested_name) if nested.options.map_entry else None
            owner_path = path + (MESSAGE_FIELD, map_field) if map_field is not None else None
            self._add_message(file, nested, path + (MESSAGE_NESTED_TYPE, index), nested_name, ref, inner, owner_path)
        for index, enum in enumerate(proto.enum_type):
            self._add_enum(file, enum, path + (MESSAGE_ENUM_TYPE, index), f"{full_name}.{enum.name}", ref, inner)
        for index, extension in enumerate(proto.extension):
            self._add_extension(file, extension, path + (MESSAGE_EXTENSION, index), f"{full_name}.{extension.name}", ref)

    def _add_enum(self, file, proto, path, full_name, parent, context) -> None:
        ref = EnumRef(proto, file, path, full_name, parent, context)
        self.enums[full_name] = file.enums[full_name] = ref

    def _add_extension(self, file, proto, path, full_name, parent) -> None:
        ref = FieldRef(proto, file, path, full_name, parent)
        file.extensions[full_name] = ref
        self.extensions[(ref.message_name, proto.number)] = ref


def _map_entry_fields(message: DescriptorProto, full_name: str) -> dict[str, int]:
    """Return, for each nested type a field of `message` refers to, that field's index."""
    prefix = f".{full_name}."
    return {field.type_name[1:]: index for index, field in enumerate(message.field) if field.type_name.startswith(prefix)}


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
        return _matched(self.previous.files, self.current.files)

    @cached_property
    def _packages(self):
        return _matched(self.previous.packages, self.current.packages)

    @cached_property
    def _messages(self):
        shifted = self._shifted_enum_defaults
        return [(old, new) for old, new in _matched(self.previous.messages, self.current.messages) if old.proto != new.proto or old.context != new.context or (shifted and _uses_any(new.proto, shifted))]

    @cached_property
    def _fields(self):
        shifted = self._shifted_enum_defaults
        pairs = [(old.field(number), new.field(number)) for old, new in self._messages for number in _changed_fields(old, new, shifted)]
        extensions = _matched(self.previous.extensions, self.current.extensions)
        return pairs + [(old, new) for old, new in extensions if old.proto != new.proto or old.surroundings() != new.surroundings() or new.type_name in shifted]

    @cached_property
    def _enums(self):
        return [(old, new) for old, new in _matched(self.previous.enums, self.current.enums) if old.proto != new.proto or old.context != new.context]

    @cached_property
    def _enum_values(self):
        return [pair for old, new in self._enums for pair in _matched(old.values, new.values)]

    @cached_property
    def _services(self):
        return [(old, new) for old, new in _matched(self.previous.services, self.current.services) if old.proto != new.proto]

    @cached_property
    def _methods(self):
        return [(old, new) for old_service, new_service in self._services for old, new in _matched(old_service.methods, new_service.methods) if old.proto != new.proto]

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
    new_numbers = current.numbers
    old_fields, new_fields = previous.proto.field, current.proto.field
    same_scope = previous.context == current.context
    same_oneofs = previous.proto.oneof_decl == current.proto.oneof_decl
    same_nested = previous.proto.nested_type == current.proto.nested_type
    changed = []
    for number, index in previous.numbers.items():
        new_index = new_numbers.get(number)
        if new_index is None:
            continue
        old, new = old_fields[index], new_fields[new_index]
        if old != new or not same_scope or (shifted and new.type_name[1:] in shifted):
            changed.append(number)
        elif not same_oneofs and previous.oneof_of(old) != current.oneof_of(new):
            changed.append(number)
        elif not same_nested and new.label == FieldDescriptorProto.LABEL_REPEATED and previous.field(number).is_map != current.field(number).is_map:
            changed.append(number)
    return changed


def _matched(previous: dict, current: dict) -> list[tuple]:
    return [(old, current[key]) for key, old in previous.items() if key in current]


def _uses_any(message: DescriptorProto, type_names: frozenset[str]) -> bool:
    return any(field.type_name[1:] in type_names for field in message.field)
