"""The CONFLUENT rule set's lenient compile: what Confluent accepts compiles, anything else keeps protoc's errors."""

import pytest

from protoengine.compiler import CompilationFailed
from protoengine.lenient import RULE, compile_leniently

PATH = "trading/order.proto"
MONEY = 'syntax = "proto3";\npackage common.v1;\nmessage Money { int64 units = 1; }\n'
DEPENDENCIES = {"common/money.proto": MONEY, "unused/other.proto": 'syntax = "proto3";\npackage o;\nmessage O {}\n'}


def test_text_protoc_accepts_compiles_unchanged_without_findings():
    text = 'syntax = "proto3";\nimport "common/money.proto";\nmessage A { common.v1.Money m = 1; }\n'
    result = compile_leniently(PATH, text, DEPENDENCIES)
    assert result.findings == () and list(result.compiled.file(PATH).dependency) == ["common/money.proto"]


def test_types_resolve_across_the_given_files_and_only_the_used_ones_are_imported():
    text = (
        'syntax = "proto3";\n// import "nowhere.proto";\nimport "money.proto";\nmessage A { common.v1.Money m = 1; }\n'
    )
    result = compile_leniently(PATH, text, DEPENDENCIES)
    assert list(result.compiled.file(PATH).dependency) == ["common/money.proto"]
    assert {(f.line, f.column, f.rule) for f in result.findings} >= {(3, 1, RULE), (4, 13, RULE)}


def test_unknown_custom_options_are_left_out_wherever_they_stand():
    text = (
        'syntax = "proto3";\noption (acme.file) = "a;b]";\nmessage A {\n'
        '  string a = 1 [(acme.x) = { k: "}" }, deprecated = true];\n'
        "  string b = 2 [deprecated = true, (acme.x) = 1];\n"
        "  string c = 3 [(acme.x) = 1];\n"
        "  option (acme.message) = 7;\n}\n"
    )
    result = compile_leniently(PATH, text, {})
    fields = {field.name: field.options.deprecated for field in result.compiled.file(PATH).message_type[0].field}
    assert fields == {"a": True, "b": True, "c": False}
    assert sorted((f.line, f.column) for f in result.findings) == [(2, 8), (4, 17), (5, 36), (6, 17), (7, 10)]


def test_what_confluent_refuses_too_keeps_protocs_errors():
    with pytest.raises(CompilationFailed) as refused:
        compile_leniently(PATH, 'syntax = "proto3";\nmessage A { common.v1.Nowhere m = 1; }\n', DEPENDENCIES)
    assert [(e.line, e.column) for e in refused.value.errors] == [(2, 13)]
