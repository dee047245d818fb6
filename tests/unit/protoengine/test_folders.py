"""One source-root rule for the command line: validate_schemas and generate_code find the same folder."""

from codegen.sources import find_source_root as codegen_root
from protoengine.folders import find_source_root
from schemas_app.validate import find_root as validate_root


def write(path, text=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_buf_work_yaml_marks_the_root_for_both_commands(tmp_path):
    write(tmp_path / "protos" / "buf.work.yaml", "version: v1\n")
    item = write(tmp_path / "protos" / "shop" / "item.proto", 'syntax = "proto3";\n')
    assert find_source_root(item) == tmp_path / "protos"
    assert validate_root(item) == tmp_path / "protos"
    assert codegen_root(item) == (tmp_path / "protos").resolve()


def test_a_file_without_a_buf_yaml_is_rooted_where_its_imports_resolve(tmp_path):
    write(tmp_path / "tree" / "common" / "money.proto", 'syntax = "proto3";\n')
    order = write(tmp_path / "tree" / "shop" / "order.proto", 'syntax = "proto3";\nimport "common/money.proto";\n')
    assert validate_root(order) == tmp_path / "tree"
    assert codegen_root(order) == (tmp_path / "tree").resolve()


def test_a_folder_named_as_the_catalogue_wins_over_import_guessing(tmp_path):
    order = write(tmp_path / "schemas" / "shop" / "order.proto", 'syntax = "proto3";\n')
    assert find_source_root(order, ["schemas"]) == tmp_path / "schemas"
    assert find_source_root(order) == tmp_path / "schemas" / "shop"
