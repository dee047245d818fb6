"""The compiler turns texts into descriptors and reports every bad input as structured errors."""

import sys
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from google.protobuf.descriptor_pb2 import Edition, FieldDescriptorProto

from protoengine import compiler
from protoengine.compiler import (
    MAX_SOURCE_BYTES,
    CompilationFailed,
    compile_one,
    compile_sources,
    well_known_include_dir,
)

MONEY = (
    'syntax = "proto3";\npackage common.v1;\nmessage Money { int64 units = 1; int32 nanos = 2; string '
    "currency_code = 3; }\n"
)
ORDER = (
    'syntax = "proto3";\npackage trading.v1;\nimport "common/money.proto";\nimport '
    '"google/protobuf/timestamp.proto";\nmessage Order { common.v1.Money price = 1; google.protobuf.Timestamp at = '
    "2; }\n"
)


def errors_of(sources, roots=None):
    with pytest.raises(CompilationFailed) as caught:
        compile_sources(sources, roots)
    return caught.value.errors


def test_it_compiles_a_file_with_its_references_and_well_known_types():
    result = compile_one("trading/orders.proto", ORDER, {"common/money.proto": MONEY})
    assert [f.name for f in result.files] == [
        "common/money.proto",
        "google/protobuf/timestamp.proto",
        "trading/orders.proto",
    ] or [f.name for f in result.files] == [
        "google/protobuf/timestamp.proto",
        "common/money.proto",
        "trading/orders.proto",
    ]
    assert [f.name for f in result.own_files][-1] == "trading/orders.proto"
    order = result.file("trading/orders.proto")
    assert order.message_type[0].field[0].type_name == ".common.v1.Money"
    assert order.source_code_info.location, "source info is kept for line and column reporting"


def test_it_reports_protoc_errors_with_line_and_column():
    [error] = errors_of({"x.proto": 'syntax = "proto3";\nmessage A {\n  strin a = 1;\n}\n'})
    assert (error.path, error.line, error.column) == ("x.proto", 3, 3)
    assert '"strin" is not defined' in error.message


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/hosts", "/etc/passwd"])
def test_it_never_reads_files_outside_the_mapping(target):
    errors = errors_of({"x.proto": f'syntax = "proto3";\nimport "{target}";\n'})
    assert any(e.path == "x.proto" and e.line == 2 and target in e.message for e in errors)


@pytest.mark.parametrize("bad_path", ["../x.proto", "/abs.proto", "a//b.proto", "./a.proto", "a\\b.proto"])
def test_it_refuses_unsafe_paths_in_the_mapping(bad_path):
    [error] = errors_of({bad_path: 'syntax = "proto3";'})
    assert "Invalid file path" in error.message


def test_it_refuses_invalid_utf8_with_the_place_of_the_bad_byte():
    [error] = errors_of({"x.proto": b'syntax = "proto3";\nmessage \xff {}'})
    assert (error.line, error.column) == (2, 9)
    assert "UTF-8" in error.message


def test_it_refuses_a_ten_megabyte_file_without_running_protoc():
    [error] = errors_of({"big.proto": "// " + "x" * (10 * 1024 * 1024)})
    assert str(MAX_SOURCE_BYTES) in error.message


def test_it_refuses_deeply_nested_messages():
    depth = 5000
    text = 'syntax = "proto3";\n' + "".join(f"message M{i} {{\n" for i in range(depth)) + "}" * depth
    [error] = errors_of({"deep.proto": text})
    assert "nested" in error.message and error.line > 1


def test_it_reports_import_cycles():
    errors = errors_of(
        {"a.proto": 'syntax = "proto3";\nimport "b.proto";\n', "b.proto": 'syntax = "proto3";\nimport "a.proto";\n'}
    )
    assert any("recursively imports itself" in e.message for e in errors)


def test_it_reports_a_missing_import_at_the_import_line():
    errors = errors_of({"x.proto": 'syntax = "proto3";\nimport "common/absent.proto";\n'})
    assert any(e.path == "x.proto" and e.line == 2 and "common/absent.proto" in e.message for e in errors)


def test_it_accepts_proto2_and_editions():
    proto2 = compile_sources(
        {"p2.proto": 'syntax = "proto2";\nmessage A { required int32 a = 1; optional string b = 2 [default = "x"]; }\n'}
    ).file("p2.proto")
    editions = compile_sources({"ed.proto": 'edition = "2023";\npackage e;\nmessage A { int32 x = 1; }\n'}).file(
        "ed.proto"
    )

    required, optional = proto2.message_type[0].field
    assert proto2.syntax == ""  # descriptors leave proto2, the default, unnamed
    assert (required.label, optional.default_value) == (FieldDescriptorProto.LABEL_REQUIRED, "x")
    assert (editions.syntax, editions.edition) == ("editions", Edition.EDITION_2023)
    assert editions.message_type[0].field[0].name == "x"


def test_it_keeps_unused_import_warnings_apart_from_errors():
    result = compile_sources({"x.proto": 'syntax = "proto3";\nimport "google/protobuf/empty.proto";\nmessage A {}\n'})
    assert [w.rule for w in result.warnings] == ["COMPILE_WARNING"]


def test_protocs_own_log_lines_become_warnings_not_errors():
    result = compile_sources({"nosyntax.proto": "message A { optional int32 a = 1; }\n"})
    assert all(w.rule == "COMPILE_WARNING" and "syntax" in w.message for w in result.warnings)
    errors = errors_of({"nosyntax2.proto": "message A { strin a = 1; }\n"})
    assert [(e.path, e.line) for e in errors] == [("nosyntax2.proto", 1)]


def broken(number: int) -> dict[str, str]:
    """Return a file of its own name whose only error is on a line of its own number."""
    return {f"broken/file_{number}.proto": 'syntax = "proto3";\n' + "\n" * number + "message M { int32 x = 1 }\n"}


@pytest.mark.parametrize("in_process_limit", [compiler.IN_PROCESS_MAX_BYTES, 0], ids=["small first", "all in workers"])
def test_threads_compiling_different_files_each_get_their_own_diagnostics(monkeypatch, in_process_limit):
    monkeypatch.setattr(compiler, "IN_PROCESS_MAX_BYTES", in_process_limit)
    start = threading.Barrier(4)

    def compile_broken(thread: int) -> list[tuple]:
        start.wait()
        seen = []
        for round_ in range(15):
            number = thread * 100 + round_
            seen.append((number, [(e.path, e.line, e.column, e.message) for e in errors_of(broken(number))]))
        return seen

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = [item for seen in pool.map(compile_broken, range(4)) for item in seen]
    for number, errors in results:
        assert errors == [(f"broken/file_{number}.proto", number + 2, 25, 'Expected ";".')]


def test_a_large_compile_beside_other_threads_runs_in_a_worker_and_still_reports_its_errors():
    padding = "// " + "x" * 100 + "\n"
    text = 'syntax = "proto3";\n' + padding * (compiler.IN_PROCESS_MAX_BYTES // len(padding) + 1) + "message M {\n"
    with ThreadPoolExecutor(max_workers=1) as pool:  # a second thread: the compile leaves the GIL to it
        errors = pool.submit(errors_of, {"big.proto": text}).result()
    assert [(e.path, e.message) for e in errors] == [
        ("big.proto", "Reached end of input in message definition (missing '}').")
    ]
    assert errors[0].line == text.count("\n") + 1


# A tree carrying its own copy of a well-known file (vendored trees, buf's test data) compiles with that copy.


def well_known_text(path: str) -> str:
    return (Path(well_known_include_dir()) / path).read_text(encoding="utf-8")


def test_a_tree_s_own_copy_of_a_well_known_file_replaces_the_bundled_one():
    vendored = well_known_text("google/protobuf/timestamp.proto") + "\nmessage VendoredOnly {}\n"
    user = (
        'syntax = "proto3";\npackage acme.v1;\nimport "google/protobuf/timestamp.proto";\n'
        "message A { google.protobuf.Timestamp at = 1; google.protobuf.VendoredOnly extra = 2; }\n"
    )
    result = compile_sources({"google/protobuf/timestamp.proto": vendored, "acme/v1/a.proto": user})
    timestamp = result.file("google/protobuf/timestamp.proto")
    assert [message.name for message in timestamp.message_type] == ["Timestamp", "VendoredOnly"]
    assert [file.name for file in result.own_files] == ["google/protobuf/timestamp.proto", "acme/v1/a.proto"]


def test_a_tree_s_copy_of_a_well_known_file_is_never_one_of_its_subject_files():
    user = 'syntax = "proto3";\npackage acme.v1;\nimport "google/protobuf/empty.proto";\nmessage A {}\n'
    sources = {"google/protobuf/empty.proto": well_known_text("google/protobuf/empty.proto"), "acme/v1/a.proto": user}
    result = compile_sources(sources)
    assert [file.name for file in result.own_files] == ["google/protobuf/empty.proto", "acme/v1/a.proto"]
    assert [file.name for file in result.subject_files] == ["acme/v1/a.proto"]


def test_a_vendored_cpp_features_file_serves_an_editions_feature():
    user = (
        'edition = "2023";\npackage acme.v1;\nimport "google/protobuf/cpp_features.proto";\n'
        "message A { string text = 1 [features.(pb.cpp).string_type = VIEW]; }\n"
    )
    result = compile_sources(
        {"google/protobuf/cpp_features.proto": well_known_text("google/protobuf/cpp_features.proto"), "a/a.proto": user}
    )
    assert [file.name for file in result.own_files] == ["google/protobuf/cpp_features.proto", "a/a.proto"]
    # Not given, so still the compiler's own: descriptor.proto, which cpp_features.proto imports.
    assert "google/protobuf/descriptor.proto" in [file.name for file in result.files]
    assert "google/protobuf/descriptor.proto" not in [file.name for file in result.own_files]


def test_an_older_vendored_descriptor_proto_still_compiles_custom_options():
    # An edition-less descriptor.proto, as trees vendored years ago carry it; only the parts custom options need.
    descriptor = (
        'syntax = "proto2";\npackage google.protobuf;\n'
        "message FieldOptions {\n  optional bool deprecated = 3 [default = false];\n"
        "  extensions 1000 to max;\n}\n"
    )
    options = (
        'syntax = "proto3";\npackage acme.v1;\nimport "google/protobuf/descriptor.proto";\n'
        "extend google.protobuf.FieldOptions { bool secret = 50001; }\n"
        "message A { string token = 1 [(acme.v1.secret) = true]; }\n"
    )
    result = compile_sources({"google/protobuf/descriptor.proto": descriptor, "acme/v1/a.proto": options})
    assert len(result.file("google/protobuf/descriptor.proto").message_type) == 1
    assert result.file("acme/v1/a.proto").message_type[0].field[0].options.SerializeToString()


def test_the_same_texts_compiled_again_give_the_same_set_and_its_model_is_built_once():
    sources = {"common/money.proto": MONEY, "trading/orders.proto": ORDER}
    first = compile_sources(sources)
    model = first.model
    again = compile_sources(dict(reversed(sources.items())))
    assert again is first
    assert again.model is model


def test_a_forgotten_set_is_parsed_again_into_descriptors_equal_to_the_first():
    first = compile_one("common/money.proto", MONEY)
    compiler.clear_cache()
    again = compile_one("common/money.proto", MONEY)
    assert again is not first
    assert again.files == first.files


def test_a_set_computes_a_derived_output_once_per_key_and_hands_every_caller_the_same_object():
    compiled = compile_one("common/money.proto", MONEY)
    calls = []

    def computed(value):
        calls.append(value)
        return value

    first = compiled.derived(("text", "a"), lambda: computed("alpha" * 3))
    assert compiled.derived(("text", "a"), lambda: computed("other")) is first
    assert compiled.derived(("text", "b"), lambda: computed("beta")) == "beta"
    assert calls == ["alpha" * 3, "beta"]


@pytest.mark.parametrize("mutable", [["a list"], {"a": "dict"}, ("a tuple holding", ["a list"])])
def test_a_set_refuses_to_keep_a_derived_output_a_caller_could_change(mutable):
    compiled = compile_one("common/money.proto", MONEY)
    with pytest.raises(TypeError, match="only immutable results"):
        compiled.derived(("mutable", repr(mutable)), lambda: mutable)
    assert compiled.derived(("mutable", repr(mutable)), lambda: "kept after all") == "kept after all"


def test_a_failed_derivation_keeps_nothing():
    compiled = compile_one("common/money.proto", MONEY)
    with pytest.raises(KeyError):
        compiled.derived(("file", "missing.proto"), lambda: compiled.file("missing.proto"))
    assert compiled.derived(("file", "missing.proto"), lambda: "computed again") == "computed again"


def test_a_sets_derived_outputs_go_when_the_set_goes():
    compiler.clear_cache()
    compiled = compile_one("common/money.proto", MONEY)
    output = "".join(["a derived ", "output"])  # built at run time: no constant the test module keeps
    compiled.derived("key", lambda: output)
    freed = weakref.ref(compiled)
    kept = sys.getrefcount(output)
    compiler.clear_set_cache()
    del compiled
    assert freed() is None
    assert sys.getrefcount(output) == kept - 1


def test_forgetting_the_kept_sets_alone_parses_a_new_set_from_protocs_cached_output(monkeypatch):
    first = compile_one("common/money.proto", MONEY)
    compiler.clear_set_cache()
    monkeypatch.setattr(compiler, "_run_protoc", lambda *_: pytest.fail("protoc ran: its output was forgotten"))
    again = compile_one("common/money.proto", MONEY)
    assert again is not first
    assert again.files == first.files
