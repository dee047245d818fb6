"""The breaking-change rules: one small function each, registered in the RULES table at the bottom.

Each function receives one (previous, current) pair from the adapters in pairs.py
and yields `(place, message)` for every breaking change it sees. Places and messages
are buf's (1.75.0), so findings equal `buf breaking`'s: a change is placed on what
changed in the current file (a field's type, an option's own span), a deletion on the
element that still holds it in the current file (the message of a deleted field, the
enum of a deleted value, the service of a deleted RPC, the file of a deleted top-level
type). Rule ids, purposes and categories follow buf's, which users already know.
"""

import json
import struct
from collections.abc import Callable, Iterator
from typing import NamedTuple

from google.protobuf import text_encoding
from google.protobuf.descriptor_pb2 import FeatureSet, FieldDescriptorProto, FileOptions, MethodOptions

from protoengine.breaking import features
from protoengine.breaking.pairs import (
    ENUM_VALUES,
    ENUMS,
    FIELDS,
    FILES,
    MESSAGES,
    METHODS,
    SCHEMAS,
    SERVICES,
    declared_type,
    only_appended,
)
from protoengine.locations import (
    ENUM_OPTIONS,
    ENUM_VALUE_NUMBER,
    FIELD_DEFAULT_VALUE,
    FIELD_JSON_NAME,
    FIELD_NAME,
    FIELD_OPTIONS,
    FIELD_TYPE,
    FIELD_TYPE_NAME,
    FILE_OPTIONS,
    FILE_PACKAGE,
    FILE_SYNTAX,
    MESSAGE_OPTIONS,
    METHOD_INPUT_TYPE,
    METHOD_OPTIONS,
    METHOD_OUTPUT_TYPE,
)
from protoengine.model import EnumElement, Place

F = FieldDescriptorProto
Violations = Iterator[tuple[Place, str]]

# Option and feature field numbers (descriptor.proto), for placing a finding on the option that changed.
MESSAGE_NO_STANDARD_DESCRIPTOR_ACCESSOR = 2
MESSAGE_FEATURES = 12
FIELD_CTYPE = 1
FIELD_JSTYPE = 6
FIELD_FEATURES = 21
ENUM_FEATURES = 7
FILE_JAVA_STRING_CHECK_UTF8 = 27
METHOD_IDEMPOTENCY_LEVEL = 34
FEATURE_ENUM_TYPE = 2
FEATURE_UTF8_VALIDATION = 4
FEATURE_JSON_FORMAT = 6

# Highest numbers a range can reach, printed as "max".
MESSAGE_MAX = 536870911
ENUM_MAX = 2147483647

FILE = "FILE"
PACKAGE = "PACKAGE"
WIRE_JSON = "WIRE_JSON"
WIRE = "WIRE"


class Rule(NamedTuple):
    id: str
    purpose: str
    categories: tuple[str, ...]
    function: Callable
    over: str


# --- How findings talk about things -------------------------------------------------
#
# Messages follow buf's text word for word, so a finding reads the same from the registry, the command line
# and buf: elements by their short name (`message "TickData"`), numbers quoted (`Field "3"`), extensions by
# full name. docs/breaking-rules.md lists where this differs from the engine's earlier wording.

# Where buf puts a finding it has no source location for: no file at all (a deleted file or package).
NOWHERE: Place = ("", 0, 0, 0, 0)


def describe(field, with_name: bool = True) -> str:
    """Return buf's `Field "3" with name "bid" on message "TickData"` (extensions by full name, on the extendee)."""
    if field.is_extension:
        kind, name, message = "Extension", field.full_name, field.message_name
    else:
        kind, name, message = "Field", field.name, field.parent.name
    named = f' with name "{name}"' if with_name else ""
    return f'{kind} "{field.number}"{named} on message "{message}"'


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _quote(value) -> str:
    """Quote a value as buf does (Go's %q: backslashes and quotes escaped), booleans as "true" or "false"."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return json.dumps(str(value), ensure_ascii=False)


def _quoted_names(names) -> str:
    return ", ".join(f'"{name}"' for name in names)


# --- Whole sets, files and packages ---------------------------------------------------


def file_no_delete(previous, current) -> Violations:
    for name in previous.files:
        if name not in current.files:
            yield NOWHERE, f'Previously present file "{name}" was deleted.'


def package_no_delete(previous, current) -> Violations:
    for name in previous.packages:
        if name not in current.packages:
            yield NOWHERE, f'Previously present package "{name}" was deleted.'


def file_same_package(previous, current) -> Violations:
    if previous.package != current.package:
        yield current.at(FILE_PACKAGE), f'File package changed from "{previous.package}" to "{current.package}".'


def file_same_syntax(previous, current) -> Violations:
    if previous.syntax != current.syntax:
        yield current.at(FILE_SYNTAX), f'File syntax changed from "{previous.syntax}" to "{current.syntax}".'


def same_file_option(option: str) -> Callable:
    """Build the rule that a file option keeps its effective value (set or default)."""
    field = FileOptions.DESCRIPTOR.fields_by_name[option]

    def rule(previous, current) -> Violations:
        old, new = _file_option(previous, field), _file_option(current, field)
        if old != new:
            yield (
                current.at(FILE_OPTIONS, field.number),
                f'File option "{option}" changed from {_quote(old)} to {_quote(new)}.',
            )

    rule.__name__ = f"file_same_{option}"
    return rule


def _file_option(file, field):
    value = getattr(file.proto.options, field.name)
    return field.enum_type.values_by_number[value].name if field.enum_type else value


def no_delete_from_file(kind: str, noun: str) -> Callable:
    """Build the rule that a file keeps its messages, enums or extensions (`kind`), nested ones included.

    Declarations pair by their name inside the file (`Outer.Inner`), as buf pairs them, so a package rename
    deletes nothing here. A deletion is placed at the closest enclosing message that the current file still
    has, else at the file.
    """

    def rule(previous, current) -> Violations:
        new = current.declared(kind)
        for name in previous.declared(kind).keys() - new.keys():
            yield _deleted_at(current, name), f'Previously present {noun} "{name}" was deleted from file.'

    rule.__name__ = f"file_{noun}_no_delete"
    return rule


def service_no_delete(previous, current) -> Violations:
    new = {service.name for service in current.services.values()}
    for service in previous.services.values():
        if service.name not in new:
            yield current.at(), f'Previously present service "{service.name}" was deleted from file.'


def no_delete_from_package(kind: str, noun: str) -> Callable:
    """Build the rule that a package keeps its messages, enums, extensions or services (`kind`), across its files.

    As in buf, a package's messages, enums and extensions are compared only while the current set still
    declares something of that kind in it (its services always are). A deletion is placed in the file that
    declared it if that file is still there, else nowhere; a nested message at its closest enclosing message
    that the package still has, other nested types at the one that file still has.
    """

    def rule(previous, current) -> Violations:
        for package, files in previous.packages.items():
            current_files = current.packages.get(package)
            if not current_files or _package_unchanged(files, current_files):
                continue
            new = _package_names(current_files, kind)
            if not new and kind != "services":
                continue
            for name, (declaring, _) in _package_names(files, kind).items():
                if name not in new:
                    file = current.files.get(declaring.name)
                    if file is None:
                        place = NOWHERE
                    elif kind == "services":
                        place = file.at()
                    else:
                        scope = new if kind == "messages" else file.declared("messages")
                        place = _deleted_at(file, name, scope)
                    yield place, f'Previously present {noun} "{name}" was deleted from package "{package}".'

    rule.__name__ = f"package_{noun}_no_delete"
    return rule


def _package_names(files, kind: str) -> dict:
    found = {}
    for file in files:
        found.update(file.declared(kind))
    return found


def _package_unchanged(previous_files, current_files) -> bool:
    """Tell whether a package has the same files declaring the same things: nothing can be gone from it."""
    current = {file.name: file for file in current_files}
    return len(current) == len(previous_files) and all(
        file.name in current and file.same_declarations(current[file.name]) for file in previous_files
    )


def _deleted_at(file, nested_name: str, messages: dict | None = None) -> Place:
    """Return the place of the closest enclosing message among `messages` (the file's), else the bare file."""
    messages = file.declared("messages") if messages is None else messages
    parts = nested_name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        parent = messages.get(".".join(parts[:end]))
        if parent is not None:
            declaring, path = parent
            return declaring.place(path)
    return file.at()


# --- Messages -----------------------------------------------------------------------


def field_no_delete(previous, current) -> Violations:
    yield from _deleted_fields(previous, current, lambda field: False, lambda field: "")


def field_no_delete_unless_number_reserved(previous, current) -> Violations:
    yield from _deleted_fields(
        previous,
        current,
        lambda field: _in_ranges(field.number, _message_reserved(current)),
        lambda field: f' without reserving the number "{field.number}"',
    )


def field_no_delete_unless_name_reserved(previous, current) -> Violations:
    yield from _deleted_fields(
        previous,
        current,
        lambda field: field.name in current.proto.reserved_name,
        lambda field: f' without reserving the name "{field.name}"',
    )


def _deleted_fields(previous, current, allowed, suffix) -> Violations:
    if only_appended(previous, current):
        return
    for number in previous.numbers.keys() - current.numbers.keys():
        field = previous.field(number)
        if not allowed(field):
            yield current.at(), f"Previously present {_lower_first(describe(field))} was deleted{suffix(field)}."


def oneof_no_delete(previous, current) -> Violations:
    if previous.proto.oneof_decl == current.proto.oneof_decl:
        return
    for name in previous.oneofs:
        if name not in current.oneofs:
            yield current.at(), f'Previously present oneof "{name}" on message "{current.name}" was deleted.'


def extension_message_no_delete(previous, current) -> Violations:
    old = [(r.start, r.end - 1) for r in previous.proto.extension_range]
    new = [(r.start, r.end - 1) for r in current.proto.extension_range]
    for index, missing in _missing_ranges(old, new, MESSAGE_MAX):
        yield (
            current.at(),
            f'Previously present extension range "{_range_text(old[index], MESSAGE_MAX)}" on message '
            f'"{current.name}" is missing values: {missing} were removed.',
        )


def reserved_message_no_delete(previous, current) -> Violations:
    old = [(r.start, r.end - 1) for r in previous.proto.reserved_range]
    for index, missing in _missing_ranges(old, _message_reserved(current), MESSAGE_MAX):
        yield (
            current.at(),
            f'Previously present reserved range "{_range_text(old[index], MESSAGE_MAX)}" on message '
            f'"{current.name}" is missing values: {missing} were removed.',
        )
    for name in previous.proto.reserved_name:
        if name not in current.proto.reserved_name:
            yield current.at(), f'Previously present reserved name "{name}" on message "{current.name}" was deleted.'


def _message_reserved(message) -> list[tuple[int, int]]:
    return [(r.start, r.end - 1) for r in message.proto.reserved_range]


REQUIRED_WHY = (
    "Required fields must always be sent, so if one side does not know about the required field, this will "
    "result in a breakage."
)


def message_same_required_fields(previous, current) -> Violations:
    old, new = _required_numbers(previous), _required_numbers(current)
    for number in sorted(old - new):
        yield current.at(), f'Message "{previous.name}" had required field "{number}" deleted. {REQUIRED_WHY}'
    for number in sorted(new - old):
        yield (
            current.field(number).at(),
            f'Message "{current.name}" had required field "{number}" added. {REQUIRED_WHY}',
        )


def _required_numbers(message) -> set[int]:
    if message.file.syntax == "proto3":
        return set()  # proto3 has no required fields
    return {number for number, field in message.fields.items() if features.is_required(field)}


def message_no_remove_standard_descriptor_accessor(previous, current) -> Violations:
    if (
        not previous.proto.options.no_standard_descriptor_accessor
        and current.proto.options.no_standard_descriptor_accessor
    ):
        yield (
            current.file.place(current.path + (MESSAGE_OPTIONS, MESSAGE_NO_STANDARD_DESCRIPTOR_ACCESSOR)),
            'Message option "no_standard_descriptor_accessor" changed from "false" to "true".',
        )


def message_same_json_format(previous, current) -> Violations:
    old, new = features.json_format(previous), features.json_format(current)
    if old == FeatureSet.ALLOW and new != FeatureSet.ALLOW:
        yield (
            current.at(MESSAGE_OPTIONS, MESSAGE_FEATURES, FEATURE_JSON_FORMAT),
            f'Message "{current.name}" JSON format support changed from {FeatureSet.JsonFormat.Name(old)} to '
            f"{FeatureSet.JsonFormat.Name(new)}.",
        )


# --- Fields -------------------------------------------------------------------------


def field_same_name(previous, current) -> Violations:
    old, new = (previous.full_name, current.full_name) if previous.is_extension else (previous.name, current.name)
    if old != new:
        yield current.at(FIELD_NAME), f'{describe(current, with_name=False)} changed name from "{old}" to "{new}".'


def field_same_json_name(previous, current) -> Violations:
    if not previous.is_extension and features.json_name(previous) != features.json_name(current):
        yield (
            current.at(FIELD_JSON_NAME),
            f'{describe(current)} changed option "json_name" from "{features.json_name(previous)}" to '
            f'"{features.json_name(current)}".',
        )


def field_same_type(previous, current) -> Violations:
    if features.kind(previous) != features.kind(current):
        yield _changed_type(previous, current)
    elif features.kind(current) in _NAMED and previous.type_name != current.type_name:
        yield _changed_type_name(previous, current)


WIRE_NOTE = " See https://developers.google.com/protocol-buffers/docs/proto3#updating for wire compatibility rules."
BYTES_TO_STRING_NOTE = (
    " Note that while string and bytes are compatible if the data is valid UTF-8, there is no way to enforce that a "
    "bytes field is UTF-8, so these fields may be incompatible."
)
WIRE_JSON_NOTE = (
    " See https://developers.google.com/protocol-buffers/docs/proto3#updating for wire compatibility rules and "
    "https://developers.google.com/protocol-buffers/docs/proto3#json for JSON compatibility rules."
)


def field_wire_compatible_type(previous, current) -> Violations:
    old, new = features.kind(previous), features.kind(current)
    if _WIRE_GROUPS[old] != _WIRE_GROUPS[new]:
        if (old, new) == (F.TYPE_STRING, F.TYPE_BYTES):
            return  # every string is valid bytes
        note = WIRE_NOTE + (BYTES_TO_STRING_NOTE if (old, new) == (F.TYPE_BYTES, F.TYPE_STRING) else "")
        yield _changed_type(previous, current, note)
    elif _named_type_changed(previous, current):
        yield _changed_type_name(previous, current)


def field_wire_json_compatible_type(previous, current) -> Violations:
    if _JSON_GROUPS[features.kind(previous)] != _JSON_GROUPS[features.kind(current)]:
        yield _changed_type(previous, current, WIRE_JSON_NOTE)
    elif _named_type_changed(previous, current):
        yield _changed_type_name(previous, current)


def _changed_type(previous, current, note: str = "") -> tuple[Place, str]:
    """Report a changed kind (`"int32"` to `"int64"`) at the current type or type name.

    A map's key or value is placed on the map field's type (`map<string, int64>`), as buf places it.
    """
    where = FIELD_TYPE_NAME if features.kind(current) in _NAMED or current.in_map_entry else FIELD_TYPE
    return (
        current.at(where),
        f'{describe(current)} changed type from "{_kind_text(previous)}" to "{_kind_text(current)}".{note}',
    )


def _changed_type_name(previous, current) -> tuple[Place, str]:
    """Report a message, group or enum field that names another type, at the current type name."""
    return (
        current.at(FIELD_TYPE_NAME),
        f'{describe(current)} changed type from "{previous.type_name}" to "{current.type_name}".',
    )


def _kind_text(field) -> str:
    """Return buf's word for a field's kind: `int32`, `message`, `enum`, `group`, or a delimited message."""
    encoded = features.kind(field)
    if encoded == F.TYPE_GROUP and field.file.syntax != "proto2":
        return "message (delimited encoding)"
    return _KIND_WORDS[encoded]


def _named_type_changed(previous, current) -> bool:
    """Tell whether a message, group or enum field now names an incompatible type.

    An enum may move or be renamed in its package as long as it keeps its short
    name and every previous value, so that old numbers decode the same.
    """
    if features.kind(current) not in _NAMED or previous.type_name == current.type_name:
        return False
    if features.kind(current) != F.TYPE_ENUM:
        return True
    old = declared_type(previous)
    new = declared_type(current)
    if not isinstance(old, EnumElement) or not isinstance(new, EnumElement) or old.name != new.name:
        return True
    new_values = {(value.name, value.number) for value in new.proto.value}
    return any((value.name, value.number) not in new_values for value in old.proto.value)


def field_same_cardinality(previous, current) -> Violations:
    yield from _cardinality_kept(previous, current, None)


def field_wire_compatible_cardinality(previous, current) -> Violations:
    yield from _cardinality_kept(previous, current, _WIRE_CARDINALITY)


def field_wire_json_compatible_cardinality(previous, current) -> Violations:
    yield from _cardinality_kept(previous, current, _JSON_CARDINALITY)


def _cardinality_kept(previous, current, groups: dict | None) -> Violations:
    if previous.in_map_entry and current.in_map_entry:
        return  # map keys and values are generated; their presence is not the user's choice
    old, new = features.cardinality(previous), features.cardinality(current)
    if (old != new) if groups is None else (groups[old] != groups[new]):
        yield current.at(), f'{describe(current)} changed cardinality from "{old}" to "{new}".'


def field_same_oneof(previous, current) -> Violations:
    if previous.is_extension or previous.oneof == current.oneof:
        return
    if previous.oneof and current.oneof:
        # buf 1.75.0 prints a stray `q` after the field's description here; the copy keeps outputs identical.
        yield current.at(), f'{describe(current)}q moved from oneof "{previous.oneof}" to oneof "{current.oneof}".'
    else:
        old, new = ("inside", "outside") if previous.oneof else ("outside", "inside")
        yield current.at(), f"{describe(current)} moved from {old} to {new} a oneof."


def field_same_default(previous, current) -> Violations:
    if not (_can_have_default(previous) and _can_have_default(current)):
        return
    old, new = _default(previous), _default(current)
    if (_is_zero(old[0]) and _is_zero(new[0])) or _defaults_equal(old[0], new[0]):
        return
    yield _default_place(current), f"{describe(current)} changed default value from {old[1]} to {new[1]}."


def _default_place(field) -> Place:
    """Return the span of `default = value`: protoc's covers only the value, buf's starts at the keyword.

    The source text is gone by now, so the start assumes the usual `default = ` spacing on the value's line.
    """
    path, line, column, end_line, end_column = field.at(FIELD_DEFAULT_VALUE)
    if field.file.place(field.path + (FIELD_DEFAULT_VALUE,))[1] and column > len(DEFAULT_PREFIX):
        column -= len(DEFAULT_PREFIX)
    return path, line, column, end_line, end_column


DEFAULT_PREFIX = "default = "


def _can_have_default(field) -> bool:
    return field.proto.label != F.LABEL_REPEATED and features.kind(field) not in (F.TYPE_MESSAGE, F.TYPE_GROUP)


def _default(field) -> tuple[object, str]:
    """Return the default a reader sees for an unset field, as (comparable value, printable text)."""
    proto = field.proto
    raw = proto.default_value if proto.HasField("default_value") else None
    kind = features.kind(field)
    if kind == F.TYPE_STRING:
        return raw or "", f'"{raw or ""}"'
    if kind == F.TYPE_BYTES:
        return raw or "", _bytes_text(raw or "")
    if kind == F.TYPE_ENUM:
        enum = declared_type(field)
        values = list(enum.proto.value) if isinstance(enum, EnumElement) else []
        if raw is not None:
            number = next((value.number for value in values if value.name == raw), 0)
        else:
            number = values[0].number if values else 0
        return number, next((value.name for value in values if value.number == number), str(number))
    if kind == F.TYPE_BOOL:
        return raw == "true", raw or "false"
    if kind in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        value = float(raw) if raw else 0.0
        return (value, kind), raw or "0"
    return int(raw) if raw else 0, raw or "0"


def _bytes_text(escaped: str) -> str:
    """Return a bytes default as buf prints it, each byte in hex (`[0x68,0x1,0xFF]`); protoc stores it C-escaped."""
    return "[" + ",".join(f"0x{byte:X}" for byte in text_encoding.CUnescape(escaped)) + "]"


def _is_zero(value) -> bool:
    if isinstance(value, tuple):
        value = value[0]
    return value == 0 or value == ""


def _defaults_equal(old, new) -> bool:
    if isinstance(old, str) or isinstance(new, str):
        return old == new
    old_float, new_float = isinstance(old, tuple), isinstance(new, tuple)
    if old_float and new_float and old[1] != new[1]:
        # float and double defaults agree when they round to the same float
        return _as_float32(old[0]) == _as_float32(new[0]) or (old[0] != old[0] and new[0] != new[0])
    old_value, new_value = old[0] if old_float else old, new[0] if new_float else new
    if old_value != old_value and new_value != new_value:
        return True  # both NaN
    return old_value == new_value


def _as_float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def field_same_jstype(previous, current) -> Violations:
    if features.kind(previous) in _INT64 and features.kind(current) in _INT64:
        old, new = previous.proto.options.jstype, current.proto.options.jstype
        if old != new:
            names = previous.proto.options.JSType.Name
            yield (
                current.at(FIELD_OPTIONS, FIELD_JSTYPE),
                f'{describe(current)} changed option "jstype" from "{names(old)}" to "{names(new)}".',
            )


def field_same_cpp_string_type(previous, current) -> Violations:
    if previous.in_map_entry or not (features.kind(previous) in _TEXT and features.kind(current) in _TEXT):
        return
    old, new = features.cpp_string_type(previous), features.cpp_string_type(current)
    if old != new and (old, new) != ("STRING_PIECE", "STRING"):
        yield (
            current.at(FIELD_OPTIONS, FIELD_CTYPE),
            f'{describe(current)} changed C++ string type from "{old}" to "{new}".',
        )


def field_same_java_utf8_validation(previous, current) -> Violations:
    if features.kind(previous) == F.TYPE_STRING and features.kind(current) == F.TYPE_STRING:
        old, new = features.java_utf8_validation(previous), features.java_utf8_validation(current)
        if old != new:
            # buf points at the file's java_string_check_utf8 option when the file sets it.
            place = current.file.at(FILE_OPTIONS, FILE_JAVA_STRING_CHECK_UTF8)
            yield (
                place if place[1] else current.at(),
                f'{describe(current)} changed Java string UTF8 validation from "{old}" to "{new}".',
            )


def field_same_utf8_validation(previous, current) -> Violations:
    if features.kind(previous) == F.TYPE_STRING and features.kind(current) == F.TYPE_STRING:
        old, new = features.utf8_validation(previous), features.utf8_validation(current)
        if old != new:
            name = FeatureSet.Utf8Validation.Name
            yield (
                current.at(FIELD_OPTIONS, FIELD_FEATURES, FEATURE_UTF8_VALIDATION),
                f"{describe(current)} changed UTF8 validation from {name(old)} to {name(new)}.",
            )


# --- Enums and their values ---------------------------------------------------------


def enum_same_type(previous, current) -> Violations:
    old, new = features.is_closed_enum(previous), features.is_closed_enum(current)
    if old != new:
        yield (
            current.at(ENUM_OPTIONS, ENUM_FEATURES, FEATURE_ENUM_TYPE),
            f'Enum "{current.name}" changed from {"closed" if old else "open"} to {"closed" if new else "open"}.',
        )


def enum_same_json_format(previous, current) -> Violations:
    old, new = features.json_format(previous), features.json_format(current)
    if old == FeatureSet.ALLOW and new != FeatureSet.ALLOW:
        yield (
            current.at(ENUM_OPTIONS, ENUM_FEATURES, FEATURE_JSON_FORMAT),
            f'Enum "{current.name}" JSON format support changed from {FeatureSet.JsonFormat.Name(old)} to '
            f"{FeatureSet.JsonFormat.Name(new)}.",
        )


def enum_value_no_delete(previous, current) -> Violations:
    yield from _deleted_values(previous, current, lambda values: False, lambda number, values: "")


def enum_value_no_delete_unless_number_reserved(previous, current) -> Violations:
    reserved = [(r.start, r.end) for r in current.proto.reserved_range]
    yield from _deleted_values(
        previous,
        current,
        lambda values: _in_ranges(values[0].proto.number, reserved),
        lambda number, values: f' without reserving the number "{number}"',
    )


def enum_value_no_delete_unless_name_reserved(previous, current) -> Violations:
    reserved = set(current.proto.reserved_name)
    yield from _deleted_values(
        previous,
        current,
        lambda values: all(value.name in reserved for value in values),
        lambda number, values: (
            f" without reserving the name{'s' if len(values) > 1 else ''} "
            f"{_quoted_names(sorted(value.name for value in values))}"
        ),
    )


def _deleted_values(previous, current, allowed, suffix) -> Violations:
    for number, values in previous.values.items():
        if number not in current.values and not allowed(values):
            yield (
                current.at(),
                f'Previously present enum value "{number}" on enum "{current.name}" was deleted'
                f"{suffix(number, values)}.",
            )


def enum_value_same_name(previous, current) -> Violations:
    """Every earlier name of a number must remain: JSON readers parse values by name. New aliases are fine.

    buf reports the change once at the number of every current value (alias) that holds it.
    """
    old = sorted(value.name for value in previous)
    new = sorted(value.name for value in current)
    if not set(old) <= set(new):
        plural = "s" if len(old) > 1 and len(new) > 1 else ""
        enum = current[0].parent.name
        for value in current:
            yield (
                value.at(ENUM_VALUE_NUMBER),
                f'Enum value "{value.proto.number}" on enum "{enum}" changed name{plural} from {_quoted_names(old)} '
                f"to {_quoted_names(new)}.",
            )


def reserved_enum_no_delete(previous, current) -> Violations:
    old = [(r.start, r.end) for r in previous.proto.reserved_range]
    new = [(r.start, r.end) for r in current.proto.reserved_range]
    for index, missing in _missing_ranges(old, new, ENUM_MAX):
        yield (
            current.at(),
            f'Previously present reserved range "{_range_text(old[index], ENUM_MAX)}" on enum "{current.name}" is '
            f"missing values: {missing} were removed.",
        )
    for name in previous.proto.reserved_name:
        if name not in current.proto.reserved_name:
            yield current.at(), f'Previously present reserved name "{name}" on enum "{current.name}" was deleted.'


# --- Services and RPCs --------------------------------------------------------------


def rpc_no_delete(previous, current) -> Violations:
    for name in previous.methods:
        if name not in current.methods:
            yield current.at(), f'Previously present RPC "{name}" on service "{current.name}" was deleted.'


def rpc_same_request_type(previous, current) -> Violations:
    old, new = previous.proto.input_type.lstrip("."), current.proto.input_type.lstrip(".")
    if old != new:
        yield (
            current.at(METHOD_INPUT_TYPE),
            f'RPC "{current.name}" on service "{current.parent.name}" changed request type from "{old}" to "{new}".',
        )


def rpc_same_response_type(previous, current) -> Violations:
    old, new = previous.proto.output_type.lstrip("."), current.proto.output_type.lstrip(".")
    if old != new:
        yield (
            current.at(METHOD_OUTPUT_TYPE),
            f'RPC "{current.name}" on service "{current.parent.name}" changed response type from "{old}" to "{new}".',
        )


def rpc_same_client_streaming(previous, current) -> Violations:
    yield from _streaming_kept("client", previous.proto.client_streaming, current, current.proto.client_streaming)


def rpc_same_server_streaming(previous, current) -> Violations:
    yield from _streaming_kept("server", previous.proto.server_streaming, current, current.proto.server_streaming)


def _streaming_kept(side: str, old: bool, current, new: bool) -> Violations:
    # buf 1.75.0 places this at the whole RPC, not at the `stream` keyword.
    if old != new:
        mode = {True: "streaming", False: "unary"}
        yield (
            current.at(),
            f'RPC "{current.name}" on service "{current.parent.name}" changed from {side} {mode[old]} to {side} '
            f"{mode[new]}.",
        )


def rpc_same_idempotency_level(previous, current) -> Violations:
    old, new = previous.proto.options.idempotency_level, current.proto.options.idempotency_level
    if old != new:
        name = MethodOptions.IdempotencyLevel.Name
        # The option's own span, or the bare file when the current RPC no longer sets it (buf has no fallback).
        yield (
            current.file.place(current.path + (METHOD_OPTIONS, METHOD_IDEMPOTENCY_LEVEL)),
            f'RPC "{current.name}" on service "{current.parent.name}" changed option "idempotency_level" from '
            f'"{name(old)}" to "{name(new)}".',
        )


# --- Ranges -------------------------------------------------------------------------


def _in_ranges(number: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= number <= end for start, end in ranges)


def _missing_ranges(previous: list[tuple[int, int]], current: list[tuple[int, int]], maximum: int):
    """Yield (index, text) for each previous inclusive range not wholly covered by the current ones."""
    covered = _merge(current)
    for index, (start, end) in enumerate(previous):
        gaps = []
        cursor = start
        for low, high in covered:
            if high < cursor or low > end:
                continue
            if low > cursor:
                gaps.append((cursor, low - 1))
            cursor = max(cursor, high + 1)
        if cursor <= end:
            gaps.append((cursor, end))
        if gaps:
            yield index, ", ".join(_range_text(gap, maximum) for gap in gaps)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _range_text(bounds: tuple[int, int], maximum: int) -> str:
    start, end = bounds
    if start == end:
        return f"[{start}]"
    return f"[{start},{'max' if end == maximum else end}]"


# --- Type groups from the language guide's compatibility notes ----------------------

_NAMED = (F.TYPE_MESSAGE, F.TYPE_GROUP, F.TYPE_ENUM)
# buf's words for kinds, as protoreflect spells them: `int32`, `message`, `enum`, `group`.
_KIND_WORDS = {number: name[len("TYPE_") :].lower() for name, number in F.Type.items()}
_INT64 = (F.TYPE_INT64, F.TYPE_SINT64, F.TYPE_UINT64, F.TYPE_FIXED64, F.TYPE_SFIXED64)
_TEXT = (F.TYPE_STRING, F.TYPE_BYTES)

# Types in one group decode each other's bytes (values may truncate, as the guide says).
_WIRE_GROUPS = {
    F.TYPE_INT32: 1,
    F.TYPE_INT64: 1,
    F.TYPE_UINT32: 1,
    F.TYPE_UINT64: 1,
    F.TYPE_BOOL: 1,
    F.TYPE_SINT32: 2,
    F.TYPE_SINT64: 2,
    F.TYPE_STRING: 3,
    F.TYPE_BYTES: 4,
    F.TYPE_FIXED32: 5,
    F.TYPE_SFIXED32: 5,
    F.TYPE_FIXED64: 6,
    F.TYPE_SFIXED64: 6,
    F.TYPE_DOUBLE: 7,
    F.TYPE_FLOAT: 8,
    F.TYPE_GROUP: 9,
    F.TYPE_MESSAGE: 10,
    F.TYPE_ENUM: 11,
}
# Types in one group are wire compatible and also write the same JSON (64-bit integers are JSON strings).
_JSON_GROUPS = {
    F.TYPE_INT32: 1,
    F.TYPE_UINT32: 1,
    F.TYPE_INT64: 2,
    F.TYPE_UINT64: 2,
    F.TYPE_FIXED32: 3,
    F.TYPE_SFIXED32: 3,
    F.TYPE_FIXED64: 4,
    F.TYPE_SFIXED64: 4,
    F.TYPE_BOOL: 5,
    F.TYPE_SINT32: 6,
    F.TYPE_SINT64: 7,
    F.TYPE_STRING: 8,
    F.TYPE_BYTES: 9,
    F.TYPE_DOUBLE: 10,
    F.TYPE_FLOAT: 11,
    F.TYPE_GROUP: 12,
    F.TYPE_MESSAGE: 13,
    F.TYPE_ENUM: 14,
}
# Singular fields decode each other; repeated and map fields share the wire but not JSON.
_WIRE_CARDINALITY = {
    features.EXPLICIT: 1,
    features.IMPLICIT: 1,
    features.REQUIRED: 2,
    features.REPEATED: 3,
    features.MAP: 3,
}
_JSON_CARDINALITY = {
    features.EXPLICIT: 1,
    features.IMPLICIT: 1,
    features.REQUIRED: 2,
    features.REPEATED: 3,
    features.MAP: 4,
}


# --- The table ----------------------------------------------------------------------

_F = (FILE,)
_FP = (FILE, PACKAGE)
_FPJ = (FILE, PACKAGE, WIRE_JSON)
_ALL = (FILE, PACKAGE, WIRE_JSON, WIRE)

_ROWS = [
    Rule(
        "ENUM_NO_DELETE",
        "Checks that enums are not deleted from a given file.",
        _F,
        no_delete_from_file("enums", "enum"),
        FILES,
    ),
    Rule(
        "ENUM_SAME_JSON_FORMAT", "Checks that enums keep their JSON format support.", _FPJ, enum_same_json_format, ENUMS
    ),
    Rule("ENUM_SAME_TYPE", "Checks that enums keep their type (open or closed).", _FP, enum_same_type, ENUMS),
    Rule(
        "ENUM_VALUE_NO_DELETE",
        "Checks that enum values are not deleted from a given enum.",
        _FP,
        enum_value_no_delete,
        ENUMS,
    ),
    Rule(
        "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED",
        "Checks that enum values are not deleted from a given enum unless the name is reserved.",
        (WIRE_JSON,),
        enum_value_no_delete_unless_name_reserved,
        ENUMS,
    ),
    Rule(
        "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED",
        "Checks that enum values are not deleted from a given enum unless the number is reserved.",
        (WIRE_JSON, WIRE),
        enum_value_no_delete_unless_number_reserved,
        ENUMS,
    ),
    Rule("ENUM_VALUE_SAME_NAME", "Checks that enum values keep their names.", _FPJ, enum_value_same_name, ENUM_VALUES),
    Rule(
        "EXTENSION_MESSAGE_NO_DELETE",
        "Checks that extension ranges are not deleted from a given message.",
        _FP,
        extension_message_no_delete,
        MESSAGES,
    ),
    Rule(
        "EXTENSION_NO_DELETE",
        "Checks that extensions are not deleted from a given file.",
        _F,
        no_delete_from_file("extensions", "extension"),
        FILES,
    ),
    Rule("FIELD_NO_DELETE", "Checks that fields are not deleted from a given message.", _FP, field_no_delete, MESSAGES),
    Rule(
        "FIELD_NO_DELETE_UNLESS_NAME_RESERVED",
        "Checks that fields are not deleted from a given message unless the name is reserved.",
        (WIRE_JSON,),
        field_no_delete_unless_name_reserved,
        MESSAGES,
    ),
    Rule(
        "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
        "Checks that fields are not deleted from a given message unless the number is reserved.",
        (WIRE_JSON, WIRE),
        field_no_delete_unless_number_reserved,
        MESSAGES,
    ),
    Rule("FIELD_SAME_CARDINALITY", "Checks that fields keep their cardinality.", _FP, field_same_cardinality, FIELDS),
    Rule(
        "FIELD_SAME_CPP_STRING_TYPE",
        "Checks that string and bytes fields keep their C++ string type (ctype or (pb.cpp).string_type).",
        _FP,
        field_same_cpp_string_type,
        FIELDS,
    ),
    Rule(
        "FIELD_SAME_DEFAULT",
        "Checks that fields keep their default value, where one can be set.",
        _ALL,
        field_same_default,
        FIELDS,
    ),
    Rule(
        "FIELD_SAME_JAVA_UTF8_VALIDATION",
        "Checks that string fields keep their Java UTF-8 validation (java_string_check_utf8 or "
        "(pb.java).utf8_validation).",
        _FP,
        field_same_java_utf8_validation,
        FIELDS,
    ),
    Rule("FIELD_SAME_JSON_NAME", "Checks that fields keep their JSON name.", _FPJ, field_same_json_name, FIELDS),
    Rule(
        "FIELD_SAME_JSTYPE",
        "Checks that 64-bit integer fields keep their jstype option.",
        _FP,
        field_same_jstype,
        FIELDS,
    ),
    Rule("FIELD_SAME_NAME", "Checks that fields keep their names.", _FPJ, field_same_name, FIELDS),
    Rule("FIELD_SAME_ONEOF", "Checks that fields stay in (or out of) the same oneof.", _ALL, field_same_oneof, FIELDS),
    Rule("FIELD_SAME_TYPE", "Checks that fields keep their types.", _FP, field_same_type, FIELDS),
    Rule(
        "FIELD_SAME_UTF8_VALIDATION",
        "Checks that string fields keep their UTF-8 validation mode.",
        _FP,
        field_same_utf8_validation,
        FIELDS,
    ),
    Rule(
        "FIELD_WIRE_COMPATIBLE_CARDINALITY",
        "Checks that fields keep a wire-compatible cardinality.",
        (WIRE,),
        field_wire_compatible_cardinality,
        FIELDS,
    ),
    Rule(
        "FIELD_WIRE_COMPATIBLE_TYPE",
        "Checks that fields keep a wire-compatible type.",
        (WIRE,),
        field_wire_compatible_type,
        FIELDS,
    ),
    Rule(
        "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY",
        "Checks that fields keep a wire- and JSON-compatible cardinality.",
        (WIRE_JSON,),
        field_wire_json_compatible_cardinality,
        FIELDS,
    ),
    Rule(
        "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
        "Checks that fields keep a wire- and JSON-compatible type.",
        (WIRE_JSON,),
        field_wire_json_compatible_type,
        FIELDS,
    ),
    Rule("FILE_NO_DELETE", "Checks that files are not deleted.", _F, file_no_delete, SCHEMAS),
    Rule(
        "FILE_SAME_CC_ENABLE_ARENAS",
        "Checks that files keep the cc_enable_arenas option.",
        _FP,
        same_file_option("cc_enable_arenas"),
        FILES,
    ),
    Rule(
        "FILE_SAME_CC_GENERIC_SERVICES",
        "Checks that files keep the cc_generic_services option.",
        _FP,
        same_file_option("cc_generic_services"),
        FILES,
    ),
    Rule(
        "FILE_SAME_CSHARP_NAMESPACE",
        "Checks that files keep the csharp_namespace option.",
        _FP,
        same_file_option("csharp_namespace"),
        FILES,
    ),
    Rule(
        "FILE_SAME_GO_PACKAGE",
        "Checks that files keep the go_package option.",
        _FP,
        same_file_option("go_package"),
        FILES,
    ),
    Rule(
        "FILE_SAME_JAVA_GENERIC_SERVICES",
        "Checks that files keep the java_generic_services option.",
        _FP,
        same_file_option("java_generic_services"),
        FILES,
    ),
    Rule(
        "FILE_SAME_JAVA_MULTIPLE_FILES",
        "Checks that files keep the java_multiple_files option.",
        _FP,
        same_file_option("java_multiple_files"),
        FILES,
    ),
    Rule(
        "FILE_SAME_JAVA_OUTER_CLASSNAME",
        "Checks that files keep the java_outer_classname option.",
        _FP,
        same_file_option("java_outer_classname"),
        FILES,
    ),
    Rule(
        "FILE_SAME_JAVA_PACKAGE",
        "Checks that files keep the java_package option.",
        _FP,
        same_file_option("java_package"),
        FILES,
    ),
    Rule(
        "FILE_SAME_OBJC_CLASS_PREFIX",
        "Checks that files keep the objc_class_prefix option.",
        _FP,
        same_file_option("objc_class_prefix"),
        FILES,
    ),
    Rule(
        "FILE_SAME_OPTIMIZE_FOR",
        "Checks that files keep the optimize_for option.",
        _FP,
        same_file_option("optimize_for"),
        FILES,
    ),
    Rule("FILE_SAME_PACKAGE", "Checks that files keep their package.", _ALL, file_same_package, FILES),
    Rule(
        "FILE_SAME_PHP_CLASS_PREFIX",
        "Checks that files keep the php_class_prefix option.",
        _FP,
        same_file_option("php_class_prefix"),
        FILES,
    ),
    Rule(
        "FILE_SAME_PHP_METADATA_NAMESPACE",
        "Checks that files keep the php_metadata_namespace option.",
        _FP,
        same_file_option("php_metadata_namespace"),
        FILES,
    ),
    Rule(
        "FILE_SAME_PHP_NAMESPACE",
        "Checks that files keep the php_namespace option.",
        _FP,
        same_file_option("php_namespace"),
        FILES,
    ),
    Rule(
        "FILE_SAME_PY_GENERIC_SERVICES",
        "Checks that files keep the py_generic_services option.",
        _FP,
        same_file_option("py_generic_services"),
        FILES,
    ),
    Rule(
        "FILE_SAME_RUBY_PACKAGE",
        "Checks that files keep the ruby_package option.",
        _FP,
        same_file_option("ruby_package"),
        FILES,
    ),
    Rule(
        "FILE_SAME_SWIFT_PREFIX",
        "Checks that files keep the swift_prefix option.",
        _FP,
        same_file_option("swift_prefix"),
        FILES,
    ),
    Rule("FILE_SAME_SYNTAX", "Checks that files keep their syntax.", _FP, file_same_syntax, FILES),
    Rule(
        "MESSAGE_NO_DELETE",
        "Checks that messages are not deleted from a given file.",
        _F,
        no_delete_from_file("messages", "message"),
        FILES,
    ),
    Rule(
        "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR",
        "Checks that messages do not turn no_standard_descriptor_accessor on.",
        _FP,
        message_no_remove_standard_descriptor_accessor,
        MESSAGES,
    ),
    Rule(
        "MESSAGE_SAME_JSON_FORMAT",
        "Checks that messages keep their JSON format support.",
        _FPJ,
        message_same_json_format,
        MESSAGES,
    ),
    Rule(
        "MESSAGE_SAME_REQUIRED_FIELDS",
        "Checks that messages have no added or deleted required fields.",
        _ALL,
        message_same_required_fields,
        MESSAGES,
    ),
    Rule("ONEOF_NO_DELETE", "Checks that oneofs are not deleted from a given message.", _FP, oneof_no_delete, MESSAGES),
    Rule(
        "PACKAGE_ENUM_NO_DELETE",
        "Checks that enums are not deleted from a given package.",
        (PACKAGE,),
        no_delete_from_package("enums", "enum"),
        SCHEMAS,
    ),
    Rule(
        "PACKAGE_EXTENSION_NO_DELETE",
        "Checks that extensions are not deleted from a given package.",
        (PACKAGE,),
        no_delete_from_package("extensions", "extension"),
        SCHEMAS,
    ),
    Rule(
        "PACKAGE_MESSAGE_NO_DELETE",
        "Checks that messages are not deleted from a given package.",
        (PACKAGE,),
        no_delete_from_package("messages", "message"),
        SCHEMAS,
    ),
    Rule("PACKAGE_NO_DELETE", "Checks that packages are not deleted.", (PACKAGE,), package_no_delete, SCHEMAS),
    Rule(
        "PACKAGE_SERVICE_NO_DELETE",
        "Checks that services are not deleted from a given package.",
        (PACKAGE,),
        no_delete_from_package("services", "service"),
        SCHEMAS,
    ),
    Rule(
        "RESERVED_ENUM_NO_DELETE",
        "Checks that reserved ranges and names are not deleted from a given enum.",
        _ALL,
        reserved_enum_no_delete,
        ENUMS,
    ),
    Rule(
        "RESERVED_MESSAGE_NO_DELETE",
        "Checks that reserved ranges and names are not deleted from a given message.",
        _ALL,
        reserved_message_no_delete,
        MESSAGES,
    ),
    Rule("RPC_NO_DELETE", "Checks that RPCs are not deleted from a given service.", _FP, rpc_no_delete, SERVICES),
    Rule(
        "RPC_SAME_CLIENT_STREAMING",
        "Checks that RPCs keep their client streaming value.",
        _ALL,
        rpc_same_client_streaming,
        METHODS,
    ),
    Rule(
        "RPC_SAME_IDEMPOTENCY_LEVEL",
        "Checks that RPCs keep their idempotency_level option.",
        _ALL,
        rpc_same_idempotency_level,
        METHODS,
    ),
    Rule("RPC_SAME_REQUEST_TYPE", "Checks that RPCs keep their request type.", _ALL, rpc_same_request_type, METHODS),
    Rule("RPC_SAME_RESPONSE_TYPE", "Checks that RPCs keep their response type.", _ALL, rpc_same_response_type, METHODS),
    Rule(
        "RPC_SAME_SERVER_STREAMING",
        "Checks that RPCs keep their server streaming value.",
        _ALL,
        rpc_same_server_streaming,
        METHODS,
    ),
    Rule(
        "SERVICE_NO_DELETE",
        "Checks that services are not deleted from a given file.",
        _F,
        service_no_delete,
        FILES,
    ),
]

RULES: dict[str, Rule] = {row.id: row for row in _ROWS}
