"""The printer writes descriptors back as .proto text that protoc compiles to the same descriptor."""

import os
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, struct_pb2, timestamp_pb2
from google.protobuf.descriptor_pb2 import FileDescriptorProto
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from protoengine.compiler import CompilationFailed, compile_one, well_known_include_dir
from protoengine.printer import UnprintableDescriptor, default_json_name, print_file, print_normalized

FIXTURES = Path(__file__).parent / "printer_fixtures"
REPOSITORY = Path(__file__).resolve().parents[3]
DEPENDENCIES = {
    "schemaregistry/options.proto": (REPOSITORY / "schemas" / "schemaregistry" / "options.proto").read_text(),
    "common/money.proto": 'syntax = "proto3";\npackage common.v1;\nmessage Money { int64 units = 1; }\n',
    "common/weak.proto": 'syntax = "proto3";\npackage common.v1;\nmessage Weak {}\n',
}
PATH = "subject/schema.proto"


def without_source_info(file: FileDescriptorProto) -> FileDescriptorProto:
    copy = FileDescriptorProto()
    copy.CopyFrom(file)
    copy.ClearField("source_code_info")
    return copy


def assert_same_descriptor(original: FileDescriptorProto, reprinted: FileDescriptorProto, files) -> None:
    """Compare two descriptors with custom options parsed as extensions, so their byte order does not matter."""
    original, reprinted = without_source_info(original), without_source_info(reprinted)
    if original == reprinted:
        return
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(descriptor_pb2.DESCRIPTOR.serialized_pb)
    for file in files:
        if file.name != "google/protobuf/descriptor.proto":
            pool.AddSerializedFile(file.SerializeToString())
    message_class = message_factory.GetMessageClass(pool.FindMessageTypeByName("google.protobuf.FileDescriptorProto"))
    assert message_class.FromString(original.SerializeToString()) == message_class.FromString(
        reprinted.SerializeToString()
    ), print_file(reprinted)


def round_trip(text: str, dependencies=DEPENDENCIES, path=PATH) -> str:
    """Compile, print, compile the print again, check both descriptors agree and return the printed text."""
    compiled = compile_one(path, text, dependencies)
    printed = print_file(compiled.file(path), compiled.files)
    recompiled = compile_one(path, printed, dependencies)
    assert_same_descriptor(compiled.file(path), recompiled.file(path), compiled.files)
    return printed


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.proto")))
def test_it_round_trips_every_fixture(fixture):
    round_trip((FIXTURES / fixture).read_text())


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.proto")))
def test_it_prints_its_own_output_unchanged(fixture):
    printed = round_trip((FIXTURES / fixture).read_text())
    assert round_trip(printed) == printed


def well_known_files():
    folder = Path(well_known_include_dir())
    return sorted(str(p.relative_to(folder)) for p in (folder / "google" / "protobuf").rglob("*.proto"))


@pytest.mark.parametrize("name", well_known_files())
def test_it_round_trips_googles_own_files(name):
    # Compiled under another path, so the copy does not clash with the real well-known file.
    text = (Path(well_known_include_dir()) / name).read_text()
    round_trip(text, dependencies={}, path="copy/" + os.path.basename(name))


def test_it_writes_maps_optionals_and_oneofs_as_declared():
    printed = round_trip(
        'syntax = "proto3";\npackage p;\nmessage M {\n  map<string, M> children = 1;\n  optional int32 count = 2;\n'
        "  oneof kind {\n    string a = 3;\n    int64 b = 4;\n  }\n}\n"
    )
    assert (
        "  map<string, M> children = 1;\n  optional int32 count = 2;\n  oneof kind {\n    string a = 3;\n    int64 b = "
        "4;\n  }\n" in printed
    )
    assert "ChildrenEntry" not in printed and "_count" not in printed


def test_it_writes_json_name_only_when_it_differs_from_the_default():
    printed = round_trip(
        'syntax = "proto3";\nmessage M {\n  string user_id = 1 [json_name = "userId"];\n  string other_id = 2 '
        '[json_name = "otherID"];\n}\n'
    )
    assert "string user_id = 1;" in printed
    assert 'string other_id = 2 [json_name = "otherID"];' in printed


def test_it_derives_json_names_like_protoc():
    assert [default_json_name(n) for n in ["user_id", "_x", "a__b", "already_camelCase", "x_"]] == [
        "userId",
        "X",
        "aB",
        "alreadyCamelCase",
        "x",
    ]


def test_it_sorts_options_standard_first_then_custom_by_name():
    printed = round_trip(
        'syntax = "proto3";\nimport "schemaregistry/options.proto";\noption java_package = "j";\noption go_package = '
        '"g";\n'
        "message M {\n  string email = 1 [(registry.v1.pii) = true, deprecated = true, (registry.v1.classification) = "
        "DATA_CLASSIFICATION_PUBLIC];\n}\n"
    )
    assert 'option go_package = "g";\noption java_package = "j";' in printed
    # Too long for one line, so one option per line.
    assert (
        "  string email = 1 [\n    deprecated = true,\n    (registry.v1.classification) = DATA_CLASSIFICATION_PUBLIC,\n"
        "    (registry.v1.pii) = true\n  ];\n" in printed
    )


def test_it_writes_names_as_short_as_scoping_allows():
    printed = round_trip((FIXTURES / "names_and_imports.proto").read_text())
    assert "  Money local_money = 3;" in printed  # the nested Money
    assert "  v1.Money outer_money = 4;" in printed  # `Money` would mean the nested one
    assert "  .common.v1.Money real_money = 5;" in printed  # `common` is shadowed by a nested message
    assert "  google.protobuf.Timestamp placed_at = 2;" in printed  # the field named Timestamp is no type


def test_it_keeps_nested_messages_in_descriptor_order_around_map_entries():
    # Confluent names a message by its index path, so nested_type order must survive.
    printed = round_trip(
        'syntax = "proto3";\nmessage M {\n  message First {}\n  map<string, int32> counts = 1;\n  message Last {}\n}\n'
    )
    compiled = compile_one(PATH, printed, {})
    assert [n.name for n in compiled.file(PATH).message_type[0].nested_type] == ["First", "CountsEntry", "Last"]


def test_it_writes_fully_qualified_names_when_imports_are_not_given():
    compiled = compile_one(
        PATH,
        'syntax = "proto3";\npackage p;\nimport "common/money.proto";\nmessage M { common.v1.Money price = 1; M self = '
        "2; }\n",
        DEPENDENCIES,
    )
    printed = print_file(compiled.file(PATH))
    assert ".common.v1.Money price = 1;" in printed and ".p.M self = 2;" in printed
    assert_same_descriptor(compiled.file(PATH), compile_one(PATH, printed, DEPENDENCIES).file(PATH), compiled.files)


def test_it_refuses_custom_options_whose_definition_is_not_given():
    # An option only this test declares: no generated module can have put it in the default pool.
    options = (
        'syntax = "proto3";\npackage printer.test;\nimport "google/protobuf/descriptor.proto";\nextend '
        "google.protobuf.FieldOptions { bool secret = 59999; }\n"
    )
    compiled = compile_one(
        PATH,
        'syntax = "proto3";\nimport "printer/options.proto";\nmessage M { string email = 1 [(printer.test.secret) = '
        "true]; }\n",
        {"printer/options.proto": options},
    )
    with pytest.raises(UnprintableDescriptor, match="59999.*M.email"):
        print_file(compiled.file(PATH))


def test_it_refuses_group_extensions_with_a_clear_message():
    compiled = compile_one(
        PATH,
        'syntax = "proto2";\nmessage M { extensions 10 to 20; }\nextend M { optional group G = 10 { optional int32 x = '
        "1; } }\n",
        {},
    )
    with pytest.raises(UnprintableDescriptor, match='"g" is a group'):
        print_file(compiled.file(PATH), compiled.files)


def test_it_refuses_a_field_of_a_oneof_the_message_does_not_declare_with_a_clear_message():
    compiled = compile_one(PATH, 'syntax = "proto3";\nmessage M { oneof venue { string exchange = 1; } }\n', {})
    descriptor = FileDescriptorProto()
    descriptor.CopyFrom(compiled.file(PATH))
    descriptor.message_type[0].field[0].oneof_index = 3  # as a client's damaged descriptor may say
    with pytest.raises(UnprintableDescriptor, match='"M.exchange" names oneof 3'):
        print_file(descriptor)


def test_it_prints_runtime_descriptors_without_source_info():
    for module in (timestamp_pb2, struct_pb2):
        descriptor = FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
        printed = print_file(descriptor)
        recompiled = compile_one("copy/" + os.path.basename(descriptor.name), printed, {})
        recompiled_root = without_source_info(recompiled.file("copy/" + os.path.basename(descriptor.name)))
        recompiled_root.name = descriptor.name
        assert recompiled_root == descriptor


def test_it_writes_an_empty_message_on_one_line_and_indents_by_two_spaces():
    printed = round_trip('syntax = "proto3";\npackage p;\nmessage Empty{}\nmessage Outer{message Inner{int32 x=1;}}\n')
    assert (
        printed
        == 'syntax = "proto3";\n\npackage p;\n\nmessage Empty {}\n\nmessage Outer {\n  message Inner {\n    int32 x = '
        "1;\n  }\n}\n"
    )


# --- generated schemas: names chosen from a tiny set so that they shadow each other --------------

NAMES = ["A", "B", "a", "b", "v1", "Money"]
PACKAGES = ["", "a", "a.b", "b.a", "a.v1", "v1"]
SCALARS = ["int32", "string", "bool"]


@st.composite
def scopes(draw, depth=0):
    """Return a tree of (name, kind, children) with names unique inside each scope."""
    names = draw(st.lists(st.sampled_from(NAMES), max_size=3 if depth < 2 else 0, unique=True))
    tree = []
    for name in names:
        kind = draw(st.sampled_from(["message", "message", "enum", "field"]))
        tree.append((name, kind, draw(scopes(depth + 1)) if kind == "message" else []))
    return tree


def type_names(package, tree, prefix=None):
    prefix = prefix if prefix is not None else package
    for name, kind, children in tree:
        full = f"{prefix}.{name}" if prefix else name
        if kind in ("message", "enum"):
            yield "." + full
        yield from type_names(package, children, full)


def render(tree, references, draw, counter, indent=""):
    lines = []
    for name, kind, children in tree:
        if kind == "enum":
            counter[0] += 1
            lines.append(f"{indent}enum {name} {{ V{counter[0]}_ZERO = 0; }}")
        elif kind == "field":
            counter[0] += 1
            lines.append(f"{indent}{draw(st.sampled_from(SCALARS))} {name} = {counter[0]};")
        else:
            lines.append(f"{indent}message {name} {{")
            lines.extend(render(children, references, draw, counter, indent + "  "))
            for _ in range(draw(st.integers(0, 2))):
                counter[0] += 1
                target = draw(st.sampled_from(references))
                shape = draw(st.sampled_from(["{t}", "repeated {t}", "map<string, {t}>"]))
                lines.append(f"{indent}  {shape.format(t=target)} ref{counter[0]} = {counter[0]};")
            lines.append(f"{indent}}}")
    return lines


@st.composite
def schema_pairs(draw):
    dependency_package, root_package = draw(st.sampled_from(PACKAGES)), draw(st.sampled_from(PACKAGES))
    dependency_tree, root_tree = draw(scopes()), draw(scopes())
    dependency_types = list(type_names(dependency_package, dependency_tree))
    root_types = dependency_types + list(type_names(root_package, root_tree))
    assume(dependency_types)
    counter = [0]

    def file(package, tree, header, references):
        return (
            "\n".join(
                [
                    'syntax = "proto3";',
                    f"package {package};" if package else "",
                    *header,
                    *render(tree, references, draw, counter),
                ]
            )
            + "\n"
        )

    return file(dependency_package, dependency_tree, [], dependency_types), file(
        root_package, root_tree, ['import "dep.proto";'], root_types
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(schema_pairs())
def test_it_round_trips_generated_schemas_with_shadowed_names(pair):
    dependency, root = pair
    try:
        compile_one(PATH, root, {"dep.proto": dependency})
    except CompilationFailed:
        assume(False)  # duplicate symbols across the two files, or a reference into the root from the dependency
    round_trip(root, dependencies={"dep.proto": dependency})


def test_normalised_layout_indents_the_blank_lines_of_nested_blocks_as_confluent_does():
    text = (
        'syntax = "proto2";\npackage p;\nmessage A {\n  message B {\n'
        "    option deprecated = true;\n    optional int32 x = 1;\n  }\n}\n"
    )
    compiled = compile_one(PATH, text, {})
    printed = print_normalized(compiled.file(PATH), compiled.files)
    assert printed == (
        'syntax = "proto2";\npackage p;\n\nmessage A {\n  message B {\n    option deprecated = true;\n  \n'
        "    optional int32 x = 1;\n  }\n}\n"
    )
    recompiled = compile_one(PATH, printed, {})
    assert print_normalized(recompiled.file(PATH), recompiled.files) == printed


GROUPS = (
    'syntax = "proto2";\npackage p;\nmessage M {\n  map<string, int32> counts = 1;\n  optional group Result = 2 {\n'
    "    optional int32 depth = 3;\n  }\n  oneof choice {\n    group Pick = 4 {\n      optional string name = 5;\n"
    "    }\n  }\n}\n"
)


def printed_or_error(printer, file, files) -> str:
    try:
        return printer(file, files)
    except Exception as error:  # the outcome, text or error, is what is compared
        return f"{type(error).__name__}: {error}"


def test_normalised_layout_leaves_files_with_groups_to_print_file():
    compiled = compile_one(PATH, GROUPS, {})
    assert print_normalized(compiled.file(PATH), compiled.files) == print_file(compiled.file(PATH), compiled.files)


def test_normalised_layout_leaves_files_with_groups_to_print_file_even_when_it_would_fail_before_the_group():
    # A map whose key is a message: no layout protoc accepts, and the normalised printer stops at it (field 1).
    file = FileDescriptorProto()
    file.CopyFrom(compile_one(PATH, GROUPS, {}).file(PATH))
    key = file.message_type[0].nested_type[0].field[0]
    key.type, key.type_name = key.TYPE_MESSAGE, ".p.M"
    assert printed_or_error(print_normalized, file, []) == printed_or_error(print_file, file, [])


def test_normalised_layout_finds_a_group_that_only_a_map_entry_holds():
    file = FileDescriptorProto()
    file.CopyFrom(
        compile_one(PATH, 'syntax = "proto2";\npackage p;\nmessage M {\n  map<string, M> m = 1;\n}\n', {}).file(PATH)
    )
    value = file.message_type[0].nested_type[0].field[1]
    value.type = value.TYPE_GROUP
    assert printed_or_error(print_normalized, file, []) == printed_or_error(print_file, file, [])
