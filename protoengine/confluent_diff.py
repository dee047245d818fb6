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

from google.protobuf.descriptor_pb2 import FieldDescriptorProto, FileDescriptorProto

from protoengine import locations as loc
from protoengine.findings import Finding
from protoengine.model import (
    DescriptorModel,
    ElementIndex,
    EnumElement,
    FieldElement,
    FileElement,
    MessageElement,
    model_of,
)


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
    comparison = _Comparison(original, update, referenced=_ReferencedPairs())
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
class _At:
    """A place in a file that the element index has no element for (a package, an enum value by index)."""

    file: FileElement
    path: tuple[int, ...]


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


class _Field:
    """A field of the set's element index as Confluent reads it: its type kind, its written label, its oneof."""

    # Plain attributes, read straight: the comparison reads a field's number and name many times.
    __slots__ = ("element", "file", "path", "proto", "number", "name", "owner", "type", "label", "oneof")

    def __init__(
        self, element: FieldElement, owner: MessageElement, type_ref: _TypeRef, label: str | None, oneof: str | None
    ):
        self.element = element
        self.file: FileElement = element.file
        self.path: tuple[int, ...] = element.path
        self.proto: FieldDescriptorProto = element.proto
        self.number: int = element.proto.number
        self.name: str = element.proto.name
        self.owner = owner
        self.type = type_ref
        self.label = label
        self.oneof = oneof


@dataclass(frozen=True, eq=False)
class _Oneof:
    file: FileElement
    path: tuple[int, ...]
    name: str
    members: list[_Field] = field(default_factory=list)


@dataclass(frozen=True)
class _Members:
    """What Confluent compares inside one message: nested messages and enums, fields and oneofs as it parses them."""

    messages: list[MessageElement]
    enums: list[EnumElement]
    fields: list[_Field]
    oneofs: list[_Oneof]


class ConfluentSchema:
    """One side of the comparison: its root file and the types the root can see, read from the set's element index.

    Confluent's reading of a message (which nested types it sees, each field's type kind
    and written label) is made on first need and kept with the view.
    """

    def __init__(self, elements: ElementIndex, root: FileElement, visible: frozenset[str]):
        self.elements = elements
        self.root = root
        # The root and the files it imports, directly or not: the only files whose types it can name.
        self.visible = visible
        self.messages = _visible(root.messages.values())
        self.enums = list(root.enums.values())
        self._members: dict[str, _Members] = {}
        self._contents: dict[str, bytes] = {}

    @classmethod
    def of(cls, model: DescriptorModel, *, well_known: bool = True) -> ConfluentSchema | None:
        """Return the view of a compiled set's model (see `schema_of`); its last own file is the root."""
        if not model.own_files:
            return None
        root = model.own_files[-1]
        files = model.by_name if well_known else {file.name: file for file in model.own_files}
        elements = model.elements(well_known=well_known)
        visible = frozenset([root.name, *(file.name for file in _dependencies(root, files))])
        return cls(elements, elements.files[root.name], visible)

    def type_named(self, full_name: str) -> MessageElement | EnumElement | None:
        """Return the message or enum of that full name if the root can see it."""
        found = self.elements.find(full_name)
        return found if found is not None and found.file.name in self.visible else None

    def members(self, message: MessageElement) -> _Members:
        """Return what Confluent compares inside a message of this side, read once."""
        found = self._members.get(message.full_name)
        if found is None:
            found = self._members[message.full_name] = self._read_members(message)
        return found

    def content(self, file: FileElement) -> bytes:
        """Return the file without source positions, to tell whether two versions are the same schema."""
        found = self._contents.get(file.name)
        if found is None:
            copy = FileDescriptorProto()
            copy.CopyFrom(file.proto)
            copy.ClearField("source_code_info")
            found = self._contents[file.name] = copy.SerializeToString(deterministic=True)
        return found

    def _read_members(self, message: MessageElement) -> _Members:
        file = message.file
        groups = {f.type_name.lstrip(".") for f in message.proto.field if _is_group(file, f)}
        nested = [m for m in _visible(message.messages.values()) if m.full_name not in groups]
        oneofs = [
            _Oneof(file, message.path + (loc.MESSAGE_ONEOF_DECL, i), d.name)
            for i, d in enumerate(message.proto.oneof_decl)
        ]
        fields = []
        for element in message.fields.values():
            proto = element.proto
            if _is_group(file, proto):
                continue
            oneof = oneofs[proto.oneof_index] if _in_real_oneof(proto) else None
            type_ref = self.type_of(proto)
            member = _Field(
                element, message, type_ref, _written_label(file, proto, type_ref), oneof.name if oneof else None
            )
            fields.append(member)
            if oneof:
                oneof.members.append(member)
        # The synthetic oneof of a proto3 `optional` field gets no members, so it drops out here.
        return _Members(nested, list(message.enums.values()), fields, [o for o in oneofs if o.members])

    def type_of(self, proto: FieldDescriptorProto) -> _TypeRef:
        if proto.type in (FieldDescriptorProto.TYPE_MESSAGE, FieldDescriptorProto.TYPE_GROUP):
            target = self.type_named(proto.type_name.lstrip("."))
            if isinstance(target, MessageElement) and target.proto.options.map_entry:
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


def _visible(messages: Iterable[MessageElement]) -> list[MessageElement]:
    """Drop map entries: Confluent reads `map<K, V>` from the text and never sees them as messages."""
    return [m for m in messages if not m.proto.options.map_entry]


def _is_group(file: FileElement, proto: FieldDescriptorProto) -> bool:
    # Confluent's parser keeps proto2 groups apart from fields; editions' delimited fields are plain fields.
    return proto.type == FieldDescriptorProto.TYPE_GROUP and file.proto.syntax in ("", "proto2")


def _in_real_oneof(proto: FieldDescriptorProto) -> bool:
    return proto.HasField("oneof_index") and not proto.proto3_optional


def _written_label(file: FileElement, proto: FieldDescriptorProto, type_ref: _TypeRef) -> str | None:
    """Return the label the .proto text carries, which is the only one Confluent compares."""
    if _in_real_oneof(proto) or type_ref.kind == "map":
        return None
    if proto.label == FieldDescriptorProto.LABEL_REPEATED:
        return "repeated"
    syntax = file.proto.syntax or "proto2"
    if syntax == "proto2" or (syntax == "proto3" and proto.proto3_optional):
        return _WRITTEN_LABELS[proto.label]
    return None


# Past this many differences a list keeps only ones it does not hold yet: a message reached
# along many paths repeats the same differences once per path, which could double per level.
MAX_REPEATED_DIFFERENCES = 5000
# Messages that refer back to each other can give a pair a new scope along every path; past
# this many walks of a pair its first result is reused. Every pair reached is still walked,
# so the verdict holds; only a repeated "definition changed" note met through a loop may differ.
MAX_SCOPES_PER_PAIR = 8


@dataclass(frozen=True)
class _PairResult:
    """What comparing one referenced (before, after) pair found, and the scope it holds for.

    The walk depends on the messages in scope only through the names it looked up there
    (`checked`), so it holds again wherever those names are in scope the same way (`guarded`).
    """

    checked: frozenset[str]
    guarded: frozenset[str]
    differences: tuple[Difference, ...]
    # Each difference once, in the order first found, with the index where it first is.
    distinct: dict[Difference, int]
    incompatible: bool


class _ReferencedPairs:
    """Results of referenced message pairs, kept for one diff so each pair is walked once per scope."""

    def __init__(self):
        self._results: dict[tuple[str, str], list[_PairResult]] = {}

    def find(self, before: MessageElement, after: MessageElement, in_scope: set[str]) -> _PairResult | None:
        results = self._results.get((before.full_name, after.full_name), ())
        for result in results:
            if result.guarded == result.checked & in_scope:
                return result
        return results[0] if len(results) >= MAX_SCOPES_PER_PAIR else None

    def keep(self, before: MessageElement, after: MessageElement, in_scope: set[str], nested: _Comparison):
        checked = frozenset(nested.checked)
        result = _PairResult(
            checked,
            checked & in_scope,
            tuple(nested.differences),
            nested.distinct,
            any(not d.compatible for d in nested.distinct),
        )
        self._results.setdefault((before.full_name, after.full_name), []).append(result)
        return result


class _Comparison:
    """Walk the original and the update the way Confluent's SchemaDiff does, collecting differences."""

    def __init__(
        self,
        original: ConfluentSchema,
        update: ConfluentSchema,
        path: Sequence[str] = (),
        in_scope: Iterable[str] = (),
        *,
        referenced: _ReferencedPairs,
    ):
        self.original = original
        self.update = update
        self.differences: list[Difference] = []
        self.distinct: dict[Difference, int] = {}
        self._path = list(path)
        # Messages being compared further up, so recursive types end.
        self._in_scope = set(in_scope)
        # Names this walk looked up in `_in_scope`: its result depends on the scope through these only.
        self.checked: set[str] = set()
        self._referenced = referenced

    def compare_roots(self) -> None:
        before, after = self.original.root.proto.package, self.update.root.proto.package
        if before != after:
            # A package that is gone can only be shown where it was.
            where = _At(self.update.root if after else self.original.root, (loc.FILE_PACKAGE,))
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

    def _compare_enum_slot(self, before: EnumElement | None, after: EnumElement | None) -> None:
        if after is None:
            self._add("ENUM_REMOVED", before, f'Enum "{before.full_name}" was removed.')
        elif before is None:
            self._add("ENUM_ADDED", after, f'Enum "{after.full_name}" was added.')
        else:
            self._compare_enum_values(before, after)

    def _compare_enum_values(self, before: EnumElement, after: EnumElement) -> None:
        # With aliases the last value of a number wins, as in Confluent's map by number.
        old = {v.number: (i, v) for i, v in enumerate(before.proto.value)}
        new = {v.number: (i, v) for i, v in enumerate(after.proto.value)}
        for number in _union(old, new):
            with self.entered(str(number)):
                self._compare_enum_value(before, after, old.get(number), new.get(number))

    def _compare_enum_value(self, before: EnumElement, after: EnumElement, old, new) -> None:
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

    def _compare_messages(self, before: MessageElement, after: MessageElement) -> None:
        old, new = self.original.members(before), self.update.members(after)
        self.checked.add(before.full_name)
        if before.full_name not in self._in_scope:
            self._in_scope.add(before.full_name)
            try:
                _MessageFields(self, before, after, old, new).compare()
            finally:
                self._in_scope.discard(before.full_name)
        self._compare_type_lists(old.messages, new.messages, old.enums, new.enums)

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
        before_type, after_type = self.original.type_named(old.name), self.update.type_named(new.name)
        if before_type is None or after_type is None:
            if old.name != new.name:
                self._type_changed("FIELD_NAMED_TYPE_CHANGED", after, f'changed type from "{old.name}" to "{new.name}"')
        elif before_type.local_name != after_type.local_name:
            self._type_changed("FIELD_NAMED_TYPE_CHANGED", after, f'changed type from "{old.name}" to "{new.name}"')
        elif not self._same_definition(before_type, after_type):
            self._compare_referenced_message(after, before_type, after_type)

    def _same_definition(self, before: MessageElement, after: MessageElement) -> bool:
        """Tell whether Confluent would skip comparing these two: both local, or the same imported version."""
        before_is_root, after_is_root = before.file is self.original.root, after.file is self.update.root
        if before_is_root and after_is_root:
            return True
        if before_is_root or after_is_root:
            return False
        return before.file.name == after.file.name and self.original.content(before.file) == self.update.content(
            after.file
        )

    def _compare_referenced_message(
        self, after: _Field, before_type: MessageElement, after_type: MessageElement
    ) -> None:
        """Compare a message from another file (or another version of it), as a schema of its own.

        Its differences carry paths from the message itself, not from here, so a pair met again
        along another path (a diamond of references) reuses what the first walk found.
        """
        found = self._referenced.find(before_type, after_type, self._in_scope)
        if found is None:
            nested = _Comparison(
                self.original,
                self.update,
                before_type.local_name.split("."),
                self._in_scope,
                referenced=self._referenced,
            )
            nested._compare_messages(before_type, after_type)
            found = self._referenced.keep(before_type, after_type, self._in_scope, nested)
        self.checked |= found.checked
        self._keep_all(found)
        if found.incompatible:
            self._type_changed(
                "FIELD_NAMED_TYPE_CHANGED",
                after,
                f'has type "{after_type.full_name}", whose definition changed incompatibly',
            )

    def _type_changed(self, kind: str, after: _Field, what: str) -> None:
        self._add(kind, after, f"{_on_message(after)} {what}.", *_type_suffix(after))

    # Bookkeeping.

    def add_at(self, parts: Sequence[str], kind: str, where, message: str, *suffix: int) -> None:
        with self.entered(*parts):
            self._add(kind, where, message, *suffix)

    @contextmanager
    def entered(self, *parts: str) -> Iterator[None]:
        self._path.extend(parts)
        try:
            yield
        finally:
            del self._path[len(self._path) - len(parts) :]

    def _add(self, kind: str, where, message: str, *suffix: int) -> None:
        """Add a difference at `where` (anything with a file element and a source path) or a part of it."""
        line, column = where.file.finder.position(where.path + suffix)
        self._keep(Difference(kind, "#/" + "/".join(self._path), message, where.file.name, line, column))

    def _keep(self, difference: Difference) -> None:
        """Append a difference; past the bound, only one this list does not hold yet (same verdict, same set)."""
        if difference not in self.distinct:
            self.distinct[difference] = len(self.differences)
        elif len(self.differences) >= MAX_REPEATED_DIFFERENCES:
            return
        self.differences.append(difference)

    def _keep_all(self, found: _PairResult) -> None:
        """Append a referenced pair's differences as `_keep` would one by one, looking at each only once."""
        start = len(self.differences)
        room = max(MAX_REPEATED_DIFFERENCES - start, 0)
        self.differences.extend(found.differences[:room])
        for difference, first in found.distinct.items():
            if difference in self.distinct:
                continue
            if first < room:
                self.distinct[difference] = start + first
            else:
                self.distinct[difference] = len(self.differences)
                self.differences.append(difference)


class _MessageFields:
    """Compare the fields and oneofs of one pair of messages, as Confluent's MessageSchemaDiff does."""

    def __init__(
        self, comparison: _Comparison, before: MessageElement, after: MessageElement, old: _Members, new: _Members
    ):
        self.comparison = comparison
        self.before, self.after = before, after
        self.old_oneofs, self.new_oneofs = old.oneofs, new.oneofs
        self.old_all = {f.number: f for f in old.fields}
        self.new_all = {f.number: f for f in new.fields}
        self.old_top = {f.number: f for f in old.fields if f.oneof is None}
        self.new_top = {f.number: f for f in new.fields if f.oneof is None}

    def compare(self) -> None:
        for oneof in self.new_oneofs:
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
        before = {o.name: o for o in self.old_oneofs}
        after = {o.name: o for o in self.new_oneofs}
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


def _value_of(enum: EnumElement, index: int) -> _At:
    return _At(enum.file, enum.path + (loc.ENUM_VALUE, index))


def _type_suffix(member: _Field) -> tuple[int, ...]:
    return (loc.FIELD_TYPE_NAME,) if member.proto.type_name else (loc.FIELD_TYPE,)


def _on_message(member: _Field) -> str:
    return f'Field {member.number} "{member.name}" on message "{member.owner.full_name}"'


def _named(member: _Field) -> str:
    kind = "Required field" if member.label == "required" else "Field"
    return f'{kind} {member.number} "{member.name}"'


def _package_text(package: str) -> str:
    return f'"{package}"' if package else "no package"
