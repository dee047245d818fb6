"""Properties every schema evolution obeys, over generated proto3 schemas.

Each example compiles one or two small files (a couple of milliseconds each), so
example counts stay modest.
"""

from dataclasses import dataclass, replace

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from protoengine.breaking import CATEGORIES, check
from protoengine.compatibility import LEVELS, RULE_SETS, check_compatibility
from protoengine.compiler import compile_sources
from protoengine.semver import classify_change

SCALARS = [
    "double",
    "float",
    "int32",
    "int64",
    "uint32",
    "uint64",
    "sint32",
    "sint64",
    "fixed32",
    "fixed64",
    "sfixed32",
    "sfixed64",
    "bool",
    "string",
    "bytes",
    "Side",
]
LABELS = ["", "optional ", "repeated "]
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Field:
    name: str
    number: int
    type: str
    label: str = ""

    def render(self) -> str:
        return f"  {self.label}{self.type} {self.name} = {self.number};"


@dataclass(frozen=True)
class Schema:
    fields: tuple[Field, ...]
    reserved: tuple[int, ...] = ()

    def render(self) -> str:
        lines = [
            'syntax = "proto3";',
            "package gen.v1;",
            "",
            "enum Side {",
            "  SIDE_UNSPECIFIED = 0;",
            "  SIDE_BUY = 1;",
            "}",
            "",
            "message Record {",
        ]
        lines += [field.render() for field in self.fields]
        lines += [f"  reserved {number};" for number in self.reserved]
        return "\n".join([*lines, "}", ""])

    def compiled(self):
        return compile_sources({"gen/v1/record.proto": self.render()}).own_files


names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
numbers = st.integers(min_value=1, max_value=5000)
fields = st.builds(Field, names, numbers, st.sampled_from(SCALARS), st.sampled_from(LABELS))


def schemas_of(min_size: int):
    return st.lists(fields, min_size=min_size, max_size=8, unique_by=(lambda f: f.name, lambda f: f.number)).map(
        lambda items: Schema(tuple(items))
    )


schemas = schemas_of(1)
# Deleting one field from these still leaves a message with fields to compare.
schemas_of_two_or_more = schemas_of(2)


def with_new_field(schema: Schema, field: Field) -> Schema | None:
    """Return the schema with `field` added, or None when its name or number is taken."""
    if any(f.name == field.name or f.number == field.number for f in schema.fields):
        return None
    return replace(schema, fields=(*schema.fields, field))


@EXAMPLES
@given(schemas)
def test_a_schema_compared_with_itself_never_breaks(schema):
    files = schema.compiled()
    assert check(files, files, list(CATEGORIES)) == []
    assert classify_change(files, files) == "NONE"
    for rule_set in RULE_SETS:
        assert check_compatibility(files, [files, files], level="FULL_TRANSITIVE", rule_set=rule_set) == []


@EXAMPLES
@given(schemas, fields, st.sampled_from([name for name in RULE_SETS if name != "CONFLUENT"]))
def test_adding_a_field_with_a_new_number_is_never_major(schema, field, rule_set):
    grown = with_new_field(schema, field)
    assume(grown is not None)
    assert classify_change(schema.compiled(), grown.compiled(), rule_set=rule_set) == "MINOR"
    for level in LEVELS:
        assert check_compatibility(grown.compiled(), [schema.compiled()], level=level, rule_set=rule_set) == []


@EXAMPLES
@given(schemas_of_two_or_more, st.data())
def test_deleting_a_field_without_reserving_its_number_always_breaks_wire(schema, data):
    gone = data.draw(st.sampled_from(schema.fields))
    current = Schema(tuple(f for f in schema.fields if f != gone))
    findings = check(schema.compiled(), current.compiled(), ["WIRE"])
    assert [(f.rule, f.message) for f in findings] == [
        (
            "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
            f'Previously present field "{gone.number}" with name "{gone.name}" on message "Record" was deleted '
            f'without reserving the number "{gone.number}".',
        )
    ]
    assert classify_change(schema.compiled(), current.compiled()) == "MAJOR"


@EXAMPLES
@given(schemas, st.data())
def test_deleting_a_field_and_reserving_its_number_keeps_wire(schema, data):
    gone = data.draw(st.sampled_from(schema.fields))
    current = Schema(tuple(f for f in schema.fields if f != gone), reserved=(gone.number,))
    assert check(schema.compiled(), current.compiled(), ["WIRE"]) == []


@EXAMPLES
@given(schemas, st.data())
def test_what_breaks_a_lenient_category_breaks_every_stricter_one(schema, data):
    index = data.draw(st.integers(min_value=0, max_value=len(schema.fields) - 1))
    changed = data.draw(
        st.builds(Field, names, st.just(schema.fields[index].number), st.sampled_from(SCALARS), st.sampled_from(LABELS))
    )
    assume(all(f.name != changed.name for i, f in enumerate(schema.fields) if i != index))
    current = Schema(schema.fields[:index] + (changed,) + schema.fields[index + 1 :])
    previous_files, current_files = schema.compiled(), current.compiled()
    broken = [
        bool(check(previous_files, current_files, [category])) for category in ("WIRE", "WIRE_JSON", "PACKAGE", "FILE")
    ]
    assert broken == sorted(broken), f"breaks by WIRE, WIRE_JSON, PACKAGE, FILE: {broken}"
