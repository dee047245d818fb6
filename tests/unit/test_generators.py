"""The code generators over small in-memory schemas: outputs per language, plugin discovery and errors."""

from pathlib import Path

import pytest

from codegen.generators import (
    GENERATORS,
    GenerationFailed,
    GeneratorUnavailable,
    GoGenerator,
    PythonGenerator,
    TypeScriptGenerator,
    UnknownLanguage,
    generate,
    generator_for,
)
from codegen.sources import SourceError, find_source_root, select_sources
from protoengine.compiler import CompilationFailed

ITEM = """syntax = "proto3";
package shop.v1;
import "google/protobuf/timestamp.proto";
// Item is one thing on sale.
message Item {
  // Display name of the item.
  string name = 1;
  google.protobuf.Timestamp listed_at = 2;
}
"""
SERVICE = """syntax = "proto3";
package shop.v1;
import "shop/item.proto";
message GetItemRequest { string name = 1; }
service ItemService {
  rpc GetItem(GetItemRequest) returns (Item);
}
"""
UNRELATED = 'syntax = "proto3";\npackage other.v1;\nmessage Other { int32 n = 1; }\n'
SOURCES = {"shop/item.proto": ITEM, "shop/service.proto": SERVICE}


def relative_names(paths: list[Path], root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in paths}


def require(generator):
    """Fail with the install hint when a plugin is missing (the suite's preflight names it before any test runs)."""
    try:
        generator.check_available()
    except GeneratorUnavailable as missing:
        pytest.fail(str(missing))
    return generator


def test_python_writes_messages_stubs_and_grpc_modules_for_each_file_in_packages(tmp_path):
    written = generate(SOURCES, "python", tmp_path)

    assert relative_names(written, tmp_path) == {
        "shop/__init__.py",
        "shop/item_pb2.py",
        "shop/item_pb2.pyi",
        "shop/item_pb2_grpc.py",
        "shop/service_pb2.py",
        "shop/service_pb2.pyi",
        "shop/service_pb2_grpc.py",
    }
    assert all(path.is_file() for path in written)
    assert "class ItemServiceStub" in (tmp_path / "shop/service_pb2_grpc.py").read_text()


def test_it_generates_a_root_with_the_files_it_imports_and_nothing_else(tmp_path):
    sources = {**SOURCES, "other/other.proto": UNRELATED}

    written = generate(sources, "python", tmp_path, roots=["shop/service.proto"])

    assert {name for name in relative_names(written, tmp_path) if name.endswith("_pb2.py")} == {
        "shop/item_pb2.py",
        "shop/service_pb2.py",
    }


def test_a_compile_error_comes_with_file_line_and_column(tmp_path):
    broken = {"shop/item.proto": ITEM.replace("string name = 1;", "strin name = 1;")}

    with pytest.raises(CompilationFailed) as raised:
        generate(broken, "python", tmp_path)

    error = raised.value.errors[0]
    assert (error.path, error.line) == ("shop/item.proto", 7)
    assert error.column > 0
    assert not any(tmp_path.iterdir())


def test_an_unknown_language_is_refused_with_the_known_ones():
    with pytest.raises(UnknownLanguage) as raised:
        generator_for("cobol")

    assert str(raised.value) == f'Unknown language "cobol"; choose one of {", ".join(sorted(GENERATORS))}.'


def test_the_registry_holds_every_language_by_name():
    assert {
        "python": PythonGenerator,
        "go": GoGenerator,
        "typescript": TypeScriptGenerator,
    }.items() <= GENERATORS.items()
    assert set(GENERATORS) == {
        *("python", "typescript", "go", "java", "kotlin", "csharp", "cpp", "ruby", "php", "objc", "docs"),
    }


def test_go_without_its_plugins_names_the_debian_package(tmp_path):
    generator = GoGenerator(search_path=str(tmp_path))

    with pytest.raises(GeneratorUnavailable) as raised:
        generator.generate(SOURCES, tmp_path / "out")

    assert "protoc-gen-go, which is not installed" in str(raised.value)
    assert "apt-get install protoc-gen-go" in str(raised.value)
    assert not (tmp_path / "out").exists()


def test_go_finds_a_plugin_on_its_search_path(tmp_path):
    for name in ("protoc-gen-go", "protoc-gen-go-grpc"):
        plugin = tmp_path / name
        plugin.write_text("#!/bin/sh\n")
        plugin.chmod(0o755)

    found = GoGenerator(search_path=str(tmp_path)).check_available()

    assert found == {"go": tmp_path / "protoc-gen-go", "go-grpc": tmp_path / "protoc-gen-go-grpc"}


def test_typescript_without_npm_ci_says_where_to_run_it(tmp_path):
    generator = TypeScriptGenerator(node_dir=tmp_path)

    with pytest.raises(GeneratorUnavailable) as raised:
        generator.check_available()

    assert f"run `npm ci` in {tmp_path}" in str(raised.value)
    assert "protoc-gen-ts_proto" in str(raised.value)


def test_go_writes_files_beside_their_sources_with_a_grpc_file_for_services(tmp_path):
    generator = require(GoGenerator())

    written = generator.generate(SOURCES, tmp_path)

    assert relative_names(written, tmp_path) == {"shop/item.pb.go", "shop/service.pb.go", "shop/service_grpc.pb.go"}


def test_go_gives_a_file_without_go_package_one_from_its_folder_and_package(tmp_path):
    generator = require(GoGenerator())

    generator.generate(SOURCES, tmp_path)

    assert "\npackage shopv1\n" in (tmp_path / "shop/item.pb.go").read_text()
    assert "\npackage shopv1\n" in (tmp_path / "shop/service_grpc.pb.go").read_text()


def test_go_keeps_the_comments_of_the_proto_files(tmp_path):
    generator = require(GoGenerator())

    generator.generate(SOURCES, tmp_path)

    assert "\t// Display name of the item.\n" in (tmp_path / "shop/item.pb.go").read_text()


def test_go_keeps_a_go_package_the_file_names(tmp_path):
    generator = require(GoGenerator())
    named = {
        "shop/item.proto": ITEM.replace(
            "package shop.v1;", 'package shop.v1;\noption go_package = "example.com/shop/v1;shop";'
        )
    }

    generator.generate(named, tmp_path)

    assert "\npackage shop\n" in (tmp_path / "shop/item.pb.go").read_text()


def test_a_plugin_failure_is_reported_and_leaves_earlier_output_untouched(tmp_path):
    generator = require(GoGenerator())
    generator.generate(SOURCES, tmp_path)
    before = (tmp_path / "shop/item.pb.go").read_text()
    invalid = {
        "shop/item.proto": ITEM.replace(
            "package shop.v1;", 'package shop.v1;\noption go_package = "example.com/shop;shop-v1";\nmessage Extra {}'
        )
    }

    with pytest.raises(GenerationFailed) as raised:
        generator.generate(invalid, tmp_path)

    assert "Go generation failed" in str(raised.value)
    assert "unparsable Go source" in str(raised.value)
    assert (tmp_path / "shop/item.pb.go").read_text() == before


def test_typescript_writes_a_module_per_file_and_the_well_known_types_it_uses(tmp_path):
    generator = require(TypeScriptGenerator())

    written = generator.generate(SOURCES, tmp_path)

    assert relative_names(written, tmp_path) == {"shop/item.ts", "shop/service.ts", "google/protobuf/timestamp.ts"}
    assert "export interface Item {" in (tmp_path / "shop/item.ts").read_text()


def test_the_source_root_is_the_nearest_folder_with_a_buf_yaml(tmp_path):
    (tmp_path / "protos" / "shop").mkdir(parents=True)
    (tmp_path / "protos" / "buf.yaml").write_text("version: v2\n")
    (tmp_path / "protos" / "shop" / "item.proto").write_text(ITEM)

    assert find_source_root(tmp_path / "protos" / "shop" / "item.proto") == (tmp_path / "protos").resolve()
    assert find_source_root(tmp_path / "protos" / "shop") == (tmp_path / "protos").resolve()


def test_without_a_buf_yaml_a_folder_with_a_name_the_project_gives_is_the_root(tmp_path):
    (tmp_path / "schemas" / "shop").mkdir(parents=True)

    assert find_source_root(tmp_path / "schemas" / "shop", ["schemas"]) == (tmp_path / "schemas").resolve()
    assert find_source_root(tmp_path / "schemas" / "shop") == (tmp_path / "schemas" / "shop").resolve()


def test_a_selection_holds_the_named_files_and_the_whole_tree_for_imports(tmp_path):
    root = tmp_path / "schemas"
    for name, text in {**SOURCES, "other/other.proto": UNRELATED}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)

    selection = select_sources([root / "shop" / "service.proto"], ["schemas"])

    assert selection.roots == ("shop/service.proto",)
    assert set(selection.sources) == {"shop/item.proto", "shop/service.proto", "other/other.proto"}
    assert select_sources([root / "shop"], ["schemas"]).roots == ("shop/item.proto", "shop/service.proto")


def test_a_selection_refuses_a_path_without_proto_files(tmp_path):
    (tmp_path / "schemas" / "empty").mkdir(parents=True)

    with pytest.raises(SourceError, match="No .proto file under"):
        select_sources([tmp_path / "schemas" / "empty"])


def test_a_file_importing_googles_common_types_generates_python_that_imports_them(tmp_path):
    wallet = (
        'syntax = "proto3";\npackage shop.v1;\nimport "google/type/money.proto";\n'
        "message Wallet { google.type.Money cash = 1; }\n"
    )

    written = generate({"shop/wallet.proto": wallet}, "python", tmp_path)

    assert "shop/wallet_pb2.py" in relative_names(written, tmp_path)
    assert "from google.type import money_pb2" in (tmp_path / "shop/wallet_pb2.py").read_text()


def test_java_comes_from_the_system_protoc_and_names_its_package_when_missing(tmp_path, monkeypatch):
    java = generator_for("java")
    require(java)
    written = java.generate(SOURCES, tmp_path / "java")
    assert any(path.name.endswith(".java") for path in written)

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GeneratorUnavailable, match="apt-get install protobuf-compiler"):
        generator_for("java").check_available()


def test_docs_show_each_message_field_and_service_with_its_comment(tmp_path):
    generate(SOURCES, "docs", tmp_path)

    page = (tmp_path / "shop" / "item.md").read_text()
    assert "## message Item" in page
    assert "Item is one thing on sale." in page
    assert "| name | 1 | string | Display name of the item. |" in page
    assert "| listed_at | 2 | google.protobuf.Timestamp |  |" in page
    assert "GetItem" in (tmp_path / "shop" / "service.html").read_text()
    assert "shop/item.md" in (tmp_path / "index.md").read_text()


def test_an_archive_is_the_same_bytes_every_time_and_its_version_follows_the_texts():
    from codegen.archives import InputSet, build_archive

    inputs = InputSet(sources=SOURCES, roots=("shop/service.proto",))
    first, second = build_archive(generator_for("docs"), inputs), build_archive(generator_for("docs"), inputs)
    changed = build_archive(
        generator_for("docs"),
        InputSet(sources={**SOURCES, "shop/item.proto": ITEM + "\n// more\n"}, roots=("shop/service.proto",)),
    )

    assert (first.zip_bytes, first.tar_bytes) == (second.zip_bytes, second.tar_bytes)
    assert changed.version != first.version
