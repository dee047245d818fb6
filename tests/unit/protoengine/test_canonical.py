"""Schemas are identified by text and references; normalisation and descriptor input map equal meaning to equal text."""

import base64
import random
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, timestamp_pb2
from google.protobuf.descriptor_pb2 import FileDescriptorProto

from protoengine.canonical import (
    descriptor_base64,
    fingerprint,
    identity_fingerprint,
    identity_fingerprint_of,
    identity_fingerprints,
    identity_fingerprints_of,
    normalize,
    normalize_compiled,
    schema_text_from_input,
    serialized_descriptor,
)
from protoengine.compiler import CompilationFailed, clear_cache, clear_set_cache, compile_one
from protoengine.printer import print_normalized

REPOSITORY = Path(__file__).resolve().parents[3]
OPTIONS = (REPOSITORY / "schemas" / "schemaregistry" / "options.proto").read_text()
MONEY = (
    'syntax = "proto3";\npackage common.v1;\nmessage Money { int64 units = 1; int32 nanos = 2; string '
    "currency_code = 3; }\n"
)
DEPENDENCIES = {"schemaregistry/options.proto": OPTIONS, "common/money.proto": MONEY}
PATH = "shop/customer.proto"

CUSTOMER = """syntax = "proto3";
package shop.v1;
import "common/money.proto";
import "schemaregistry/options.proto";
import "google/protobuf/timestamp.proto";
option java_package = "com.shop.v1";
option go_package = "shop/v1;shopv1";
// A customer of the shop.
message Customer {
  string id = 1;
  string email = 2 [
    (registry.v1.pii) = true,
    (registry.v1.classification) = DATA_CLASSIFICATION_CONFIDENTIAL,
    deprecated = true
  ];
  common.v1.Money balance = 3;
  google.protobuf.Timestamp created_at = 4;
  map<string, string> labels = 5;
}
"""

# The same schema: other whitespace, comments and order of options.
CUSTOMER_REFORMATTED = """// Customers.
syntax="proto3";  package shop.v1;
import "common/money.proto"; import "schemaregistry/options.proto"; import "google/protobuf/timestamp.proto";
option go_package = "shop/v1;shopv1";
option java_package = "com.shop.v1";
message Customer
{
    string id = 1;   // the id
    /* contact */ string email = 2 [deprecated = true,
        (registry.v1.classification) = DATA_CLASSIFICATION_CONFIDENTIAL, (registry.v1.pii) = true];
    .common.v1.Money balance = 3;
    google.protobuf.Timestamp created_at = 4;
    map<string,string> labels = 5;
}
"""


def runtime_descriptor_base64(path: str, text: str, dependencies) -> str:
    """Return what confluent-kafka's ProtobufSerializer sends: base64 of the message file's serialized_pb."""
    compiled = compile_one(path, text, dependencies)
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(descriptor_pb2.DESCRIPTOR.serialized_pb)
    for file in compiled.files:
        if file.name != "google/protobuf/descriptor.proto":
            stripped = FileDescriptorProto()
            stripped.CopyFrom(file)
            stripped.ClearField("source_code_info")
            pool.Add(stripped)
    message = pool.FindMessageTypeByName("shop.v1.Customer")
    return base64.standard_b64encode(message.file.serialized_pb).decode("ascii")


def errors_of(function, *arguments):
    with pytest.raises(CompilationFailed) as caught:
        function(*arguments)
    return caught.value.errors


def test_it_normalizes_whitespace_comments_and_option_order_to_one_text():
    first = normalize(PATH, CUSTOMER, DEPENDENCIES)
    second = normalize(PATH, CUSTOMER_REFORMATTED, DEPENDENCIES)
    assert first == second
    assert fingerprint(first) == fingerprint(second)
    assert "//" not in first and "/*" not in first


def test_it_tells_schemas_apart_by_exact_text_without_normalisation():
    assert fingerprint(CUSTOMER) != fingerprint(CUSTOMER_REFORMATTED)


def test_it_gives_a_changed_field_another_normal_form_and_fingerprint():
    changed = CUSTOMER.replace("string id = 1;", "int64 id = 1;")
    assert fingerprint(normalize(PATH, changed, DEPENDENCIES)) != fingerprint(normalize(PATH, CUSTOMER, DEPENDENCIES))


def test_it_leaves_normal_text_unchanged_when_normalized_again():
    normal = normalize(PATH, CUSTOMER_REFORMATTED, DEPENDENCIES)
    assert normalize(PATH, normal, DEPENDENCIES) == normal


def test_it_identifies_a_schema_by_its_references_too():
    references = [("common/money.proto", "money", 1), ("schemaregistry/options.proto", "options", 3)]
    assert fingerprint(CUSTOMER, references) == fingerprint(CUSTOMER, [tuple(r) for r in references])
    assert fingerprint(CUSTOMER, references) != fingerprint(CUSTOMER)
    assert fingerprint(CUSTOMER, references) != fingerprint(
        CUSTOMER, [references[0], ("schemaregistry/options.proto", "options", 4)]
    )
    assert len(fingerprint(CUSTOMER)) == 64 and int(fingerprint(CUSTOMER), 16) >= 0


def test_it_returns_text_input_unchanged():
    assert schema_text_from_input(PATH, CUSTOMER, DEPENDENCIES) == CUSTOMER


def test_it_turns_a_clients_descriptor_into_text_of_the_same_meaning_as_its_source():
    encoded = runtime_descriptor_base64(PATH, CUSTOMER_REFORMATTED, DEPENDENCIES)
    text = schema_text_from_input(PATH, encoded, DEPENDENCIES)
    assert normalize(PATH, text, DEPENDENCIES) == normalize(PATH, CUSTOMER, DEPENDENCIES)
    assert "(registry.v1.pii) = true" in text


def test_it_accepts_wrapped_and_url_safe_base64():
    encoded = runtime_descriptor_base64(PATH, CUSTOMER, DEPENDENCIES)
    expected = schema_text_from_input(PATH, encoded, DEPENDENCIES)
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + "\n"
    url_safe = base64.urlsafe_b64encode(base64.b64decode(encoded)).decode().rstrip("=")
    assert schema_text_from_input(PATH, wrapped, DEPENDENCIES) == expected
    assert schema_text_from_input(PATH, url_safe, DEPENDENCIES) == expected


def test_it_reads_a_well_known_descriptor_from_the_protobuf_runtime():
    encoded = base64.standard_b64encode(timestamp_pb2.DESCRIPTOR.serialized_pb).decode()
    text = schema_text_from_input("time/timestamp.proto", encoded, {})
    assert "message Timestamp {\n  int64 seconds = 1;\n  int32 nanos = 2;\n}" in text
    assert schema_text_from_input("time/timestamp.proto", encoded, {}) == text


def test_it_names_the_missing_reference_of_a_descriptor():
    encoded = runtime_descriptor_base64(PATH, CUSTOMER, DEPENDENCIES)
    [error] = errors_of(schema_text_from_input, PATH, encoded, {"schemaregistry/options.proto": OPTIONS})
    assert '"common/money.proto"' in error.message and error.path == PATH


@pytest.mark.parametrize(
    "garbage",
    [
        base64.b64encode(random.Random(7).randbytes(300)).decode(),
        base64.b64encode(FileDescriptorProto(package="no.name").SerializeToString()).decode(),
        "c3ludGF4",
    ],
)
def test_it_refuses_base64_that_is_no_descriptor_with_a_helpful_message(garbage):
    [error] = errors_of(schema_text_from_input, PATH, garbage, {})
    assert "neither .proto text nor a base64-encoded FileDescriptorProto" in error.message


def test_it_still_reads_text_made_only_of_base64_characters_as_text():
    text = "//placeholder\n//for/later\n"
    assert schema_text_from_input(PATH, text, {}) == text


def test_it_reports_text_that_does_not_compile_with_its_place():
    errors = errors_of(schema_text_from_input, PATH, "this is not a schema at all;", {})
    assert any(e.path == PATH and e.line == 1 for e in errors)


def test_it_serializes_the_compiled_descriptor_without_source_info():
    encoded = serialized_descriptor(PATH, CUSTOMER, DEPENDENCIES)
    descriptor = FileDescriptorProto.FromString(base64.b64decode(encoded))
    assert descriptor.name == PATH and not descriptor.HasField("source_code_info")
    assert [m.name for m in descriptor.message_type] == ["Customer"]
    assert serialized_descriptor(PATH, CUSTOMER, DEPENDENCIES) == encoded


def test_it_reads_back_its_own_serialized_descriptor_as_text_of_the_same_meaning():
    encoded = serialized_descriptor(PATH, CUSTOMER_REFORMATTED, DEPENDENCIES)
    text = schema_text_from_input(PATH, encoded, DEPENDENCIES)
    assert normalize(PATH, text, DEPENDENCIES) == normalize(PATH, CUSTOMER, DEPENDENCIES)


def identity(path: str, text: str, **options) -> str:
    return identity_fingerprint(compile_one(path, text, DEPENDENCIES).file(path), **options)


def test_its_identity_ignores_layout_and_the_files_own_name_but_not_comments():
    relaid = CUSTOMER.replace("  ", "\t").replace(";\n", "; \n")
    assert identity(PATH, CUSTOMER) == identity("elsewhere/other.proto", relaid)
    recommented = CUSTOMER.replace("//", "// Note:", 1)
    assert recommented != CUSTOMER and identity(PATH, recommented) != identity(PATH, CUSTOMER)
    assert identity(PATH, recommented, comments=False) == identity(PATH, CUSTOMER, comments=False)
    assert identity(PATH, CUSTOMER, comments=False) != identity(PATH, CUSTOMER)


POOL_OPTIONS = """syntax = "proto3";
package pooltest.v1;
import "google/protobuf/descriptor.proto";
extend google.protobuf.FieldOptions {
  bool sensitive = 51001;
  int32 level = 51002;
}
"""

POOL_SCHEMA = """syntax = "proto3";
package pooltest.v1;
import "pooltest/options.proto";
// A schema whose fields carry two custom options.
message Account {
  string email = 1 [(pooltest.v1.level) = 3, (pooltest.v1.sensitive) = true];
}
"""


def test_identity_does_not_depend_on_the_options_this_process_imported():
    # A process that imported generated code declaring the options (a _pb2 module) parses them as known
    # extensions and writes them back in another order; the stored fingerprint must not change with it.
    dependencies = {"pooltest/options.proto": POOL_OPTIONS}
    before = compile_one("pooltest/account.proto", POOL_SCHEMA, dependencies).file("pooltest/account.proto")
    unknown = (identity_fingerprint(before), descriptor_base64(before))
    options = compile_one("pooltest/options.proto", POOL_OPTIONS, {}).file("pooltest/options.proto")
    descriptor_pool.Default().AddSerializedFile(options.SerializeToString())
    clear_cache()
    after = compile_one("pooltest/account.proto", POOL_SCHEMA, dependencies).file("pooltest/account.proto")
    assert after.message_type[0].field[0].options.ListFields()  # now known extensions, not unknown fields
    assert (identity_fingerprint(after), descriptor_base64(after)) == unknown


def test_both_identity_forms_at_once_equal_each_asked_for_alone():
    dependencies = {"pooltest/options.proto": POOL_OPTIONS}
    file = compile_one("pooltest/account.proto", POOL_SCHEMA, dependencies).file("pooltest/account.proto")
    references, extras = [("pooltest/options.proto", "options-value", 1)], '{"metadata": null}'
    assert identity_fingerprints(file, references, extras) == (
        identity_fingerprint(file, references, extras),
        identity_fingerprint(file, references, extras, comments=False),
    )


# What an identity fingerprint is computed from besides the file: each row differs from another in one input.
OWNER = '{"metadata": {"owner": "shop"}}'
IDENTITY_ARGUMENTS = [
    ((), "", True),
    ([("common/money.proto", "money-value", 1)], "", True),
    ([("common/money.proto", "money-value", 2)], "", True),
    ([("common/money.proto", "other-value", 1)], "", True),
    ([("money.proto", "money-value", 1)], "", True),
    ((), OWNER, True),
    ((), "", False),
    ([("common/money.proto", "money-value", 1)], OWNER, False),
]


def test_a_kept_canonical_text_is_the_one_printed_anew_for_each_file_of_the_set():
    compiled = compile_one(PATH, CUSTOMER_REFORMATTED, DEPENDENCIES)
    kept = {path: normalize_compiled(path, compiled) for path in (PATH, "common/money.proto")}
    assert kept == {path: print_normalized(compiled.file(path), compiled.files) for path in kept}
    assert kept[PATH] != kept["common/money.proto"]
    assert all(normalize_compiled(path, compiled) is text for path, text in kept.items())


def test_kept_identity_fingerprints_are_those_computed_anew_for_each_references_extras_and_comments():
    clear_set_cache()
    compiled = compile_one(PATH, CUSTOMER, DEPENDENCIES)
    file = compiled.file(PATH)
    kept = [identity_fingerprint_of(compiled, PATH, *row[:2], comments=row[2]) for row in IDENTITY_ARGUMENTS]
    assert kept == [identity_fingerprint(file, *row[:2], comments=row[2]) for row in IDENTITY_ARGUMENTS]
    assert len(set(kept)) == len(IDENTITY_ARGUMENTS)
    asked_again = [
        identity_fingerprint_of(compiled, PATH, *row[:2], comments=row[2]) for row in IDENTITY_ARGUMENTS[::-1]
    ]
    assert asked_again == kept[::-1]
    assert identity_fingerprint_of(compiled, "common/money.proto") == identity_fingerprint(
        compiled.file("common/money.proto")
    )


@pytest.mark.parametrize("asked_first", ["both", "with comments", "without comments"])
def test_both_kept_identity_forms_are_those_computed_anew_whichever_was_asked_first(asked_first):
    clear_set_cache()
    compiled = compile_one(PATH, CUSTOMER, DEPENDENCIES)
    file = compiled.file(PATH)
    for references, extras, _ in IDENTITY_ARGUMENTS:
        if asked_first != "both":
            identity_fingerprint_of(compiled, PATH, references, extras, comments=asked_first == "with comments")
        expected = identity_fingerprints(file, references, extras)
        assert identity_fingerprints_of(compiled, PATH, references, extras) == expected
        assert (
            identity_fingerprint_of(compiled, PATH, references, extras),
            identity_fingerprint_of(compiled, PATH, references, extras, comments=False),
        ) == expected


def test_a_set_parsed_anew_gives_the_same_kept_outputs():
    first = compile_one(PATH, CUSTOMER, DEPENDENCIES)
    outputs = (normalize_compiled(PATH, first), identity_fingerprints_of(first, PATH, *IDENTITY_ARGUMENTS[7][:2]))
    clear_set_cache()
    again = compile_one(PATH, CUSTOMER, DEPENDENCIES)
    assert again is not first
    assert (
        normalize_compiled(PATH, again),
        identity_fingerprints_of(again, PATH, *IDENTITY_ARGUMENTS[7][:2]),
    ) == outputs


DOCUMENTED = """// Detached from the syntax.

// Leading the syntax.
syntax = "proto3"; // Trailing the syntax.
package shop.v1;
// Leading Order.
message Order {
  // Leading id.
  string id = 1; // Trailing id.
  /* Block leading total. */
  int64 total = 2;

  // Detached inside Order.

  repeated string tags = 3;
}
// Leading State.
enum State {
  STATE_UNSPECIFIED = 0; // Trailing the zero value.
}
"""

# The same schema laid out otherwise: indentation, spaces, line breaks inside a declaration, trailing blanks.
RELAID = {
    "tabs": DOCUMENTED.replace("  ", "\t"),
    "no spaces around =": DOCUMENTED.replace(" = ", "="),
    "a declaration over lines": DOCUMENTED.replace("int64 total = 2;", "int64\n      total\n  =   2\n;"),
    "trailing blanks": DOCUMENTED.replace("{\n", "{   \n"),
    "a blank line before a closing brace": DOCUMENTED.replace("tags = 3;\n}", "tags = 3;\n\n}"),
}

# Each a change of one comment.
RECOMMENTED = {
    "text": DOCUMENTED.replace("// Leading id.", "// Leading the id."),
    "one character": DOCUMENTED.replace("Trailing id.", "Trailing id!"),
    "space inside": DOCUMENTED.replace("// Leading Order.", "//  Leading Order."),
    "removed": DOCUMENTED.replace("  // Leading id.\n", ""),
    "trailing made leading": DOCUMENTED.replace(
        "  string id = 1; // Trailing id.", "  // Trailing id.\n  string id = 1;"
    ),
    "block made line": DOCUMENTED.replace("/* Block leading total. */", "// Block leading total."),
    "moved to another field": DOCUMENTED.replace("  // Leading id.\n", "").replace(
        "  repeated string", "  // Leading id.\n  repeated string"
    ),
    "detached made leading": DOCUMENTED.replace("  // Detached inside Order.\n\n", "  // Detached inside Order.\n"),
    "detached added": DOCUMENTED.replace("// Leading Order.", "// Another detached.\n\n// Leading Order."),
    "added": DOCUMENTED.replace("enum State {", "enum State { // Trailing the opening."),
}


def test_texts_that_differ_in_layout_alone_have_one_identity_and_each_comment_change_another():
    def identities(text):
        file = compile_one("shop/order.proto", text, {}).file("shop/order.proto")
        return identity_fingerprint(file), identity_fingerprint(file, comments=False)

    assert DOCUMENTED not in {*RELAID.values(), *RECOMMENTED.values()}
    assert len({*RELAID.values(), *RECOMMENTED.values()}) == len(RELAID) + len(RECOMMENTED)
    original, uncommented = identities(DOCUMENTED)
    assert {name: identities(text) for name, text in RELAID.items()} == dict.fromkeys(RELAID, (original, uncommented))
    recommented = {name: identities(text) for name, text in RECOMMENTED.items()}
    assert {without for _, without in recommented.values()} == {uncommented}
    with_comments = [original, *(identity for identity, _ in recommented.values())]
    assert len(set(with_comments)) == len(with_comments)
