"""Print a FileDescriptorProto back to .proto text that protoc compiles to the same descriptor.

No source info is needed, so this works for descriptors sent by clients (the
Confluent serializers send a base64 FileDescriptorProto) as well as for compiled
files. The layout is canonical: two-space indent, one declaration per line,
options sorted by name (standard ones, then custom ones), and every list of the
descriptor printed in its own order, so equal descriptors give equal texts.

Inside a message, fields come first, then enums, nested messages, extend blocks,
extension ranges and reserved numbers and names. Map entries and groups are
nested messages that protoc creates at the place of their field, so a nested
message that precedes one of them in the descriptor is printed just before that
field; this keeps `nested_type` in its original order, which Confluent's wire
format depends on (it names a message by its index path).

Type and option names are written as short as protoc's scoping rules allow when
every imported file is given; otherwise they are written fully qualified with a
leading dot, which always resolves to the same element.
"""

import itertools
import math
import struct
from collections.abc import Iterable, Sequence
from functools import cached_property, lru_cache
from operator import attrgetter

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_encoding, text_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    EnumDescriptorProto,
    FieldDescriptorProto,
    FileDescriptorProto,
)
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

INDENT = "  "
# A declaration with several options that would be longer than this puts one option per line.
MAX_LINE_LENGTH = 100
DESCRIPTOR_PROTO = "google/protobuf/descriptor.proto"
# Exclusive ends of the `max` keyword in message ranges, inclusive end in enum ranges.
MESSAGE_RANGE_MAX = 536870912
ENUM_RANGE_MAX = 2147483647

_SCALAR_TYPES = {
    FieldDescriptorProto.TYPE_DOUBLE: "double",
    FieldDescriptorProto.TYPE_FLOAT: "float",
    FieldDescriptorProto.TYPE_INT64: "int64",
    FieldDescriptorProto.TYPE_UINT64: "uint64",
    FieldDescriptorProto.TYPE_INT32: "int32",
    FieldDescriptorProto.TYPE_FIXED64: "fixed64",
    FieldDescriptorProto.TYPE_FIXED32: "fixed32",
    FieldDescriptorProto.TYPE_BOOL: "bool",
    FieldDescriptorProto.TYPE_STRING: "string",
    FieldDescriptorProto.TYPE_BYTES: "bytes",
    FieldDescriptorProto.TYPE_UINT32: "uint32",
    FieldDescriptorProto.TYPE_SFIXED32: "sfixed32",
    FieldDescriptorProto.TYPE_SFIXED64: "sfixed64",
    FieldDescriptorProto.TYPE_SINT32: "sint32",
    FieldDescriptorProto.TYPE_SINT64: "sint64",
}
_VISIBILITY_KEYWORDS = {"VISIBILITY_LOCAL": "local ", "VISIBILITY_EXPORT": "export "}
# Options that .proto text cannot set: protoc writes them itself or interprets them away.
_UNPRINTED_OPTIONS = {"uninterpreted_option", "map_entry"}

# Kinds of symbols, as far as protoc's name lookup cares.
_PACKAGE, _MESSAGE, _ENUM, _SERVICE, _OTHER = "package", "message", "enum", "service", "other"
_AGGREGATES = {_PACKAGE, _MESSAGE, _ENUM, _SERVICE}
_TYPES = {_MESSAGE, _ENUM}
_NUMBER = attrgetter("number")
_NUMBER_AND_NAME = attrgetter("number", "name")  # (number, name), read in C
_TYPE = attrgetter("type")
_TYPE_GROUP = FieldDescriptorProto.TYPE_GROUP
# HasField called as the function it is: `message.HasField` first looks for a field named "HasField", then builds a
# bound method; the printer asks it several times of every field.
_has_field = FieldDescriptorProto.HasField
_LABEL_REPEATED = FieldDescriptorProto.LABEL_REPEATED
# The normalised printer slices a repeated field before looping over it (`message.field[:]`, a list made in C):
# protobuf's upb containers have no iterator, so a loop over one ends in an IndexError, formatted and dropped.


class UnprintableDescriptor(ValueError):
    """The descriptor holds something that this printer cannot write as .proto text."""


def print_file(file: FileDescriptorProto, dependencies: Sequence[FileDescriptorProto] = (), *, model=None) -> str:
    """Return canonical .proto text for `file`.

    `dependencies` are the files it imports (more are fine, e.g. `CompiledFiles.files`):
    they resolve custom options and let type names be written short. Raises
    UnprintableDescriptor for a custom option whose definition is not given, and
    for the few constructs this printer refuses (extension groups). `model`, the
    compiled set's DescriptorModel, lends each file's symbol table so printing several
    files of one set builds each table once.
    """
    return _FilePrinter(file, [d for d in dependencies if d.name != file.name], model).text()


@lru_cache(maxsize=8192)  # asked for every field printed; field names repeat across a schema's messages
def default_json_name(name: str) -> str:
    """Return the JSON name protoc derives from a field name (`user_id` -> `userId`)."""
    if "_" not in name:
        return name  # only an underscore changes anything; most names have none
    result = []
    capitalize_next = False
    for character in name:
        if character == "_":
            capitalize_next = True
        elif capitalize_next:
            result.append(character.upper())
            capitalize_next = False
        else:
            result.append(character)
    return "".join(result)


def _range(start: int, last: int, maximum: int) -> str:
    if start == last:
        return str(start)
    return f"{start} to {'max' if last == maximum else last}"


def _is_map(field: FieldDescriptorProto, nested: DescriptorProto) -> bool:
    return (
        field.label == FieldDescriptorProto.LABEL_REPEATED
        and field.type == FieldDescriptorProto.TYPE_MESSAGE
        and nested.options.map_entry
    )


def _real_oneof(field: FieldDescriptorProto) -> int | None:
    """Return the index of the field's oneof, None when it has none or only proto3's synthetic one."""
    if not field.HasField("oneof_index") or field.proto3_optional:
        return None
    return field.oneof_index


def _join(scope: str, name: str) -> str:
    return f"{scope}.{name}" if scope else name


def _quote(text: str | bytes) -> str:
    return '"' + text_encoding.CEscape(text, as_utf8=isinstance(text, str)) + '"'


# --- names -------------------------------------------------------------------------------------


def _symbols_of(files: Iterable[FileDescriptorProto], model=None) -> dict[str, str]:
    """Return every full name the files declare, with its kind (packages and their prefixes included).

    The first file declaring a name decides its kind. With a model, each file's table is its cached one.
    """
    if model is None:
        return symbols_of_file(*files) if files else {}
    symbols: dict[str, str] = {}
    for file in reversed(list(files)):
        symbols.update(model.symbols(file))  # later updates win, so the files are merged last first
    return symbols


def symbols_of_file(*files: FileDescriptorProto) -> dict[str, str]:
    """Return the full names the files declare with their kinds, the first declaration of a name deciding it."""
    symbols: dict[str, str] = {}
    for file in files:
        parts = file.package.split(".") if file.package else []
        for end in range(1, len(parts) + 1):
            symbols.setdefault(".".join(parts[:end]), _PACKAGE)
        _add_scope_symbols(symbols, file.package, file.message_type, file.enum_type, file.extension)
        for service in file.service:
            service_name = _join(file.package, service.name)
            symbols.setdefault(service_name, _SERVICE)
            for method in service.method:
                symbols.setdefault(_join(service_name, method.name), _OTHER)
    return symbols


def _add_scope_symbols(symbols, scope, messages, enums, extensions) -> None:
    for message in messages:
        full_name = _join(scope, message.name)
        symbols.setdefault(full_name, _MESSAGE)
        for member in itertools.chain(message.field, message.oneof_decl):
            symbols.setdefault(_join(full_name, member.name), _OTHER)
        _add_scope_symbols(symbols, full_name, message.nested_type, message.enum_type, message.extension)
    for enum in enums:
        full_name = _join(scope, enum.name)
        symbols.setdefault(full_name, _ENUM)
        for value in enum.value:
            # C++ scoping: a value is a sibling of its enum; newer protoc also knows it inside the enum.
            symbols.setdefault(_join(scope, value.name), _OTHER)
            symbols.setdefault(_join(full_name, value.name), _OTHER)
    for extension in extensions:
        symbols.setdefault(_join(scope, extension.name), _OTHER)


class _Names:
    """Write the shortest name that protoc resolves back to the same element from a given place."""

    def __init__(self, symbols: dict[str, str] | None):
        self._symbols = symbols

    def relative(self, full_name: str, relative_to: str, types_only: bool) -> str:
        """Return `full_name` as written at `relative_to` (the full name of the element that refers to it)."""
        if not full_name.startswith("."):
            return full_name  # already relative in the descriptor: keep what protoc was given
        target = full_name[1:]
        if self._symbols is None:
            return full_name
        parts = target.split(".")
        for start in range(len(parts) - 1, -1, -1):
            candidate = ".".join(parts[start:])
            if self._lookup(candidate, relative_to, types_only) == target:
                return candidate
        return full_name

    def _lookup(self, name: str, relative_to: str, types_only: bool) -> str | None:
        """Resolve `name` the way protoc's DescriptorBuilder::LookupSymbol does, innermost scope first."""
        first, _, rest = name.partition(".")
        scope = relative_to
        while "." in scope:
            scope = scope[: scope.rfind(".")]
            kind = self._symbols.get(f"{scope}.{first}")
            if kind is None:
                continue
            if rest:
                if kind in _AGGREGATES:
                    return f"{scope}.{name}"  # protoc commits to this scope even when the rest is missing
            elif not types_only or kind in _TYPES:
                return f"{scope}.{first}"
        return name if name in self._symbols else None


def _visible_files(
    file: FileDescriptorProto, dependencies: Sequence[FileDescriptorProto]
) -> list[FileDescriptorProto] | None:
    """Return the files whose names `file` can see (its imports and their public imports), None if one is missing.

    protoc's name lookup ignores every other file, so they need no symbols.
    """
    by_name = {dependency.name: dependency for dependency in dependencies}
    visible: dict[str, FileDescriptorProto] = {}
    pending = list(itertools.chain(file.dependency, file.option_dependency))
    while pending:
        name = pending.pop()
        if name in visible:
            continue
        if name not in by_name:
            return None
        visible[name] = by_name[name]
        pending.extend(by_name[name].dependency[index] for index in by_name[name].public_dependency)
    return [file, *visible.values()]


# --- option values -----------------------------------------------------------------------------


def _submessages(field: FieldDescriptor, value) -> list[Message]:
    if field.cpp_type != FieldDescriptor.CPPTYPE_MESSAGE:
        return []
    if field.message_type.GetOptions().map_entry:
        map_value = field.message_type.fields_by_name["value"]
        return list(value.values()) if map_value.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE else []
    return list(value) if field.is_repeated else [value]


def _unknown_numbers(message: Message) -> list[int]:
    """Return the numbers of fields the message's descriptor does not know, at any depth."""
    numbers = [unknown.field_number for unknown in UnknownFieldSet(message)]
    for field, value in message.ListFields():
        for submessage in _submessages(field, value):
            numbers.extend(_unknown_numbers(submessage))
    return numbers


def _can_flatten(message: Message) -> bool:
    """Say whether the value can be written as `name.sub = value` lines instead of `{ ... }`."""
    fields = message.ListFields()
    return bool(fields) and all(
        not field.is_repeated and (field.cpp_type != FieldDescriptor.CPPTYPE_MESSAGE or _can_flatten(value))
        for field, value in fields
    )


def _float_text(value: float, single: bool) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if single:
        packed = struct.pack("<f", value)
        for precision in range(6, 10):
            text = f"{value:.{precision}g}"
            if struct.pack("<f", float(text)) == packed:
                return text
    return repr(value)


def _scalar_text(field: FieldDescriptor, value) -> str:
    if field.type == FieldDescriptor.TYPE_ENUM:
        enum_value = field.enum_type.values_by_number.get(value)
        return enum_value.name if enum_value else str(value)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return "true" if value else "false"
    if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        return _quote(value)
    if field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return _float_text(value, single=field.type == FieldDescriptor.TYPE_FLOAT)
    return str(value)


def _aggregate_text(message: Message) -> str:
    body = text_format.MessageToString(message, as_one_line=True, as_utf8=True)
    return "{ " + body + " }" if body else "{}"


def _option_order(item: tuple[str, str]) -> tuple[bool, str]:
    name = item[0]
    return (name.startswith("("), name)


def _bracketed(items: Sequence[tuple[str, str]]) -> str:
    return " [" + ", ".join(f"{name} = {value}" for name, value in items) + "]" if items else ""


def _extension_pool(
    file: FileDescriptorProto, dependencies: Sequence[FileDescriptorProto]
) -> descriptor_pool.DescriptorPool:
    """Build a pool that knows every given extension, so custom options parse as known fields.

    Only files that declare extensions, and what they import, are added. The
    runtime's own descriptor.proto stands in for any given copy: the options being
    re-read were parsed with it in the first place.
    """
    by_name = {dependency.name: dependency for dependency in dependencies if dependency.name != DESCRIPTOR_PROTO}
    if _declares_extensions(file):
        by_name[file.name] = file
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(descriptor_pb2.DESCRIPTOR.serialized_pb)
    added = {DESCRIPTOR_PROTO}

    def add(name: str) -> None:
        if name in added or name not in by_name:
            return
        added.add(name)
        proto = by_name[name]
        for imported in itertools.chain(proto.dependency, proto.option_dependency):
            add(imported)
        try:
            pool.AddSerializedFile(proto.SerializeToString())
        except (TypeError, ValueError) as error:
            raise UnprintableDescriptor(
                f'Cannot resolve custom options: "{name}" does not build with the given dependencies ({error}).'
            ) from None

    for name, proto in by_name.items():
        if _declares_extensions(proto):
            add(name)
    return pool


def _declares_extensions(file: FileDescriptorProto) -> bool:
    def in_messages(messages) -> bool:
        return any(message.extension or in_messages(message.nested_type) for message in messages)

    return bool(file.extension) or in_messages(file.message_type)


# --- the printer -------------------------------------------------------------------------------


class _FilePrinter:
    """Write one file; holds the output lines, the indentation and the name resolver."""

    def __init__(self, file: FileDescriptorProto, dependencies: Sequence[FileDescriptorProto], model=None):
        self._file = file
        self._dependencies = dependencies
        self._model = model
        self._editions = file.syntax == "editions"
        self._proto3 = file.syntax == "proto3"
        self._pool: descriptor_pool.DescriptorPool | None = None
        self._lines: list[str] = []
        self._depth = 0
        self._blank_pending = False

    @cached_property
    def _names(self) -> _Names:
        # Built on first need: the normalised layout writes full names and asks only for custom options.
        visible = _visible_files(self._file, self._dependencies)
        return _Names(_symbols_of(visible, self._model) if visible is not None else None)

    def text(self) -> str:
        file = self._file
        self._header()
        # protoc resolves file option names as if from an element inside the package.
        self._statement_options(file.options, file.package + ".dummy")
        self._blank()
        self._definitions(
            file.package, file.message_type, file.enum_type, file.extension, range(len(file.message_type))
        )
        for service in file.service:
            self._service(service)
        return "\n".join(self._lines) + "\n"

    # output

    def _line(self, text: str) -> None:
        if self._blank_pending and self._lines and not self._lines[-1].endswith("{"):
            self._lines.append("")
        self._blank_pending = False
        self._lines.append(INDENT * self._depth + text)

    def _declaration(self, head: str, items: Sequence[tuple[str, str]]) -> None:
        """Print `head [options];`, one option per line when they make the line too long."""
        single = f"{head}{_bracketed(items)};"
        if len(items) < 2 or len(INDENT * self._depth + single) <= MAX_LINE_LENGTH:
            self._line(single)
            return
        self._line(head + " [")
        for index, (name, value) in enumerate(items):
            separator = "," if index < len(items) - 1 else ""
            self._line(f"{INDENT}{name} = {value}{separator}")
        self._line("];")

    def _blank(self) -> None:
        self._blank_pending = True

    def _open(self, text: str) -> None:
        self._line(text + " {")
        self._depth += 1

    def _close(self, blank_after: bool = True) -> None:
        self._depth -= 1
        self._blank_pending = False
        if self._lines[-1].endswith("{"):
            self._lines[-1] += "}"  # an empty body stays on one line: `message Empty {}`
        else:
            self._line("}")
        self._blank_pending = blank_after

    # file level

    def _header(self) -> None:
        file = self._file
        if self._editions:
            edition = descriptor_pb2.Edition.Name(file.edition).removeprefix("EDITION_")
            self._line(f'edition = "{edition}";')
        else:
            self._line(f'syntax = "{"proto3" if self._proto3 else "proto2"}";')
        self._blank()
        if file.package:
            self._line(f"package {file.package};")
            self._blank()
        public, weak = set(file.public_dependency), set(file.weak_dependency)
        for index, name in enumerate(file.dependency):
            modifier = "public " if index in public else "weak " if index in weak else ""
            self._line(f"import {modifier}{_quote(name)};")
        for name in file.option_dependency:
            self._line(f"import option {_quote(name)};")
        self._blank()

    def _definitions(self, scope: str, messages, enums, extensions, message_indexes: Sequence[int]) -> None:
        """Print the enums, the listed messages and the extend blocks of one scope."""
        for enum in enums:
            self._enum(enum, scope)
        for index in message_indexes:
            self._message(messages[index], scope)
        self._extend_blocks(extensions, scope)

    def _service(self, service) -> None:
        full_name = _join(self._file.package, service.name)
        self._open(f"service {service.name}")
        self._statement_options(service.options, full_name)
        for method in service.method:
            self._method(method, full_name)
        self._close()

    def _method(self, method, service_name: str) -> None:
        method_name = _join(service_name, method.name)
        request = self._names.relative(method.input_type, method_name, types_only=True)
        response = self._names.relative(method.output_type, method_name, types_only=True)
        client = "stream " if method.client_streaming else ""
        server = "stream " if method.server_streaming else ""
        signature = f"rpc {method.name}({client}{request}) returns ({server}{response})"
        items = self._option_items(method.options, method_name)
        if not items:
            self._line(signature + ";")
            return
        self._open(signature)
        self._option_statements(items)
        self._close()

    # messages

    def _message(self, message: DescriptorProto, scope: str) -> None:
        if message.options.map_entry:
            raise UnprintableDescriptor(f'Map entry "{_join(scope, message.name)}" is not used by any map field.')
        self._open(f"{self._visibility(message)}message {message.name}")
        self._message_body(message, _join(scope, message.name))
        self._close()

    def _message_body(self, message: DescriptorProto, full_name: str) -> None:
        self._statement_options(message.options, full_name)
        self._blank()
        bound = self._bound_nested_types(message, full_name)
        pending = [index for index in range(len(message.nested_type)) if index not in bound.values()]
        self._fields(message, full_name, bound, pending)
        self._blank()
        self._definitions(full_name, message.nested_type, message.enum_type, message.extension, pending)
        for extension_range in message.extension_range:
            items = self._option_items(extension_range.options, full_name)
            self._declaration(
                f"extensions {_range(extension_range.start, extension_range.end - 1, MESSAGE_RANGE_MAX - 1)}", items
            )
        self._reserved(
            [(r.start, r.end - 1) for r in message.reserved_range], message.reserved_name, MESSAGE_RANGE_MAX - 1
        )

    def _bound_nested_types(self, message: DescriptorProto, full_name: str) -> dict[str, int]:
        """Return {field name: nested type index} for the map entries and groups that fields declare."""
        index_of = {f".{full_name}.{nested.name}": index for index, nested in enumerate(message.nested_type)}
        bound = {}
        for field in message.field:
            index = index_of.get(field.type_name)
            if index is not None and (_is_map(field, message.nested_type[index]) or self._is_group(field)):
                bound[field.name] = index
        return bound

    def _is_group(self, field: FieldDescriptorProto) -> bool:
        return field.type == FieldDescriptorProto.TYPE_GROUP and not self._editions

    def _fields(self, message: DescriptorProto, full_name: str, bound: dict[str, int], pending: list[int]) -> None:
        """Print fields and oneofs in descriptor order; nested messages that precede a map or group go first."""
        done_oneofs: set[int] = set()
        for field in message.field:
            oneof = _real_oneof(field)
            if oneof is None:
                self._print_nested_before(message, full_name, pending, [bound.get(field.name)])
                self._field(field, full_name, message, bound.get(field.name))
            elif oneof not in done_oneofs:
                if not 0 <= oneof < len(message.oneof_decl):  # only a damaged descriptor (a client's) says so
                    raise UnprintableDescriptor(
                        f'Field "{_join(full_name, field.name)}" names oneof {oneof}, which its message does not '
                        "declare."
                    )
                done_oneofs.add(oneof)
                self._oneof(message, full_name, oneof, bound, pending)

    def _print_nested_before(
        self, message: DescriptorProto, full_name: str, pending: list[int], indexes: Sequence[int | None]
    ) -> None:
        """Print (and drop from `pending`) the unbound nested messages that precede the given nested types."""
        limit = max((index for index in indexes if index is not None), default=-1)
        while pending and pending[0] < limit:
            self._message(message.nested_type[pending.pop(0)], full_name)

    def _oneof(
        self, message: DescriptorProto, full_name: str, oneof: int, bound: dict[str, int], pending: list[int]
    ) -> None:
        members = [field for field in message.field if _real_oneof(field) == oneof]
        self._print_nested_before(message, full_name, pending, [bound.get(field.name) for field in members])
        declaration = message.oneof_decl[oneof]
        self._open(f"oneof {declaration.name}")
        self._statement_options(declaration.options, _join(full_name, declaration.name))
        for field in members:
            self._field(field, full_name, message, bound.get(field.name), in_oneof=True)
        self._close(blank_after=False)

    def _field(
        self,
        field: FieldDescriptorProto,
        scope: str,
        message: DescriptorProto | None,
        nested: int | None = None,
        in_oneof: bool = False,
    ) -> None:
        items = self._field_option_items(field, scope)
        if nested is not None and self._is_group(field):
            group = message.nested_type[nested]
            self._open(f"{self._label(field, in_oneof)}group {group.name} = {field.number}{_bracketed(items)}")
            self._message_body(group, _join(scope, group.name))
            self._close(blank_after=False)
        elif nested is not None:
            entry = message.nested_type[nested]
            self._declaration(f"{self._map_type(entry, _join(scope, entry.name))} {field.name} = {field.number}", items)
        else:
            self._declaration(
                f"{self._label(field, in_oneof)}{self._type(field, _join(scope, field.name))} {field.name} = "
                f"{field.number}",
                items,
            )

    def _label(self, field: FieldDescriptorProto, in_oneof: bool) -> str:
        if field.label == FieldDescriptorProto.LABEL_REPEATED:
            return "repeated "
        if in_oneof or self._editions:
            return ""
        if field.proto3_optional:
            return "optional "
        if self._proto3:
            return ""
        return "required " if field.label == FieldDescriptorProto.LABEL_REQUIRED else "optional "

    def _type(self, field: FieldDescriptorProto, field_name: str) -> str:
        if field.type in _SCALAR_TYPES:
            return _SCALAR_TYPES[field.type]
        return self._names.relative(field.type_name, field_name, types_only=True)

    def _map_type(self, entry: DescriptorProto, entry_name: str) -> str:
        key, value = entry.field[0], entry.field[1]
        return (
            f"map<{self._type(key, _join(entry_name, key.name))}, {self._type(value, _join(entry_name, value.name))}>"
        )

    def _field_option_items(self, field: FieldDescriptorProto, scope: str) -> list[tuple[str, str]]:
        items = []
        if field.HasField("default_value"):
            items.append(("default", self._default_text(field)))
        # protoc sets json_name on every field, nearly always to the default: compared before extendee is read.
        if field.HasField("json_name") and field.json_name != default_json_name(field.name) and not field.extendee:
            items.append(("json_name", _quote(field.json_name)))
        if field.HasField("options"):  # few fields set any; an unset options message prints nothing
            items.extend(self._option_items(field.options, _join(scope, field.name)))
        if len(items) > 1:
            items.sort(key=_option_order)
        return items

    def _default_text(self, field: FieldDescriptorProto) -> str:
        if field.type == FieldDescriptorProto.TYPE_STRING:
            return _quote(field.default_value)
        if field.type == FieldDescriptorProto.TYPE_BYTES:
            return f'"{field.default_value}"'  # protoc stores bytes defaults already C-escaped
        return field.default_value

    def _extend_blocks(self, extensions, scope: str) -> None:
        for extendee, group in itertools.groupby(extensions, key=lambda extension: extension.extendee):
            block = list(group)
            self._open(f"extend {self._names.relative(extendee, _join(scope, block[0].name), types_only=True)}")
            for extension in block:
                if extension.type == FieldDescriptorProto.TYPE_GROUP:
                    raise UnprintableDescriptor(
                        f'Extension "{_join(scope, extension.name)}" is a group; group extensions are not supported, '
                        "use a message-typed extension."
                    )
                self._field(extension, scope, None)
            self._close()

    # enums

    def _enum(self, enum: EnumDescriptorProto, scope: str) -> None:
        full_name = _join(scope, enum.name)
        self._open(f"{self._visibility(enum)}enum {enum.name}")
        self._statement_options(enum.options, full_name)
        self._blank()
        for value in enum.value:
            items = self._option_items(value.options, _join(scope, value.name))
            self._declaration(f"{value.name} = {value.number}", items)
        self._reserved([(r.start, r.end) for r in enum.reserved_range], enum.reserved_name, ENUM_RANGE_MAX)
        self._close()

    # shared pieces

    def _visibility(self, element: DescriptorProto | EnumDescriptorProto) -> str:
        if not _has_field(element, "visibility"):
            return ""
        return _VISIBILITY_KEYWORDS.get(descriptor_pb2.SymbolVisibility.Name(element.visibility), "")

    def _reserved(self, ranges: Sequence[tuple[int, int]], names: Sequence[str], maximum: int) -> None:
        if ranges:
            self._line("reserved " + ", ".join(_range(start, last, maximum) for start, last in ranges) + ";")
        if names:
            # Editions write reserved names as identifiers, older syntaxes as strings.
            self._line("reserved " + ", ".join(name if self._editions else _quote(name) for name in names) + ";")

    def _statement_options(self, options: Message, relative_to: str) -> None:
        self._option_statements(self._option_items(options, relative_to))

    def _option_statements(self, items: Sequence[tuple[str, str]]) -> None:
        for name, value in items:
            self._line(f"option {name} = {value};")

    # options

    def _option_items(self, options: Message, relative_to: str) -> list[tuple[str, str]]:
        """Return the (name, value) assignments that set these options, in canonical order."""
        if not options.ByteSize():
            return []  # nearly every element sets no option at all
        options = self._resolved(options, relative_to)
        items = []
        for field, value in options.ListFields():
            if field.name in _UNPRINTED_OPTIONS:
                continue
            name = self._option_name(field, relative_to)
            for one_value in value if field.is_repeated else [value]:
                items.extend(self._assignments(name, field, one_value, relative_to))
        if len(items) > 1:
            items.sort(key=_option_order)
        return items

    def _assignments(self, name: str, field: FieldDescriptor, value, relative_to: str) -> list[tuple[str, str]]:
        if field.cpp_type != FieldDescriptor.CPPTYPE_MESSAGE:
            return [(name, _scalar_text(field, value))]
        if field.is_repeated or not _can_flatten(value):
            return [(name, _aggregate_text(value))]
        items = []
        for subfield, subvalue in value.ListFields():
            items.extend(
                self._assignments(f"{name}.{self._option_name(subfield, relative_to)}", subfield, subvalue, relative_to)
            )
        return items

    def _option_name(self, field: FieldDescriptor, relative_to: str) -> str:
        if not field.is_extension:
            return field.name
        return "(" + self._names.relative("." + field.full_name, relative_to, types_only=False) + ")"

    def _resolved(self, options: Message, relative_to: str) -> Message:
        """Return the options with custom options parsed as known extension fields."""
        if not _unknown_numbers(options):
            return options
        if self._pool is None:
            self._pool = _extension_pool(self._file, self._dependencies)
        message_class = message_factory.GetMessageClass(self._pool.FindMessageTypeByName(options.DESCRIPTOR.full_name))
        resolved = message_class.FromString(options.SerializeToString())
        unknown = _unknown_numbers(resolved)
        if unknown:
            numbers = ", ".join(str(number) for number in sorted(set(unknown)))
            raise UnprintableDescriptor(
                f'Custom option number {numbers} on "{relative_to.lstrip(".")}" is not defined by any given '
                "dependency; pass the files that declare it."
            )
        return resolved


# --- Confluent's normalised layout ----------------------------------------------------------------


def print_normalized(file: FileDescriptorProto, dependencies: Sequence[FileDescriptorProto] = (), *, model=None) -> str:
    """Return the text `normalize=true` stores: Confluent's normalised layout (ProtobufSchemaUtils).

    A client that normalises a schema with Confluent's library and registers it reads the
    same bytes back. The layout: `syntax` and `package` on adjacent lines; one blank line
    before the imports (sorted), the file options (sorted by name), the types (messages,
    then enums, without blank lines between them), the extend blocks and the services.
    Inside a message: reserved numbers and names one per line, options, fields sorted
    by number, oneofs (by their lowest number), extension ranges, nested messages, then
    nested enums, each section after a blank line; map fields are written `map<K, V>`;
    message and enum types are fully qualified with a leading dot; a declaration with
    several options puts one per line. Nested messages keep their order, which
    Confluent's wire format depends on.

    Where Confluent's own printer loses meaning, this one keeps it, and differs: an
    enum's reserved numbers and names are printed (Confluent drops them). Files with
    groups are printed in `print_file`'s layout.
    """
    dependencies = [d for d in dependencies if d.name != file.name]
    # Groups are found while printing, which reads every field anyway, rather than by a walk of the file first.
    try:
        return _NormalizedPrinter(file, dependencies, model).normalized_text()
    except _GroupFound:
        pass
    except Exception:
        if not _has_groups(file):
            raise
        # A file with groups goes to print_file before anything else could fail, as if it had been looked at first.
    return print_file(file, dependencies, model=model)


class _GroupFound(Exception):
    """The normalised printer met a group, which only print_file's layout writes."""


def _has_groups(file: FileDescriptorProto) -> bool:
    return file.syntax != "editions" and (
        _messages_have_groups(file.message_type) or _fields_have_groups(file.extension)
    )


def _messages_have_groups(messages) -> bool:
    return any(map(_message_has_groups, messages[:]))


def _message_has_groups(message: DescriptorProto) -> bool:
    # Asked of every map entry, which has two fields and nothing else: empty lists are not walked.
    return (
        _fields_have_groups(message.field)
        or (bool(message.extension) and _fields_have_groups(message.extension))
        or (bool(message.nested_type) and _messages_have_groups(message.nested_type))
    )


def _fields_have_groups(fields) -> bool:
    return FieldDescriptorProto.TYPE_GROUP in map(_TYPE, fields[:])


def _confluent_option_key(item: tuple[str, str]) -> str:
    """Confluent sorts options by their name without parentheses: `deprecated` before `(registry.v1.pii)`."""
    return item[0].replace("(", "").replace(")", "")


def _block(indent: str, head: str, sections: Sequence[Sequence[str]], closing: str = "}") -> list[str]:
    """Return `head {`, the non-empty sections (written one indent deeper) with a blank line between them, and the
    closing line, at `indent`.

    Every line is written at its final indent once, rather than indented again by each enclosing block.
    """
    sections = [section for section in sections if section]
    if not sections:
        return [f"{indent}{head} {{}}"]
    lines = [f"{indent}{head} {{", *sections[0]]
    for section in sections[1:]:
        lines.append(indent)  # Confluent indents blank lines too: a separator holds its block's indent
        lines += section
    lines.append(indent + closing)
    return lines


class _NormalizedPrinter(_FilePrinter):
    """Write one file in Confluent's normalised layout; options and names come from _FilePrinter."""

    def normalized_text(self) -> str:
        file = self._file
        lines = []
        if self._editions:
            lines.append(f'edition = "{descriptor_pb2.Edition.Name(file.edition).removeprefix("EDITION_")}";')
        else:
            lines.append(f'syntax = "{"proto3" if self._proto3 else "proto2"}";')
        if file.package:
            lines.append(f"package {file.package};")
        public, weak = set(file.public_dependency), set(file.weak_dependency)
        imports = [
            *(
                f"import {_quote(name)};"
                for name in sorted({n for i, n in enumerate(file.dependency) if i not in public | weak})
            ),
            *(f"import public {_quote(name)};" for name in sorted({file.dependency[i] for i in public})),
            *(f"import weak {_quote(name)};" for name in sorted({file.dependency[i] for i in weak})),
            *(f"import option {_quote(name)};" for name in sorted(set(file.option_dependency))),
        ]
        # Each declaration's lines are added with one list extend (in C), not line by line: a large file has
        # tens of thousands.
        types: list[str] = []
        for message in file.message_type[:]:
            types += self._n_message(message, file.package, "")
        for enum in file.enum_type[:]:
            types += self._n_enum(enum, file.package, "")
        sections = [
            imports,
            self._n_options(file.options, file.package + ".dummy", ""),
            types,
            self._n_extend_blocks(file.extension, file.package, ""),
            [line for service in file.service for line in self._n_service(service)],
        ]
        for section in sections:
            if section:
                lines.append("")
                lines.extend(section)
        return "\n".join(lines) + "\n"

    def _n_options(self, options: Message, relative_to: str, indent: str) -> list[str]:
        items = self._option_items(options, relative_to)
        if len(items) > 1:
            items = sorted(items, key=_confluent_option_key)
        return [f"{indent}option {name} = {value};" for name, value in items]

    def _n_declaration(self, head: str, items: Sequence[tuple[str, str]], indent: str, end: str = ";") -> list[str]:
        if not items:
            return [indent + head + end]
        if len(items) == 1:
            return [f"{indent}{head} [{items[0][0]} = {items[0][1]}]{end}"]
        items = sorted(items, key=_confluent_option_key)
        last = len(items) - 1
        inner = indent + INDENT
        return [
            indent + head + " [",
            *(f"{inner}{name} = {value}{',' if index < last else ''}" for index, (name, value) in enumerate(items)),
            indent + "]" + end,
        ]

    def _n_message(self, message: DescriptorProto, scope: str, indent: str) -> list[str]:
        """Return the lines of a message declared at `indent` (its body one indent deeper)."""
        full_name = _join(scope, message.name)
        inner = indent + INDENT
        # Most lists of a message are empty: each is read only when it holds something.
        entries: dict[str, DescriptorProto] = {}
        nested_messages: list[DescriptorProto] = []
        for nested_message in message.nested_type[:]:
            if _has_field(nested_message, "options") and nested_message.options.map_entry:
                if not self._editions and _message_has_groups(nested_message):
                    raise _GroupFound  # a map entry is never printed as a message, so its fields are looked at here
                entries[f".{full_name}.{nested_message.name}"] = nested_message
            else:
                nested_messages.append(nested_message)
        plain: list[FieldDescriptorProto] = sorted(message.field[:], key=_NUMBER)
        oneofs: dict[int, list[FieldDescriptorProto]] = {}
        if message.oneof_decl:  # without oneofs, every field is plain: their fields need no look
            fields, plain = plain, []
            for field in fields:
                # _real_oneof, written out: this loop sees every field of the schema.
                if not _has_field(field, "oneof_index") or field.proto3_optional:
                    plain.append(field)
                else:
                    oneofs.setdefault(field.oneof_index, []).append(field)
        oneof_lines = []
        for index, members in sorted(oneofs.items(), key=lambda item: item[1][0].number):
            declaration = message.oneof_decl[index]
            oneof_lines += _block(
                inner,
                f"oneof {declaration.name}",
                [
                    self._n_options(declaration.options, _join(full_name, declaration.name), inner + INDENT)
                    if _has_field(declaration, "options")
                    else [],
                    self._n_fields(members, full_name, entries, inner + INDENT, in_oneof=True),
                ],
            )
        extension_ranges = (
            [
                line
                for extension_range in message.extension_range
                for line in self._n_declaration(
                    f"extensions {_range(extension_range.start, extension_range.end - 1, MESSAGE_RANGE_MAX - 1)}",
                    self._option_items(extension_range.options, full_name),
                    inner,
                )
            ]
            if message.extension_range
            else []
        )
        nested: list[str] = []
        for nested_message in nested_messages:
            nested += self._n_message(nested_message, full_name, inner)
        if message.enum_type:
            for enum in message.enum_type[:]:
                nested += self._n_enum(enum, full_name, inner)
        reserved = (
            self._n_reserved(
                [(r.start, r.end - 1) for r in message.reserved_range],
                message.reserved_name,
                MESSAGE_RANGE_MAX - 1,
                inner,
            )
            if message.reserved_range or message.reserved_name
            else []
        )
        return _block(
            indent,
            f"{self._visibility(message)}message {message.name}",
            [
                reserved,
                self._n_options(message.options, full_name, inner) if _has_field(message, "options") else [],
                self._n_fields(plain, full_name, entries, inner),
                oneof_lines,
                extension_ranges,
                nested,
                self._n_extend_blocks(message.extension, full_name, inner) if message.extension else [],
            ],
        )

    def _n_fields(
        self,
        fields: Iterable[FieldDescriptorProto],
        scope: str,
        entries: dict[str, DescriptorProto],
        indent: str,
        in_oneof: bool = False,
    ) -> list[str]:
        """Return the declarations of the fields at `indent`, in the given order; a repeated field of a map entry
        is a map."""
        lines = []
        append = lines.append
        editions = self._editions
        # Without a label of its own, a field of a oneof, of an editions file or of proto3 (but `optional`) has none.
        unlabelled = in_oneof or editions or self._proto3
        scalar_types = _SCALAR_TYPES
        for field in fields:
            # Each attribute of a field is read once: this loop sees every field of the schema.
            field_type, name = field.type, field.name
            if field_type == _TYPE_GROUP and not editions:
                raise _GroupFound
            if field.label == _LABEL_REPEATED:
                entry = entries.get(field.type_name) if entries else None
                if entry is not None:
                    key, value = entry.field[0], entry.field[1]
                    kind = f"map<{scalar_types[key.type]}, {scalar_types.get(value.type) or value.type_name}>"
                    head = f"{indent}{kind} {name} = {field.number}"
                else:
                    head = f"{indent}repeated {scalar_types.get(field_type) or field.type_name} {name} = {field.number}"
            elif unlabelled and not field.proto3_optional:
                # What _label says, without the call: most fields of a schema.
                head = f"{indent}{scalar_types.get(field_type) or field.type_name} {name} = {field.number}"
            else:
                kind = scalar_types.get(field_type) or field.type_name
                head = f"{indent}{self._label(field, in_oneof)}{kind} {name} = {field.number}"
            # Nearly every field has no options, default or JSON name of its own to write: asked before building a list.
            if (
                field.json_name != default_json_name(name)
                or _has_field(field, "options")
                or _has_field(field, "default_value")
            ):
                items = self._field_option_items(field, scope)
                if items:
                    lines += self._n_declaration(head[len(indent) :], items, indent)
                    continue
            append(head + ";")
        return lines

    def _n_reserved(
        self, ranges: Sequence[tuple[int, int]], names: Sequence[str], maximum: int, indent: str
    ) -> list[str]:
        numbers = [
            f"{indent}reserved {start if start == last else f'{start} to {last}'};" for start, last in sorted(ranges)
        ]
        written = [name if self._editions else _quote(name) for name in sorted(names)]
        return numbers + [f"{indent}reserved {name};" for name in written]

    def _n_enum(self, enum: EnumDescriptorProto, scope: str, indent: str) -> list[str]:
        full_name = _join(scope, enum.name)
        inner = indent + INDENT
        values = sorted(enum.value[:], key=_NUMBER_AND_NAME)
        body = self._n_options(enum.options, full_name, inner) if _has_field(enum, "options") else []
        for value in values:
            # Nearly every value sets no option: its options message is neither read nor named.
            items = self._option_items(value.options, _join(scope, value.name)) if _has_field(value, "options") else ()
            body += self._n_declaration(f"{value.name} = {value.number}", items, inner)
        body += self._n_reserved(
            [(r.start, r.end) for r in enum.reserved_range], enum.reserved_name, ENUM_RANGE_MAX, inner
        )
        return _block(indent, f"{self._visibility(enum)}enum {enum.name}", [body])

    def _n_extend_blocks(self, extensions, scope: str, indent: str) -> list[str]:
        lines = []
        for extendee, group in itertools.groupby(extensions, key=lambda extension: extension.extendee):
            fields = self._n_fields(group, scope, {}, indent + INDENT)
            lines += _block(indent, f"extend {extendee}", [fields])
        return lines

    def _n_service(self, service) -> list[str]:
        full_name = _join(self._file.package, service.name)
        rpcs = []
        for method in service.method:
            method_name = _join(full_name, method.name)
            client = "stream " if method.client_streaming else ""
            server = "stream " if method.server_streaming else ""
            signature = f"rpc {method.name} ({client}{method.input_type}) returns ({server}{method.output_type})"
            options = self._n_options(method.options, method_name, INDENT * 2)
            rpcs += _block(INDENT, signature, [options], closing="};") if options else [f"{INDENT}{signature};"]
        return _block("", f"service {service.name}", [self._n_options(service.options, full_name, INDENT), rpcs])
