"""The engine: which files it reports on, in what order, in buf's words, and how fast."""

import gc
from pathlib import Path

import pytest

from protoengine import compiler
from protoengine.compiler import CompilationFailed, compile_sources, well_known_include_dir
from protoengine.lint import LintConfig, lint, lint_sources
from protoengine.lint.model import Element, Import, LintFile
from tests.unit.protoengine.lint.helpers import OPTIONS_PATH, OPTIONS_TEXT, places, proto3, run

EVERYTHING = LintConfig(use=["STANDARD", "GOVERNANCE", "COMMENTS", "UNARY_RPC"])


def test_the_registry_options_file_lints_clean_under_every_category():
    assert lint_sources({OPTIONS_PATH: OPTIONS_TEXT}, EVERYTHING) == []


def test_well_known_types_are_never_reported_and_findings_come_sorted():
    sources = {
        "b/v1/b.proto": proto3(
            "b.v1",
            'import "google/protobuf/descriptor.proto";',
            "message bad {}",
            "extend google.protobuf.FieldOptions { string Tag = 50100; }",
        ),
        "a/v1/a.proto": proto3("a.v1", "message also_bad {}"),
    }
    compiled = compile_sources(sources)
    findings = lint(compiled.files, LintConfig(use=["BASIC"]))
    assert places(findings) == [
        ("MESSAGE_PASCAL_CASE", "a/v1/a.proto", 3, 9),
        ("MESSAGE_PASCAL_CASE", "b/v1/b.proto", 4, 9),
        ("FIELD_LOWER_SNAKE_CASE", "b/v1/b.proto", 5, 46),
    ]
    assert findings == sorted(findings)


def test_a_given_copy_of_a_well_known_file_is_linted_as_buf_lints_it():
    vendored = (Path(well_known_include_dir()) / "google/protobuf/duration.proto").read_text(encoding="utf-8")
    user = proto3("a.v1", 'import "google/protobuf/duration.proto";', "message A { google.protobuf.Duration d = 1; }")
    findings = lint_sources({"google/protobuf/duration.proto": vendored, "a/v1/a.proto": user})
    assert [(f.rule, f.path) for f in findings] == [("PACKAGE_VERSION_SUFFIX", "google/protobuf/duration.proto")]
    # Given only as the compiler's own, it is never reported.
    assert lint_sources({"a/v1/a.proto": user}) == []


def test_targets_limit_the_report_while_other_files_resolve_imports():
    sources = {
        "a/v1/a.proto": proto3("a.v1", 'import "b/v1/b.proto";', "message A { b.B b = 1; }"),
        "b/v1/b.proto": proto3("b", "message B {}"),
    }
    compiled = compile_sources(sources)
    assert lint(compiled.files, LintConfig(use=["STANDARD"]), targets=["a/v1/a.proto"]) == []
    assert [f.path for f in lint(compiled.files, LintConfig(use=["STANDARD"]))] == ["b/v1/b.proto", "b/v1/b.proto"]


def test_an_import_whose_file_was_not_given_is_not_called_unused():
    sources = {
        "a/v1/a.proto": proto3(
            "a.v1", 'import "b/v1/b.proto";', 'import "b/v1/c.proto";', "message A { b.v1.B b = 1; }"
        ),
        "b/v1/b.proto": proto3("b.v1", "message B {}"),
        "b/v1/c.proto": proto3("b.v1"),
    }
    compiled = compile_sources(sources)
    assert run_rule_on(compiled.files, "IMPORT_USED") == [("IMPORT_USED", "a/v1/a.proto", 4, 1)]
    assert run_rule_on([compiled.file("a/v1/a.proto")], "IMPORT_USED") == []


def run_rule_on(files, rule_id):
    return places(lint(files, LintConfig(use=[rule_id]), targets=["a/v1/a.proto"]))


def test_lint_sources_raises_compile_errors():
    with pytest.raises(CompilationFailed) as caught:
        lint_sources({"a.proto": 'syntax = "proto3";\nmessage A { strin a = 1; }\n'})
    assert caught.value.errors[0].line == 2


@pytest.mark.parametrize(
    ("importer", "extra"),
    [
        (
            proto3(
                "a.v1",
                f'import "{OPTIONS_PATH}";',
                "message A {",
                "  string note = 1 [(registry.v1.classification) = DATA_CLASSIFICATION_PUBLIC];",
                "}",
            ),
            {OPTIONS_PATH: OPTIONS_TEXT},
        ),
        (
            proto3("a.v1", 'import "a/v1/b.proto";', "message A { C c = 1; }"),
            {
                "a/v1/b.proto": proto3("a.v1", 'import public "a/v1/c.proto";'),
                "a/v1/c.proto": proto3("a.v1", "message C {}"),
            },
        ),
        (
            proto3(
                "a.v1",
                'import "google/protobuf/descriptor.proto";',
                "extend google.protobuf.MessageOptions { string label = 50200; }",
            ),
            {},
        ),
        (
            proto3("a.v1", 'import "a/v1/b.proto";', 'option (a.v1.file_label) = "x";'),
            {
                "a/v1/b.proto": proto3(
                    "a.v1",
                    'import "google/protobuf/descriptor.proto";',
                    "extend google.protobuf.FileOptions { string file_label = 50300; }",
                )
            },
        ),
        (
            'edition = "2023";\npackage a.v1;\nimport "google/protobuf/cpp_features.proto";\n'
            "message A { string s = 1 [features.(pb.cpp).string_type = VIEW]; }\n",
            {},
        ),
    ],
    ids=["custom field option", "public re-export", "extendee", "custom file option", "feature of a field"],
)
def test_an_import_counts_as_used_through_options_re_exports_and_extensions(importer, extra):
    assert run("IMPORT_USED", {"a/v1/a.proto": importer, **extra}) == []


@pytest.mark.parametrize(
    ("rule_id", "text", "message"),
    [
        (
            "FIELD_LOWER_SNAKE_CASE",
            "message A { string userName = 1; }",
            'Field name "userName" should be lower_snake_case, such as "user_name".',
        ),
        (
            "MESSAGE_PASCAL_CASE",
            "message http_server {}",
            'Message name "http_server" should be PascalCase, such as "HttpServer".',
        ),
        (
            "ENUM_VALUE_UPPER_SNAKE_CASE",
            "enum HTTPCode { HTTP_CODE_UNSPECIFIED = 0; httpServerError = 1; }",
            'Enum value name "httpServerError" should be UPPER_SNAKE_CASE, such as "HTTP_SERVER_ERROR".',
        ),
        (
            "ENUM_VALUE_PREFIX",
            "enum HTTPCode { HTTP_CODE_UNSPECIFIED = 0; OK = 1; }",
            'Enum value name "OK" should be prefixed with "HTTP_CODE_".',
        ),
        (
            "ENUM_ZERO_VALUE_SUFFIX",
            "enum Side { SIDE_NONE = 0; }",
            'Enum zero value name "SIDE_NONE" should be suffixed with "_UNSPECIFIED".',
        ),
        ("SERVICE_SUFFIX", "service Orders {}", 'Service name "Orders" should be suffixed with "Service".'),
        (
            "RPC_REQUEST_STANDARD_NAME",
            "message Q {} message GetResponse {} service AService { rpc Get(Q) returns (GetResponse); }",
            'RPC request type "Q" should be named "GetRequest" or "AServiceGetRequest".',
        ),
        ("IMPORT_USED", 'import "google/protobuf/empty.proto";', 'Import "google/protobuf/empty.proto" is unused.'),
        (
            "PACKAGE_DIRECTORY_MATCH",
            "",
            'Files with package "a.v1" must be within a directory "a/v1" relative to root but were in directory "b".',
        ),
        ("COMMENT_MESSAGE", "message A {}", 'Message "A" should have a non-empty comment for documentation.'),
    ],
)
def test_findings_speak_in_buf_s_words(rule_id, text, message):
    [finding] = run(rule_id, {"b/a.proto": proto3("a.v1", text)})
    assert finding.message == message


def test_a_finding_spans_the_element_buf_points_at():
    text = proto3("a.v1", "message A {", "  required string order_id = 1;", "}").replace("proto3", "proto2")
    [finding] = run("FIELD_NOT_REQUIRED", {"a/v1/a.proto": text})
    # buf points at the field's name: line 4, columns 19 up to (not including) 27.
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (4, 19, 4, 27)


def test_a_finding_without_a_location_of_its_own_points_at_the_file_start():
    sources = {
        "a/v1/a.proto": proto3("a.v1", 'option java_package = "com.a";'),
        "a/v1/b.proto": proto3("a.v1", 'option go_package = "a/v1";'),
    }
    findings = run("PACKAGE_SAME_JAVA_PACKAGE", sources)
    assert [(f.path, f.line, f.column, f.end_line, f.end_column) for f in findings] == [
        ("a/v1/a.proto", 3, 1, 3, 31),
        ("a/v1/b.proto", 1, 1, 1, 1),
    ]


def test_an_unset_java_multiple_files_is_no_value_not_false():
    sources = {
        "a/v1/a.proto": proto3("a.v1", "option java_multiple_files = true;"),
        "a/v1/b.proto": proto3("a.v1"),
        "a/v1/c.proto": proto3("a.v1", "option java_multiple_files = false;"),
    }
    assert {f.message for f in run("PACKAGE_SAME_JAVA_MULTIPLE_FILES", sources)} == {
        'Files in package "a.v1" have both values "false,true" and no value for option "java_multiple_files" and '
        "all values must be equal."
    }


def test_option_values_are_quoted_as_go_quotes_them():
    sources = {
        "a/v1/a.proto": proto3("a.v1", 'option php_namespace = "A\\\\V1";'),
        "a/v1/b.proto": proto3("a.v1", 'option php_namespace = "B\\tV1";'),
    }
    assert {f.message for f in run("PACKAGE_SAME_PHP_NAMESPACE", sources)} == {
        'Files in package "a.v1" have multiple values "A\\\\V1,B\\tV1" for option "php_namespace" and all values '
        "must be equal."
    }


def test_files_without_a_package_are_one_package_for_the_package_rules():
    sources = {
        "left/a.proto": 'syntax = "proto3";\noption go_package = "x/left";\n',
        "right/b.proto": 'syntax = "proto3";\n',
    }
    assert [(f.path, f.line) for f in run("PACKAGE_SAME_GO_PACKAGE", sources)] == [
        ("left/a.proto", 2),
        ("right/b.proto", 1),
    ]
    assert {f.message for f in run("PACKAGE_SAME_DIRECTORY", sources)} == {
        'Multiple directories "left,right" contain files with package "".'
    }


def test_a_directive_on_an_enclosing_message_silences_its_nested_elements():
    text = proto3(
        "a.v1", "// buf:lint:ignore ENUM_VALUE_PREFIX", "message A {", "  enum Kind {", "    OTHER = 0;", "  }", "}"
    )
    assert run("ENUM_VALUE_PREFIX", {"a/v1/a.proto": text}) == []
    assert (
        len(run("ENUM_VALUE_PREFIX", {"a/v1/a.proto": text.replace("// buf:lint:ignore ENUM_VALUE_PREFIX", "")})) == 1
    )


def test_a_group_field_needs_no_comment_of_its_own():
    text = 'syntax = "proto2";\npackage a.v1;\n// A.\nmessage A {\n  // The group.\n  optional group G = 1 {}\n}\n'
    assert run("COMMENT_FIELD", {"a/v1/a.proto": text}) == []


def big_schema(messages=300, fields_per_message=16):
    body = []
    for m in range(messages):
        fields = "\n".join(f"  // Field {f}.\n  string field_{f}_value = {f + 1};" for f in range(fields_per_message))
        body.append(
            f"// Message {m}.\nmessage Message{m} {{\n{fields}\n  string tenant_id = {fields_per_message + 1};\n}}"
        )
    return proto3("trading.v1", *body)


def test_a_300_message_5000_field_schema_lints_clean():
    # Speed is measured by tests/performance/bench_engine.py, not asserted here.
    compiled = compile_sources({"trading/v1/big.proto": big_schema()})
    assert sum(len(message.field) for message in compiled.file("trading/v1/big.proto").message_type) == 5100
    assert lint(compiled.files) == []


def order_set():
    return compile_sources(
        {
            "shop/v1/order.proto": proto3(
                "shop.v1",
                'import "shop/v1/item.proto";',
                "enum State { STATE_UNSPECIFIED = 0; }",
                "message Order { message Line { Item item = 1; } oneof pay { string card = 2; } State state = 3; }",
                "service OrderService { rpc Get(Order) returns (Order); }",
            ),
            "shop/v1/item.proto": proto3("shop.v1", "message Item { string id = 1; }"),
        }
    )


def lint_elements_left(besides: frozenset[int] = frozenset()) -> list[str]:
    """Return the kinds of the lint elements alive, but those whose ids are `besides` (other tests' kept sets)."""
    # Types are compared, not instances: isinstance() of a dead weak proxy left by another test raises.
    kinds = (LintFile, Element, Import)
    return [type(o).__name__ for o in gc.get_objects() if issubclass(type(o), kinds) and id(o) not in besides]


def lint_element_ids() -> frozenset[int]:
    kinds = (LintFile, Element, Import)
    return frozenset(id(o) for o in gc.get_objects() if issubclass(type(o), kinds))


def test_lint_s_elements_go_to_reference_counting_not_to_the_cycle_collector():
    # Thousands of elements in cycles made the collector's full passes slow after every lint of a large schema.
    compiler.clear_cache()
    compiled = order_set()
    gc.collect()
    others = lint_element_ids()  # sets of other tests still held by their fixtures
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        # Files handed without their set: the run's own elements, freed when it ends.
        assert lint(compiled.files, EVERYTHING)
        after_run = lint_elements_left(others)
        # A compiled set's first run: its own elements too.
        assert lint(compiled, EVERYTHING)
        after_first = lint_elements_left(others)
        # From its second run on, a compiled set's elements are kept with it, and freed with it.
        assert lint(compiled, EVERYTHING)
        kept = lint_elements_left(others)
        del compiled
        compiler.clear_cache()
        after_set = lint_elements_left(others)
    finally:
        if was_enabled:
            gc.enable()
    assert (after_run, after_first, bool(kept), after_set) == ([], [], True, [])


def test_a_set_linted_again_reuses_its_elements_and_finds_the_same():
    compiled = order_set()
    first = lint(compiled, EVERYTHING)
    assert lint(compiled, EVERYTHING) == first
    gc.collect()
    kept = len(lint_elements_left())
    assert lint(order_set(), EVERYTHING) == first  # the same texts compiled again: the same set
    assert len(lint_elements_left()) == kept
    assert lint(compiled, EVERYTHING, targets={"shop/v1/item.proto"}) == [
        finding for finding in first if finding.path == "shop/v1/item.proto"
    ]


def test_fields_whose_names_pass_the_field_rules_are_never_built_as_elements():
    # A large schema's fields are judged by their names alone when every name passes: no element per field.
    compiled = compile_sources(
        {
            "shop/v1/order.proto": proto3(
                "shop.v1",
                "message Order { string order_id = 1; int64 total_cents = 2; map<string, string> labels = 3; }",
            )
        }
    )
    config = LintConfig(use=["FIELD_LOWER_SNAKE_CASE", "FIELD_PII_ANNOTATED"])
    gc.collect()
    others = lint_element_ids()
    assert lint(compiled, config) == []  # the set's first run: the names are learnt
    assert lint(compiled, config) == []  # its second: the elements are kept with the set
    kept = lint_elements_left(others)
    assert "Message" in kept and "Field" not in kept


def test_a_field_whose_name_fails_is_reported_among_names_that_pass():
    compiled = compile_sources(
        {
            "shop/v1/order.proto": proto3(
                "shop.v1",
                'import "google/protobuf/descriptor.proto";',
                "message Order { string order_id = 1; string customerEmail = 2; message Line { int32 count = 1; } }",
                "message Item { string item_id = 1; }",
                "extend google.protobuf.FieldOptions { string Tag = 50100; }",
            )
        }
    )
    config = LintConfig(use=["FIELD_LOWER_SNAKE_CASE", "FIELD_PII_ANNOTATED"])
    first = lint(compiled, config)
    assert places(first) == [
        ("FIELD_LOWER_SNAKE_CASE", "shop/v1/order.proto", 4, 45),
        ("FIELD_PII_ANNOTATED", "shop/v1/order.proto", 4, 45),
        ("FIELD_LOWER_SNAKE_CASE", "shop/v1/order.proto", 6, 46),
    ]
    assert lint(compiled, config) == first


def test_an_import_is_used_whichever_message_or_rpc_names_its_type_and_an_unused_one_is_still_found():
    # IMPORT_USED reads a file's types only until each import is found used: the last message and an rpc count too.
    sources = {
        "a/v1/a.proto": proto3(
            "a.v1",
            'import "b/v1/b.proto";',
            'import "c/v1/c.proto";',
            'import "d/v1/d.proto";',
            "message First { string id = 1; }",
            "message Last { b.v1.B b = 1; }",
            "service AService { rpc Get(c.v1.C) returns (First); }",
        ),
        "b/v1/b.proto": proto3("b.v1", "message B {}"),
        "c/v1/c.proto": proto3("c.v1", "message C {}"),
        "d/v1/d.proto": proto3("d.v1", "message D {}"),
    }
    assert places(run("IMPORT_USED", sources)) == [("IMPORT_USED", "a/v1/a.proto", 5, 1)]
