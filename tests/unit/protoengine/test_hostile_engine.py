"""The engine never crashes on hostile input: random and mutated .proto texts and descriptors either compile
or fail with CompilationFailed carrying file, line and column (the registry's 42201), never anything else.

Classes: random text, odd Unicode, mutations of a real schema, deep nesting, huge numbers, import cycles,
random bytes sent as a descriptor, mutated descriptors, and descriptors that import themselves.
"""

import base64
import os

from google.protobuf.descriptor_pb2 import FileDescriptorProto
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protoengine import canonical, compatibility, semver
from protoengine.compiler import CompilationFailed, compile_one
from protoengine.findings import Finding
from protoengine.lint import lint
from tests import hostile_stats

# CI runs fewer examples; HOSTILE_EXAMPLES raises them for a longer hunt.
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "60"))
HUNT = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)

PATH = "hostile/tick.proto"
BASE = """syntax = "proto3";
package trading.v1;

import "google/protobuf/timestamp.proto";

// A tick.
message TickData {
  string symbol = 1;
  double bid = 2;
  repeated int64 sizes = 3 [packed = true];
  map<string, string> tags = 4;
  oneof venue { string exchange = 5; int32 pool = 6; }
  google.protobuf.Timestamp at = 7;
  enum Side { SIDE_UNSPECIFIED = 0; SIDE_BUY = 1; }
  Side side = 8;
  reserved 9, 10 to 12;
}
"""
BASELINE = compile_one(PATH, BASE).own_files

ODD = [
    "\u202e",
    "\u200b",
    "\ufeff",
    "\x00",
    "\x7f",
    "\u0085",
    "\u2028",
    "\U0001d518",
    "e\u0301",
    "\ud7ff",
    "\uffff",
    "١٢٣",
    "${jndi:ldap://x}",
    "'; DROP TABLE schemas_app_schema; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    '"',
    "\\",
]
HUGE = ["2147483648", "536870912", "19000", "0", "-1", "99999999999999999999999", "1" * 5000, "0x7fffffff", "1e999"]
odd_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=200) | st.sampled_from(ODD)


def _structured(error: CompilationFailed) -> bool:
    return bool(error.errors) and all(
        isinstance(finding, Finding)
        and isinstance(finding.path, str)
        and isinstance(finding.line, int)
        and isinstance(finding.column, int)
        and finding.line >= 0
        and finding.column >= 0
        and isinstance(finding.message, str)
        and finding.message
        for finding in error.errors
    )


def take_like_the_registry(input_class: str, schema: str, dependencies: dict | None = None) -> None:
    """Run what registration runs (read, normalise, compile, compare, version, lint): only CompilationFailed escapes."""
    dependencies = dependencies or {}
    try:
        text = canonical.schema_text_from_input(PATH, schema, dependencies)
        canonical.normalize(PATH, text, dependencies)
        files = compile_one(PATH, text, dependencies).own_files
    except CompilationFailed as error:
        assert _structured(error), error.errors
        hostile_stats.record("engine", input_class, "structured error")
        return
    compatibility.check_compatibility(files, [BASELINE], level="FULL_TRANSITIVE")
    compatibility.check_compatibility(files, [BASELINE], level="BACKWARD", rule_set="CONFLUENT")
    semver.classify_change(BASELINE, files)
    lint(files)
    hostile_stats.record("engine", input_class, "compiled")


@HUNT
@given(odd_text)
def test_random_text_compiles_or_fails_with_a_structured_error(text):
    take_like_the_registry("random and odd Unicode text", text)


@st.composite
def mutated(draw):
    text = BASE
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        payload = draw(
            st.sampled_from(ODD + HUGE + ["{", "}", ";", "=", "[", "]", "(", ")", "message", "import"]) | odd_text
        )
        if kind == "insert":
            text = text[:position] + payload + text[position:]
        elif kind == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)) :]
        elif kind == "replace":
            text = text[:position] + payload + text[position + len(payload) :]
        else:
            line_start = text.rfind("\n", 0, position) + 1
            line_end = text.find("\n", position)
            text = text[:line_end] + "\n" + text[line_start:line_end] + text[line_end:]
    return text


@HUNT
@given(mutated())
def test_mutations_of_a_real_schema_compile_or_fail_with_a_structured_error(text):
    take_like_the_registry("mutated .proto text", text)


@HUNT
@given(st.integers(1, 400), st.sampled_from(["message", "enum_in_message", "option", "parens"]))
def test_deep_nesting_fails_with_a_structured_error_not_a_crash(depth, shape):
    if shape == "message":
        body = "".join(f"message M{i} {{ " for i in range(depth)) + "}" * depth
    elif shape == "enum_in_message":
        body = "message A { " * depth + "enum E { E_ZERO = 0; }" + " }" * depth
    elif shape == "option":
        body = 'import "google/protobuf/descriptor.proto";\nextend google.protobuf.FileOptions { string o = 50000; }\n'
        body += "option (o) = " + "{ a: " * depth + '"x"' + " }" * depth + ";"
    else:
        body = "message A { int32 a = 1 [default = " + "(" * depth + "1" + ")" * depth + "]; }"
    take_like_the_registry("deep nesting", f'syntax = "proto3";\npackage deep;\n{body}\n')


@HUNT
@given(st.sampled_from(HUGE), st.sampled_from(["field", "enum", "reserved", "extensions", "default"]))
def test_huge_numbers_fail_with_a_structured_error(number, place):
    bodies = {
        "field": f"message A {{ int32 a = {number}; }}",
        "enum": f"enum E {{ E_ZERO = 0; E_BIG = {number}; }}",
        "reserved": f"message A {{ reserved {number}; }}",
        "extensions": f"message A {{ extensions 100 to {number}; }}",
        "default": f"message A {{ optional int32 a = 1 [default = {number}]; }}",
    }
    syntax = "proto2" if place in ("extensions", "default") else "proto3"
    take_like_the_registry("huge numbers", f'syntax = "{syntax}";\npackage huge;\n{bodies[place]}\n')


@HUNT
@given(st.integers(1, 6), st.booleans())
def test_import_cycles_fail_with_a_structured_error(length, through_root):
    names = [f"cycle/f{i}.proto" for i in range(length)]
    dependencies = {
        name: f'syntax = "proto3";\npackage c{i};\nimport "{names[(i + 1) % length]}";\n'
        for i, name in enumerate(names)
    }
    if through_root:
        dependencies[names[-1]] = f'syntax = "proto3";\npackage last;\nimport "{PATH}";\n'
    root = f'syntax = "proto3";\npackage root;\nimport "{names[0]}";\nmessage R {{}}\n'
    take_like_the_registry("import cycles", root, dependencies)


@HUNT
@given(st.binary(max_size=400))
def test_random_bytes_sent_as_a_descriptor_fail_with_a_structured_error(data):
    take_like_the_registry("random descriptor bytes", base64.b64encode(data).decode())


SERIALIZED = base64.b64decode(canonical.serialized_descriptor(PATH, BASE, {}))


@HUNT
@given(st.lists(st.tuples(st.integers(0, len(SERIALIZED) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_descriptors_compile_or_fail_with_a_structured_error(flips):
    data = bytearray(SERIALIZED)
    for position, value in flips:
        data[position] = value
    take_like_the_registry("mutated descriptors", base64.b64encode(bytes(data)).decode())


@HUNT
@given(odd_text, st.sampled_from(["self", "missing", "field_number", "type_name", "package"]))
def test_odd_descriptors_compile_or_fail_with_a_structured_error(name, oddity):
    descriptor = FileDescriptorProto()
    descriptor.ParseFromString(SERIALIZED)
    if oddity == "self":
        descriptor.dependency.append(PATH)
    elif oddity == "missing":
        descriptor.dependency.append(name or "x.proto")
    elif oddity == "field_number":
        descriptor.message_type[0].field[0].number = 2**31 - 1
    elif oddity == "type_name":
        descriptor.message_type[0].field[0].type_name = name
    else:
        descriptor.package = name
    encoded = base64.b64encode(descriptor.SerializeToString()).decode()
    take_like_the_registry("odd descriptors", encoded)


def test_a_descriptor_whose_names_are_not_utf8_is_a_structured_error():
    # Found by the mutation test above: protobuf hands non-UTF-8 string fields over as bytes, which crashed the printer.
    data = b"\x0a\x07a.proto" + b"\x1a\x02\xff\xfe"  # name "a.proto", dependency b"\xff\xfe"
    try:
        canonical.schema_text_from_input(PATH, base64.b64encode(data).decode(), {})
    except CompilationFailed as error:
        assert _structured(error) and "not UTF-8" in error.errors[0].message
    else:
        raise AssertionError("a descriptor with non-UTF-8 names was accepted")
