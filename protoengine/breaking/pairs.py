"""Pair the elements of two sets and hand each rule matched (previous, current) elements.

Each set is read through its model's element index (protoengine.model, the one tree
of declarations that Confluent's SchemaDiff reads too), built once per compiled set
and kept with it; nothing here wraps descriptors of its own. Files pair by path,
messages, enums, services and extensions by fully qualified name across the whole
set (a type may move to another file), fields by number, enum values by number,
methods by name. Rules never walk files: they get one pair at a time from
`Comparison.pairs(kind)`.

The comparison is a tree diff. Top-level declarations are paired by full name; a
message pair whose descriptors are equal (in the same surroundings) has equal nested
types too, so only differing pairs are descended into. Deleted types are found by the
rules over pairs of differing files (and over the packages those are in), by their
names inside the file as buf finds them. A comparison of two large, mostly equal
schemas therefore costs little more than one equality test per top-level type.
"""

import weakref
from functools import cached_property

from google.protobuf.descriptor_pb2 import DescriptorProto, FieldDescriptorProto

from protoengine.model import ElementIndex, EnumElement, FieldElement, MessageElement

# The kinds of pairs a rule can ask for.
SCHEMAS = "schemas"
FILES = "files"
MESSAGES = "messages"
FIELDS = "fields"
ENUMS = "enums"
ENUM_VALUES = "enum_values"
SERVICES = "services"
METHODS = "methods"

# A set as breaking reads it: the set model's element index of its own files (DescriptorModel.breaking).
Schema = ElementIndex


def declared_type(field: FieldElement) -> MessageElement | EnumElement | None:
    """Return the message or enum a field's type names, among the set's own files (None for a scalar)."""
    return field.file.model.breaking.find(field.type_name)


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
    def _message_tree(self) -> list[tuple[MessageElement, MessageElement]]:
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

    def _message_pairs(self, only_differing: bool) -> list[tuple[MessageElement, MessageElement]]:
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

    def _extensions_by_key(self, schema: Schema) -> dict[tuple[str, int], FieldElement]:
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


def _changed_fields(previous: MessageElement, current: MessageElement, shifted: frozenset[str]) -> list[int]:
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


def only_appended(previous: MessageElement, current: MessageElement) -> bool:
    """Tell whether the current message keeps every previous field as it was and only adds fields after them.

    Several rules ask this of the same pair; the answer is kept with the current message
    (which refers to the previous one weakly, so a kept version does not keep older ones alive).
    """
    known = current.__dict__.get("_appended_to")
    if known is not None and known[0]() is previous:
        return known[1]
    old = previous.proto.field
    answer = old[:] == current.proto.field[: len(old)]  # lists, sliced in C
    current._appended_to = (weakref.ref(previous), answer)
    return answer


def _matched(previous: dict, current: dict) -> list[tuple]:
    return [(old, current[key]) for key, old in previous.items() if key in current]


def _uses_any(message: DescriptorProto, type_names: frozenset[str]) -> bool:
    return any(field.type_name[1:] in type_names for field in message.field[:])
