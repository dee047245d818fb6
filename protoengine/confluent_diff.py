"""Reproduce Confluent Schema Registry's protobuf compatibility verdicts over descriptors.

Confluent lists every structural difference between the previous schema (the
"original") and the new one (the "update"); the change is compatible when every
difference is one of `COMPATIBLE_CHANGES`. Its BACKWARD check is
`check(previous, current)`, FORWARD is `check(current, previous)`, FULL is both.

What it looks at follows Confluent's text-level comparison, not protoc's:
- only the root file is walked; imported files lend their types, and an
  imported message is compared only where a root field refers to it;
- messages and enums are matched by their name below the package, fields,
  oneof members and enum values by number;
- a label counts only where the text writes one (`optional`, `required`,
  `repeated`): proto3 implicit fields, oneof members and maps carry none;
- groups, extensions, options, reserved ranges, services and defaults are
  not compared.

The reference is the `diff` package of confluentinc/schema-registry's
protobuf-provider and its `diff-schema-examples.json`, as of 2026: a changed
package is incompatible since PR #3004, and fields are compared by number
across oneofs (a field may leave a oneof) since PR #4385 and its follow-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    EnumDescriptorProto,
    FieldDescriptorProto,
    FileDescriptorProto,
)

from protoengine import locations as loc
from protoengine.findings import Finding
from protoengine.model import DescriptorModel, model_of


@dataclass(frozen=True)
class DifferenceType:
    """One of Confluent's `Difference.Type` values, its verdict and the closest buf rule id."""

    name: str
    compatible: bool
    rule: str | None


DIFFERENCE_TYPES: dict[str, DifferenceType] = {
    row.name: row
    for row in (
        DifferenceType("PACKAGE_CHANGED", False, "FILE_SAME_PACKAGE"),
        DifferenceType("MESSAGE_ADDED", True, None),
        DifferenceType("MESSAGE_REMOVED", False, "MESSAGE_NO_DELETE"),
        DifferenceType("MESSAGE_MOVED", True, None),
        DifferenceType("ENUM_ADDED", True, None),
        DifferenceType("ENUM_REMOVED", True, "ENUM_NO_DELETE"),
        DifferenceType("ENUM_CONST_ADDED", True, None),
        DifferenceType("ENUM_CONST_CHANGED", True, "ENUM_VALUE_SAME_NAME"),
        DifferenceType("ENUM_CONST_REMOVED", True, "ENUM_VALUE_NO_DELETE"),
        DifferenceType("FIELD_ADDED", True, None),
        DifferenceType("FIELD_REMOVED", True, "FIELD_NO_DELETE"),
        DifferenceType("FIELD_NAME_CHANGED", True, "FIELD_SAME_NAME"),
        DifferenceType("FIELD_KIND_CHANGED", False, "FIELD_SAME_TYPE"),
        DifferenceType("FIELD_SCALAR_KIND_CHANGED", False, "FIELD_WIRE_COMPATIBLE_TYPE"),
        DifferenceType("FIELD_NAMED_TYPE_CHANGED", False, "FIELD_SAME_TYPE"),
        DifferenceType("FIELD_NUMERIC_LABEL_CHANGED", False, "FIELD_WIRE_COMPATIBLE_CARDINALITY"),
        DifferenceType("FIELD_STRING_OR_BYTES_LABEL_CHANGED", True, "FIELD_SAME_CARDINALITY"),
        DifferenceType("REQUIRED_FIELD_ADDED", False, "MESSAGE_SAME_REQUIRED_FIELDS"),
        DifferenceType("REQUIRED_FIELD_REMOVED", False, "MESSAGE_SAME_REQUIRED_FIELDS"),
        DifferenceType("ONEOF_ADDED", True, None),
        DifferenceType("ONEOF_REMOVED", True, "ONEOF_NO_DELETE"),
        DifferenceType("ONEOF_FIELD_ADDED", True, None),
        DifferenceType("ONEOF_FIELD_REMOVED", False, "FIELD_NO_DELETE"),
        DifferenceType("MULTIPLE_FIELDS_MOVED_TO_ONEOF", False, "FIELD_SAME_ONEOF"),
        DifferenceType("FIELD_MOVED_TO_EXISTING_ONEOF", False, "FIELD_SAME_ONEOF"),
    )
}

COMPATIBLE_CHANGES: frozenset[str] = frozenset(name for name, row in DIFFERENCE_TYPES.items() if row.compatible)


@dataclass(frozen=True)
class Difference:
    """One difference Confluent reports, with the place in a file where a person can see it.

    `full_path` is Confluent's own path (`#/TestMessage/2`); `path`, `line` and
    `column` locate the element in the update's file for changes and additions,
    in the original's file for removals.
    """

    type: str
    full_path: str
    message: str
    path: str
    line: int
    column: int

    @property
    def compatible(self) -> bool:
        return DIFFERENCE_TYPES[self.type].compatible

    @property
    def rule(self) -> str | None:
        return DIFFERENCE_TYPES[self.type].rule

    def as_finding(self) -> Finding:
        """Return the Finding; a difference with no buf counterpart uses its Confluent name as rule."""
        return Finding(self.path, self.line, self.column, self.rule or self.type, self.message, confluent=self.type)


def diff(previous: Sequence[FileDescriptorProto], current: Sequence[FileDescriptorProto]) -> list[Difference]:
    """Return every difference Confluent finds from `previous` to `current`, compatible or not.

    Each argument is one schema's files in dependency order; its last file that
    is not a well-known type is the root that Confluent compares.
    """
    original, update = schema_of(previous), schema_of(current)
    if original is None or update is None:
        return []
    comparison = _Comparison(original, update)
    comparison.compare_roots()
    return comparison.differences


def schema_of(files) -> ConfluentSchema | None:
    """Return Confluent's view of a schema (None without an own file): kept by a compiled set's model, else new.

    `files` is a sequence of files, a compiled set or a DescriptorModel, or a view already made.
    """
    if isinstance(files, ConfluentSchema):
        return files
    return model_of(files).confluent()


def check(previous: Sequence[FileDescriptorProto], current: Sequence[FileDescriptorProto]) -> list[Finding]:
    """Return one Finding per incompatible difference from `previous` to `current`, as Confluent decides."""
    findings = [difference.as_finding() for difference in diff(previous, current) if not difference.compatible]
    # An imported message used by two fields is compared twice, as Confluent does; report it once.
    return list(dict.fromkeys(findings))


# Wire-compatible groups of scalar types, as Confluent groups them.
_SCALAR_GROUPS = {
    FieldDescriptorProto.TYPE_INT32: "GENERAL_NUMBER",
    FieldDescriptorProto.TYPE_INT64: "GENERAL_NUMBER",
    FieldDescriptorProto.TYPE_UINT32: "GENERAL_NUMBER",
    FieldDescriptorProto.TYPE_UINT64: "GENERAL_NUMBER",
    FieldDescriptorProto.TYPE_BOOL: "GENERAL_NUMBER",
    FieldDescriptorProto.TYPE_ENUM: "GENERAL_NUMBER",
    FieldDescriptorProto.TYPE_SINT32: "SIGNED_NUMBER",
    FieldDescriptorProto.TYPE_SINT64: "SIGNED_NUMBER",
    FieldDescriptorProto.TYPE_STRING: "STRING_OR_BYTES",
    FieldDescriptorProto.TYPE_BYTES: "STRING_OR_BYTES",
    FieldDescriptorProto.TYPE_FIXED32: "FIXED32",
    FieldDescriptorProto.TYPE_SFIXED32: "FIXED32",
    FieldDescriptorProto.TYPE_FIXED64: "FIXED64",
    FieldDescriptorProto.TYPE_SFIXED64: "FIXED64",
    FieldDescriptorProto.TYPE_FLOAT: "FLOAT",
    FieldDescriptorProto.TYPE_DOUBLE: "DOUBLE",
}
_WRITTEN_LABELS = {
    FieldDescriptorProto.LABEL_OPTIONAL: "optional",
    FieldDescriptorProto.LABEL_REQUIRED: "required",
    FieldDescriptorProto.LABEL_REPEATED: "repeated",
}


@dataclass(frozen=True)
class _SourceFile:
    proto: FileDescriptorProto
    is_root: bool
    # The set's one position finder of this file, shared with breaking, lint and the printer.
    finder: loc.PositionFinder

    @property
    def name(self) -> str:
        return self.proto.name

    @cached_property
    def index(self) -> loc.SourceIndex:
        return loc.SourceIndex(self.proto, self.finder)

    @cached_property
    def content(self) -> bytes:
        """Return the file without source positions, to tell whether two versions are the same schema."""
        copy = FileDescriptorProto()
        copy.CopyFrom(self.proto)
        copy.ClearField("source_code_info")
        return copy.SerializeToString(deterministic=True)


@dataclass(frozen=True)
class _Element:
    """Something declared in a file: where it is, for findings."""

    file: _SourceFile
    source_path: tuple[int, ...]

    def place(self, *suffix: int) -> tuple[str, int, int]:
        line, column = self.file.index.position(self.source_path + suffix)
        return self.file.name, line, column


@dataclass(frozen=True, eq=False)
class _Enum(_Element):
    full_name: str
    local_name: str
    proto: EnumDescriptorProto


@dataclass(frozen=True, eq=False)
class _Message(_Element):
    full_name: str
    local_name: str
    proto: DescriptorProto
    messages: list[_Message] = field(default_factory=list)
    enums: list[_Enum] = field(default_factory=list)
    fields: list[_Field] = field(default_factory=list)
    oneofs: list[_Oneof] = field(default_factory=list)

    @property
    def is_map_entry(self) -> bool:
        return self.proto.options.map_entry


@dataclass(frozen=True)
class _TypeRef:
    """A field's type as Confluent classifies it: scalar (enums included), message or map."""

    kind: str
    name: str
    key: _TypeRef | None = None
    value: _TypeRef | None = None
    scalar_group: str | None = None

    @property
    def category(self) -> str:
        return {"enum": "scalar"}.get(self.kind, self.kind)

    def describe(self) -> str:
        if self.kind == "map":
            return f"map<{self.key.describe()}, {self.value.describe()}>"
        if self.kind == "scalar":
            return self.name
        return f'{self.kind} "{self.name}"'


@dataclass(frozen=True, eq=False)
class _Field(_Element):
    owner: _Message
    proto: FieldDescriptorProto
    type: _TypeRef
    label: str | None
    oneof: str | None

    @property
    def number(self) -> int:
        return self.proto.number

    @property
    def name(self) -> str:
        return self.proto.name


@dataclass(frozen=True, eq=False)
class _Oneof(_Element):
    name: str
    members: list[_Field] = field(default_factory=list)


@dataclass
class ConfluentSchema:
    """One side of the comparison: its root file and every type the root can see, by full name."""

    root: _SourceFile
    messages: list[_Message] = field(default_factory=list)
    enums: list[_Enum] = field(default_factory=list)
    types: dict[str, _Message | _Enum] = field(default_factory=dict)

    @classmethod
    def of(cls, model: DescriptorModel, *, well_known: bool = True) -> ConfluentSchema | None:
        """Return the view of a compiled set's model (see `schema_of`); its last own file is the root."""
        if not model.own_files:
            return None
        root_proto = model.own_files[-1]
        root = _SourceFile(root_proto, True, model.finder(root_proto))
        schema = cls(root)
        files = model.by_name if well_known else {file.name: file for file in model.own_files}
        for proto in _dependencies(root.proto, files):
            schema._register_file(_SourceFile(proto, False, model.finder(proto)))
        schema.messages, schema.enums = schema._register_file(root)
        for message in schema._all_messages():
            schema._attach_fields(message)
        return schema

    def _register_file(self, file: _SourceFile) -> tuple[list[_Message], list[_Enum]]:
        package = file.proto.package
        messages = [
            self._register_message(file, m, (loc.FILE_MESSAGE_TYPE, i), package, "")
            for i, m in enumerate(file.proto.message_type)
        ]
        enums = [
            self._register_enum(file, e, (loc.FILE_ENUM_TYPE, i), package, "")
            for i, e in enumerate(file.proto.enum_type)
        ]
        return _visible(messages), enums

    def _register_message(self, file, proto, source_path, package, scope) -> _Message:
        local_name = f"{scope}{proto.name}"
        message = _Message(file, source_path, _qualified(package, local_name), local_name, proto)
        self.types[message.full_name] = message
        groups = {f.type_name.lstrip(".") for f in proto.field if _is_group(file, f)}
        nested = [
            self._register_message(file, m, source_path + (loc.MESSAGE_NESTED_TYPE, i), package, f"{local_name}.")
            for i, m in enumerate(proto.nested_type)
        ]
        message.messages.extend(m for m in _visible(nested) if m.full_name not in groups)
        message.enums.extend(
            self._register_enum(file, e, source_path + (loc.MESSAGE_ENUM_TYPE, i), package, f"{local_name}.")
            for i, e in enumerate(proto.enum_type)
        )
        return message

    def _register_enum(self, file, proto, source_path, package, scope) -> _Enum:
        local_name = f"{scope}{proto.name}"
        enum = _Enum(file, source_path, _qualified(package, local_name), local_name, proto)
        self.types[enum.full_name] = enum
        return enum

    def _all_messages(self) -> Iterator[_Message]:
        return (t for t in self.types.values() if isinstance(t, _Message))

    def _attach_fields(self, message: _Message) -> None:
        oneofs = [
            _Oneof(message.file, message.source_path + (loc.MESSAGE_ONEOF_DECL, i), d.name)
            for i, d in enumerate(message.proto.oneof_decl)
        ]
        for index, proto in enumerate(message.proto.field):
            if _is_group(message.file, proto):
                continue
            oneof = oneofs[proto.oneof_index] if _in_real_oneof(proto) else None
            type_ref = self.type_of(proto)
            member = _Field(
                message.file,
                message.source_path + (loc.MESSAGE_FIELD, index),
                message,
                proto,
                type_ref,
                _written_label(message.file, proto, type_ref),
                oneof.name if oneof else None,
            )
            message.fields.append(member)
            if oneof:
                oneof.members.append(member)
        # The synthetic oneof of a proto3 `optional` field gets no members, so it drops out here.
        message.oneofs.extend(o for o in oneofs if o.members)

    def type_of(self, proto: FieldDescriptorProto) -> _TypeRef:
        if proto.type in (FieldDescriptorProto.TYPE_MESSAGE, FieldDescriptorProto.TYPE_GROUP):
            target = self.types.get(proto.type_name.lstrip("."))
            if isinstance(target, _Message) and target.is_map_entry:
                key, value = target.proto.field
                return _TypeRef("map", target.full_name, key=self.type_of(key), value=self.type_of(value))
            return _TypeRef("message", proto.type_name.lstrip("."))
        if proto.type == FieldDescriptorProto.TYPE_ENUM:
            return _TypeRef("enum", proto.type_name.lstrip("."), scalar_group=_SCALAR_GROUPS[proto.type])
        scalar = FieldDescriptorProto.Type.Name(proto.type).removeprefix("TYPE_").lower()
        return _TypeRef("scalar", scalar, scalar_group=_SCALAR_GROUPS[proto.type])


def _dependencies(root: FileDescriptorProto, by_name: dict[str, FileDescriptorProto]) -> list[FileDescriptorProto]:
    """Return every file the root imports, directly or not, that is among the given files."""
    seen: dict[str, FileDescriptorProto] = {}
    pending = list(root.dependency)
    while pending:
        name = pending.pop()
        if name in seen or name not in by_name:
            continue
        seen[name] = by_name[name]
        pending.extend(by_name[name].dependency)
    return list(seen.values())


def _qualified(package: str, local_name: str) -> str:
    return f"{package}.{local_name}" if package else local_name


def _visible(messages: Iterable[_Message]) -> list[_Message]:
    """Drop map entries: Confluent reads `map<K, V>` from the text and never sees them as messages."""
    return [m for m in messages if not m.is_map_entry]


def _is_group(file: _SourceFile, proto: FieldDescriptorProto) -> bool:
    # Confluent's parser keeps proto2 groups apart from fields; editions' delimited fields are plain fields.
    return proto.type == FieldDescriptorProto.TYPE_GROUP and file.proto.syntax in ("", "proto2")


def _in_real_oneof(proto: FieldDescriptorProto) -> bool:
    return proto.HasField("oneof_index") and not proto.proto3_optional


def _written_label(file: _SourceFile, proto: FieldDescriptorProto, type_ref: _TypeRef) -> str | None:
    """Return the label the .proto text carries, which is the only one Confluent compares."""
    if _in_real_oneof(proto) or type_ref.kind == "map":
        return None
    if proto.label == FieldDescriptorProto.LABEL_REPEATED:
        return "repeated"
    syntax = file.proto.syntax or "proto2"
    if syntax == "proto2" or (syntax == "proto3" and proto.proto3_optional):
        return _WRITTEN_LABELS[proto.label]
    return None


class _Comparison:
    """Walk the original and the update the way Confluent's SchemaDiff does, collecting differences."""

    def __init__(
        self, original: ConfluentSchema, update: ConfluentSchema, path: Sequence[str] = (), in_scope: Iterable[str] = ()
    ):
        self.original = original
        self.update = update
        self.differences: list[Difference] = []
        self._path = list(path)
        # Messages being compared further up, so recursive types end.
        self._in_scope = set(in_scope)

    def compare_roots(self) -> None:
        before, after = self.original.root.proto.package, self.update.root.proto.package
        if before != after:
            # A package that is gone can only be shown where it was.
            where = _Element(self.update.root if after else self.original.root, (loc.FILE_PACKAGE,))
            self._add(
                "PACKAGE_CHANGED", where, f"Package changed from {_package_text(before)} to {_package_text(after)}."
            )
        self._compare_type_lists(self.original.messages, self.update.messages, self.original.enums, self.update.enums)

    # Messages and enums, matched by name within their parent.

    def _compare_type_lists(self, original_messages, update_messages, original_enums, update_enums) -> None:
        before = {m.proto.name: (i, m) for i, m in enumerate(original_messages)}
        after = {m.proto.name: (i, m) for i, m in enumerate(update_messages)}
        for name in _union(before, after):
            with self.entered(name):
                self._compare_message_slot(before.get(name), after.get(name))
        before_enums = {e.proto.name: e for e in original_enums}
        after_enums = {e.proto.name: e for e in update_enums}
        for name in _union(before_enums, after_enums):
            with self.entered(name):
                self._compare_enum_slot(before_enums.get(name), after_enums.get(name))

    def _compare_message_slot(self, before, after) -> None:
        if after is None:
            self._add("MESSAGE_REMOVED", before[1], f'Message "{before[1].full_name}" was removed.')
        elif before is None:
            self._add("MESSAGE_ADDED", after[1], f'Message "{after[1].full_name}" was added.')
        else:
            self._compare_messages(before[1], after[1])
            if before[0] != after[0]:
                # Confluent allows this: a record names its message by index in the schema it was written with.
                self._add(
                    "MESSAGE_MOVED",
                    after[1],
                    f'Message "{after[1].full_name}" moved from position {before[0] + 1} to {after[0] + 1} among its '
                    "sibling messages.",
                )

    def _compare_enum_slot(self, before: _Enum | None, after: _Enum | None) -> None:
        if after is None:
            self._add("ENUM_REMOVED", before, f'Enum "{before.full_name}" was removed.')
        elif before is None:
            self._add("ENUM_ADDED", after, f'Enum "{after.full_name}" was added.')
        else:
            self._compare_enum_values(before, after)

    def _compare_enum_values(self, before: _Enum, after: _Enum) -> None:
        # With aliases the last value of a number wins, as in Confluent's map by number.
        old = {v.number: (i, v) for i, v in enumerate(before.proto.value)}
        new = {v.number: (i, v) for i, v in enumerate(after.proto.value)}
        for number in _union(old, new):
            with self.entered(str(number)):
                self._compare_enum_value(before, after, old.get(number), new.get(number))

    def _compare_enum_value(self, before: _Enum, after: _Enum, old, new) -> None:
        if new is None:
            self._add(
                "ENUM_CONST_REMOVED",
                _value_of(before, old[0]),
                f'Enum value {old[1].number} "{old[1].name}" was removed from enum "{before.full_name}".',
            )
        elif old is None:
            self._add(
                "ENUM_CONST_ADDED",
                _value_of(after, new[0]),
                f'Enum value {new[1].number} "{new[1].name}" was added to enum "{after.full_name}".',
            )
        elif old[1].name != new[1].name:
            self._add(
                "ENUM_CONST_CHANGED",
                _value_of(after, new[0]),
                f'Enum value {new[1].number} on enum "{after.full_name}" was renamed from "{old[1].name}" to '
                f'"{new[1].name}".',
            )

    def _compare_messages(self, before: _Message, after: _Message) -> None:
        if before.full_name not in self._in_scope:
            self._in_scope.add(before.full_name)
            try:
                _MessageFields(self, before, after).compare()
            finally:
                self._in_scope.discard(before.full_name)
        self._compare_type_lists(before.messages, after.messages, before.enums, after.enums)

    # Fields, matched by number.

    def compare_fields(self, before: _Field, after: _Field) -> None:
        if before.name != after.name:
            self._add(
                "FIELD_NAME_CHANGED",
                after,
                f'Field {after.number} on message "{after.owner.full_name}" was renamed from "{before.name}" to '
                f'"{after.name}".',
                loc.FIELD_NAME,
            )
        self._compare_types(after, before.type, after.type, (before.label, after.label))

    def _compare_types(self, after: _Field, old: _TypeRef, new: _TypeRef, labels=(None, None)) -> None:
        if old.category != new.category:
            self._type_changed("FIELD_KIND_CHANGED", after, f"changed kind from {old.describe()} to {new.describe()}")
        elif old.category == "scalar":
            self._compare_scalars(after, old, new, labels)
        elif old.category == "message":
            self._compare_message_types(after, old, new)
        else:
            self._compare_types(after, old.key, new.key)
            self._compare_types(after, old.value, new.value)

    def _compare_scalars(self, after: _Field, old: _TypeRef, new: _TypeRef, labels) -> None:
        if old.scalar_group != new.scalar_group:
            self._type_changed(
                "FIELD_SCALAR_KIND_CHANGED", after, f"changed kind from {old.describe()} to {new.describe()}"
            )
        elif None not in labels and labels[0] != labels[1]:
            kind = (
                "FIELD_STRING_OR_BYTES_LABEL_CHANGED"
                if old.scalar_group == "STRING_OR_BYTES"
                else "FIELD_NUMERIC_LABEL_CHANGED"
            )
            self._add(
                kind, after, f"{_on_message(after)} changed label from {labels[0]} to {labels[1]}.", loc.FIELD_LABEL
            )

    def _compare_message_types(self, after: _Field, old: _TypeRef, new: _TypeRef) -> None:
        before_type, after_type = self.original.types.get(old.name), self.update.types.get(new.name)
        if before_type is None or after_type is None:
            if old.name != new.name:
                self._type_changed("FIELD_NAMED_TYPE_CHANGED", after, f'changed type from "{old.name}" to "{new.name}"')
        elif before_type.local_name != after_type.local_name:
            self._type_changed("FIELD_NAMED_TYPE_CHANGED", after, f'changed type from "{old.name}" to "{new.name}"')
        elif not _same_definition(before_type, after_type):
            self._compare_referenced_message(after, before_type, after_type)

    def _compare_referenced_message(self, after: _Field, before_type: _Message, after_type: _Message) -> None:
        """Compare a message from another file (or another version of it), as a schema of its own."""
        nested = _Comparison(self.original, self.update, before_type.local_name.split("."), self._in_scope)
        nested._compare_messages(before_type, after_type)
        self.differences.extend(nested.differences)
        if any(not d.compatible for d in nested.differences):
            self._type_changed(
                "FIELD_NAMED_TYPE_CHANGED",
                after,
                f'has type "{after_type.full_name}", whose definition changed incompatibly',
            )

    def _type_changed(self, kind: str, after: _Field, what: str) -> None:
        self._add(kind, after, f"{_on_message(after)} {what}.", *_type_suffix(after))

    # Bookkeeping.

    def add_at(self, parts: Sequence[str], kind: str, where: _Element, message: str, *suffix: int) -> None:
        with self.entered(*parts):
            self._add(kind, where, message, *suffix)

    @contextmanager
    def entered(self, *parts: str) -> Iterator[None]:
        self._path.extend(parts)
        try:
            yield
        finally:
            del self._path[len(self._path) - len(parts) :]

    def _add(self, kind: str, where: _Element, message: str, *suffix: int) -> None:
        path, line, column = where.place(*suffix)
        self.differences.append(Difference(kind, "#/" + "/".join(self._path), message, path, line, column))


class _MessageFields:
    """Compare the fields and oneofs of one pair of messages, as Confluent's MessageSchemaDiff does."""

    def __init__(self, comparison: _Comparison, before: _Message, after: _Message):
        self.comparison = comparison
        self.before, self.after = before, after
        self.old_all = {f.number: f for f in before.fields}
        self.new_all = {f.number: f for f in after.fields}
        self.old_top = {f.number: f for f in before.fields if f.oneof is None}
        self.new_top = {f.number: f for f in after.fields if f.oneof is None}

    def compare(self) -> None:
        for oneof in self.after.oneofs:
            self._check_oneof_origins(oneof)
        self._compare_oneofs()
        self._compare_top_level_fields()
        self._compare_relocated_fields()

    def _check_oneof_origins(self, oneof: _Oneof) -> None:
        """Refuse a oneof that makes fields exclusive which could be set together before."""
        origins: dict[tuple, _Field] = {}
        for member in oneof.members:
            # A member that was a top-level field is compared as a oneof member, not as removed.
            self.old_top.pop(member.number, None)
            old = self.old_all.get(member.number)
            if old is not None:
                origins.setdefault(("oneof", old.oneof) if old.oneof else ("field", old.number), member)
        if len(origins) > 1:
            moved_in = sum(1 for origin in origins if origin[0] == "field")
            kind = "MULTIPLE_FIELDS_MOVED_TO_ONEOF" if moved_in > 1 else "FIELD_MOVED_TO_EXISTING_ONEOF"
            members = ", ".join(f'{m.number} "{m.name}"' for m in origins.values())
            text = (
                f'Oneof "{oneof.name}" on message "{self.after.full_name}" now makes fields exclusive that could '
                f"be set together before ({members})."
            )
            self.comparison.add_at([oneof.name], kind, oneof, text)

    def _compare_oneofs(self) -> None:
        before = {o.name: o for o in self.before.oneofs}
        after = {o.name: o for o in self.after.oneofs}
        for name in sorted(before.keys() | after.keys()):
            if name not in after:
                self.comparison.add_at(
                    [name],
                    "ONEOF_REMOVED",
                    before[name],
                    f'Oneof "{name}" was removed from message "{self.before.full_name}".',
                )
            elif name not in before:
                self.comparison.add_at(
                    [name], "ONEOF_ADDED", after[name], f'Oneof "{name}" was added to message "{self.after.full_name}".'
                )
            else:
                self._compare_oneof_members(before[name], after[name])

    def _compare_oneof_members(self, before: _Oneof, after: _Oneof) -> None:
        old = {f.number: f for f in before.members}
        new = {f.number: f for f in after.members}
        for number in sorted(old.keys() | new.keys()):
            with self.comparison.entered(before.name, str(number)):
                self._compare_oneof_member(before.name, old.get(number), new.get(number))

    def _compare_oneof_member(self, oneof: str, old: _Field | None, new: _Field | None) -> None:
        add = self.comparison.add_at
        if new is None:
            # A member that now lives elsewhere in the message was moved, not deleted.
            if old.number not in self.new_all:
                add(
                    [],
                    "ONEOF_FIELD_REMOVED",
                    old,
                    f'{_named(old)} was removed from oneof "{oneof}" on message "{self.before.full_name}".',
                )
        elif old is None:
            add(
                [],
                "ONEOF_FIELD_ADDED",
                new,
                f'{_named(new)} was added to oneof "{oneof}" on message "{self.after.full_name}".',
            )
        else:
            self.comparison.compare_fields(old, new)

    def _compare_top_level_fields(self) -> None:
        for number in sorted(self.old_top.keys() | self.new_top.keys()):
            with self.comparison.entered(str(number)):
                self._compare_top_level_field(self.old_top.get(number), self.new_top.get(number))

    def _compare_top_level_field(self, old: _Field | None, new: _Field | None) -> None:
        add = self.comparison.add_at
        if new is None:
            kind = "REQUIRED_FIELD_REMOVED" if old.label == "required" else "FIELD_REMOVED"
            add([], kind, old, f'{_named(old)} was removed from message "{self.before.full_name}".')
        elif old is None:
            kind = "REQUIRED_FIELD_ADDED" if new.label == "required" else "FIELD_ADDED"
            add([], kind, new, f'{_named(new)} was added to message "{self.after.full_name}".')
        else:
            self.comparison.compare_fields(old, new)

    def _compare_relocated_fields(self) -> None:
        """Compare fields whose oneof changed; the passes above only see them on one side."""
        for number in sorted(self.old_all.keys() & self.new_all.keys()):
            old, new = self.old_all[number], self.new_all[number]
            if old.oneof != new.oneof:
                with self.comparison.entered(str(number)):
                    self.comparison.compare_fields(old, new)


def _union(first: dict, second: dict) -> list:
    """Return the keys of both, the first's in order, then the second's new ones."""
    return list(dict.fromkeys([*first, *second]))


def _same_definition(before: _Message | _Enum, after: _Message | _Enum) -> bool:
    """Tell whether Confluent would skip comparing these two: both local, or the same imported version."""
    if before.file.is_root and after.file.is_root:
        return True
    if before.file.is_root or after.file.is_root:
        return False
    return before.file.name == after.file.name and before.file.content == after.file.content


def _value_of(enum: _Enum, index: int) -> _Element:
    return _Element(enum.file, enum.source_path + (loc.ENUM_VALUE, index))


def _type_suffix(member: _Field) -> tuple[int, ...]:
    return (loc.FIELD_TYPE_NAME,) if member.proto.type_name else (loc.FIELD_TYPE,)


def _on_message(member: _Field) -> str:
    return f'Field {member.number} "{member.name}" on message "{member.owner.full_name}"'


def _named(member: _Field) -> str:
    kind = "Required field" if member.label == "required" else "Field"
    return f'{kind} {member.number} "{member.name}"'


def _package_text(package: str) -> str:
    return f'"{package}"' if package else "no package"
