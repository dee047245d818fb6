"""The engine's command line: `breaking` and `lint` over folders, as a CI job calls them."""

import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command

from protoengine import bufconfig, cli, folders
from protoengine.breaking import DEPRECATED_RULE_IDS

REPO = Path(__file__).resolve().parents[3]
CATALOGUE = REPO / "schemas"

USER_V1 = """\
syntax = "proto3";
package acme.users.v1;

message User {
  string name = 1;
  int32 age = 2;
}
"""


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write `{relative path: text}` under root and return root."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def breaking(current: Path, previous: Path, **options) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run_breaking(current, previous, out=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


def lint(directory: Path, **options) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run_lint(directory, out=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def rule_types(text: str) -> set[str]:
    return {line["type"] for line in json_lines(text)}


def line_of(text: str, needle: str) -> int:
    """Return the 1-based line of the first line containing `needle`."""
    return next(number for number, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.fixture
def pair(tmp_path):
    """Return a function writing one user.proto into previous/ and current/ folders, and the two folders."""

    def make(
        current_text: str,
        previous_text: str = USER_V1,
        path: str = "acme/users/v1/user.proto",
        extra: dict | None = None,
    ):
        previous = write_tree(tmp_path / "previous", {path: previous_text})
        current = write_tree(tmp_path / "current", {path: current_text, **(extra or {})})
        return current, previous

    return make


# Exit codes and output formats


def test_it_exits_0_and_prints_nothing_when_nothing_breaks(pair):
    current, previous = pair(USER_V1.replace("  int32 age = 2;\n", "  int32 age = 2;\n  string email = 3;\n"))
    assert breaking(current, previous) == (0, "", "")


def test_it_exits_100_and_prints_buf_text_lines_when_a_field_changes_type(pair):
    text = USER_V1.replace("int32 age = 2", "string age = 2")
    current, previous = pair(text)
    code, out, err = breaking(current, previous)
    assert code == cli.EXIT_FINDINGS == 100
    assert err == ""
    line = line_of(text, "string age")
    assert f"acme/users/v1/user.proto:{line}:3:" in out
    assert 'Field "2" with name "age" on message "User" changed type from "int32" to "string".' in out


def test_json_lines_carry_the_path_relative_to_the_folder_the_place_the_rule_and_the_message(pair):
    text = USER_V1.replace("int32 age = 2", "string age = 2")
    current, previous = pair(text)
    code, out, _ = breaking(current, previous, error_format="json")
    assert code == 100
    [finding] = json_lines(out)
    assert finding == {
        "path": "acme/users/v1/user.proto",
        "start_line": line_of(text, "string age"),
        "start_column": 3,
        "end_line": line_of(text, "string age"),
        "end_column": 9,
        "type": "FIELD_SAME_TYPE",
        "message": 'Field "2" with name "age" on message "User" changed type from "int32" to "string".',
    }


def test_text_and_json_formats_report_the_same_findings(pair):
    current, previous = pair(
        USER_V1.replace("  int32 age = 2;\n", "").replace("string name = 1", "string full_name = 1")
    )
    _, text_out, _ = breaking(current, previous)
    _, json_out, _ = breaking(current, previous, error_format="json")
    as_text = [f"{f['path']}:{f['start_line']}:{f['start_column']}:{f['message']}" for f in json_lines(json_out)]
    assert text_out.splitlines() == as_text
    assert len(as_text) >= 2


def test_it_exits_1_and_prints_compile_errors_on_stderr(pair):
    current, previous = pair(USER_V1.replace("int32 age = 2;", "int32 age = 2"))
    code, out, err = breaking(current, previous)
    assert code == cli.EXIT_ERROR == 1
    assert out == ""
    path, line, column, message = err.splitlines()[0].split(":", 3)
    assert path == "acme/users/v1/user.proto"
    assert int(line) > 0 and int(column) > 0 and message


def test_compile_errors_of_the_previous_folder_fail_too(pair):
    current, previous = pair(USER_V1, previous_text='syntax = "proto3";\nmessage {\n')
    code, out, err = breaking(current, previous)
    assert (code, out) == (1, "")
    assert err.startswith("acme/users/v1/user.proto:")


def test_compile_errors_follow_the_json_format(pair):
    current, previous = pair(USER_V1.replace("int32 age", "Unknown age"))
    code, _, err = breaking(current, previous, error_format="json")
    assert code == 1
    [error] = json_lines(err)
    assert error["path"] == "acme/users/v1/user.proto"
    assert error["type"] == "COMPILE"
    assert error["start_line"] == line_of(USER_V1, "int32 age")
    assert "Unknown" in error["message"]


def test_it_exits_1_with_a_message_for_a_missing_folder(tmp_path):
    previous = write_tree(tmp_path / "previous", {"a.proto": USER_V1})
    code, out, err = breaking(tmp_path / "nowhere", previous)
    assert (code, out) == (1, "")
    assert "nowhere" in err and "not a folder" in err


def test_it_exits_1_and_names_an_unknown_rule(pair):
    current, previous = pair(USER_V1)
    code, out, err = breaking(current, previous, rules=["FIELD_NO_DELEET"])
    assert (code, out) == (1, "")
    assert "FIELD_NO_DELEET" in err and "FIELD_NO_DELETE" in err


# Folders as sets of files


def test_a_deleted_file_is_reported_by_name_without_a_path_as_buf_reports_it(tmp_path):
    previous = write_tree(
        tmp_path / "previous",
        {"acme/a.proto": USER_V1, "acme/b.proto": 'syntax = "proto3";\npackage acme.other.v1;\nmessage B {}\n'},
    )
    current = write_tree(tmp_path / "current", {"acme/a.proto": USER_V1})
    code, out, _ = breaking(current, previous, error_format="json")
    assert code == 100
    deletions = [f for f in json_lines(out) if f["type"] == "FILE_NO_DELETE"]
    assert deletions == [
        {
            "start_line": 1,
            "start_column": 1,
            "end_line": 1,
            "end_column": 1,
            "type": "FILE_NO_DELETE",
            "message": 'Previously present file "acme/b.proto" was deleted.',
        }
    ]
    _, text, _ = breaking(current, previous)
    assert '<input>:1:1:Previously present file "acme/b.proto" was deleted.' in text


def test_a_type_moved_to_another_file_of_its_package_breaks_no_package_rule(tmp_path):
    header = 'syntax = "proto3";\npackage acme.users.v1;\n'
    previous = write_tree(
        tmp_path / "previous",
        {
            "a.proto": header + "message A { string x = 1; }\nmessage B { int64 y = 1; }\n",
            "b.proto": header + "message C {}\n",
        },
    )
    current = write_tree(
        tmp_path / "current",
        {
            "a.proto": header + "message A { string x = 1; }\n",
            "b.proto": header + "message C {}\nmessage B { int64 y = 1; }\n",
        },
    )
    assert breaking(current, previous, categories=["PACKAGE"])[0] == 0
    code, out, _ = breaking(current, previous, error_format="json")
    assert code == 100
    assert rule_types(out) == {"MESSAGE_NO_DELETE"}


def test_an_empty_previous_folder_means_everything_is_new(tmp_path):
    previous = write_tree(tmp_path / "previous", {})
    current = write_tree(tmp_path / "current", {"a.proto": USER_V1})
    assert breaking(current, previous) == (0, "", "")


def test_hidden_folders_are_not_read(tmp_path):
    previous = write_tree(tmp_path / "previous", {"a.proto": USER_V1})
    current = write_tree(tmp_path / "current", {"a.proto": USER_V1, ".venv/broken.proto": "not protobuf at all"})
    assert folders.read_folder(current).keys() == {"a.proto"}
    assert breaking(current, previous) == (0, "", "")


# Choosing rules with flags


# A renamed field changes its JSON name as well.
RENAME_RULES = {"FIELD_SAME_NAME", "FIELD_SAME_JSON_NAME"}
RENAMED_AND_RETYPED = USER_V1.replace("string name = 1", "string full_name = 1").replace(
    "int32 age = 2", "string age = 2"
)


def test_the_wire_category_ignores_a_rename_that_file_reports(pair):
    current, previous = pair(USER_V1.replace("string name = 1", "string full_name = 1"))
    assert rule_types(breaking(current, previous, error_format="json")[1]) == RENAME_RULES
    assert breaking(current, previous, categories=["WIRE"]) == (0, "", "")


def test_categories_select_their_own_rules(pair):
    current, previous = pair(RENAMED_AND_RETYPED)
    code, out, _ = breaking(current, previous, categories=["WIRE"], error_format="json")
    assert code == 100
    assert rule_types(out) == {"FIELD_WIRE_COMPATIBLE_TYPE"}


def test_a_rule_flag_runs_only_that_rule(pair):
    current, previous = pair(RENAMED_AND_RETYPED)
    _, out, _ = breaking(current, previous, rules=["FIELD_SAME_NAME"], error_format="json")
    assert rule_types(out) == {"FIELD_SAME_NAME"}


def test_an_except_flag_drops_that_rule_from_the_default_file_category(pair):
    current, previous = pair(RENAMED_AND_RETYPED)
    _, out, _ = breaking(current, previous, except_=["FIELD_SAME_NAME"], error_format="json")
    assert rule_types(out) == {"FIELD_SAME_JSON_NAME", "FIELD_SAME_TYPE"}


def test_deprecated_rule_ids_report_under_their_replacements(pair):
    current, previous = pair(USER_V1.replace("int32 age = 2", "repeated int32 age = 2"))
    code, out, _ = breaking(current, previous, rules=["FIELD_SAME_LABEL"], error_format="json")
    assert code == 100
    types = rule_types(out)
    assert types and types <= set(DEPRECATED_RULE_IDS["FIELD_SAME_LABEL"])
    assert "FIELD_SAME_LABEL" not in out


# buf.yaml in the current folder


def test_buf_yaml_chooses_the_rules_when_no_flag_is_given(pair):
    current, previous = pair(
        USER_V1.replace("string name = 1", "string full_name = 1"),
        extra={"buf.yaml": "version: v1\nbreaking:\n  use: [WIRE]\n"},
    )
    assert breaking(current, previous) == (0, "", "")


def test_flags_replace_the_rules_of_buf_yaml(pair):
    current, previous = pair(
        USER_V1.replace("string name = 1", "string full_name = 1"),
        extra={"buf.yaml": "version: v1\nbreaking:\n  use: [WIRE]\n"},
    )
    code, out, _ = breaking(current, previous, categories=["FILE"], error_format="json")
    assert code == 100
    assert rule_types(out) == RENAME_RULES


@pytest.mark.parametrize(
    "config",
    [
        "version: v2\nbreaking:\n  use: [FILE]\n  except: [FIELD_SAME_NAME, FIELD_SAME_JSON_NAME]\n",
        "version: v1\nbreaking:\n  ignore_only:\n    FIELD_SAME_NAME:\n      - acme/users\n    FIELD_SAME_JSON_NAME:\n "
        "     - acme/users/v1/user.proto\n",
    ],
    ids=["except", "ignore_only by folder and by file"],
)
def test_buf_yaml_except_and_ignore_only_drop_the_rename_rules(pair, config):
    current, previous = pair(RENAMED_AND_RETYPED, extra={"buf.yaml": config})
    _, out, _ = breaking(current, previous, error_format="json")
    assert rule_types(out) == {"FIELD_SAME_TYPE"}


def test_deprecated_ids_in_buf_yaml_are_accepted(pair):
    config = "version: v1\nbreaking:\n  use: [FILE]\n  except: [FIELD_SAME_LABEL, FIELD_SAME_CTYPE]\n"
    current, previous = pair(USER_V1.replace("int32 age = 2", "repeated int32 age = 2"), extra={"buf.yaml": config})
    assert breaking(current, previous) == (0, "", "")


def test_buf_yaml_of_a_v2_root_module_is_honoured(pair):
    config = "version: v2\nmodules:\n  - path: .\n    breaking:\n      use: [WIRE]\nbreaking:\n  use: [FILE]\n"
    current, previous = pair(USER_V1.replace("string name = 1", "string full_name = 1"), extra={"buf.yaml": config})
    assert breaking(current, previous) == (0, "", "")


def test_buf_yaml_ignore_paths_drop_findings_under_them(tmp_path):
    files = {"acme/legacy/old.proto": USER_V1.replace("users", "legacy"), "acme/users/v1/user.proto": USER_V1}
    previous = write_tree(tmp_path / "previous", files)
    current = write_tree(
        tmp_path / "current",
        {path: text.replace("int32 age = 2", "string age = 2") for path, text in files.items()}
        | {"buf.yaml": "version: v1\nbreaking:\n  ignore:\n    - acme/legacy/\n"},
    )
    code, out, _ = breaking(current, previous, error_format="json")
    assert code == 100
    assert {f["path"] for f in json_lines(out)} == {"acme/users/v1/user.proto"}


def test_ignore_paths_still_apply_when_flags_choose_the_rules(pair):
    current, previous = pair(RENAMED_AND_RETYPED, extra={"buf.yaml": "version: v1\nbreaking:\n  ignore: [acme]\n"})
    assert breaking(current, previous, categories=["FILE"]) == (0, "", "")


@pytest.mark.parametrize("ignore", [True, False])
def test_ignore_unstable_packages_skips_only_alpha_beta_and_test_packages(tmp_path, ignore):
    packages = {
        "beta.proto": "acme.users.v1beta1",
        "alpha.proto": "acme.users.v1alpha",
        "test.proto": "acme.users.v1test",
        "stable.proto": "acme.users.v1",
    }
    texts = {path: USER_V1.replace("acme.users.v1", package) for path, package in packages.items()}
    previous = write_tree(tmp_path / "previous", texts)
    config = f"version: v1\nbreaking:\n  ignore_unstable_packages: {str(ignore).lower()}\n"
    current = write_tree(
        tmp_path / "current",
        {path: text.replace("int32 age = 2", "string age = 2") for path, text in texts.items()} | {"buf.yaml": config},
    )
    _, out, _ = breaking(current, previous, error_format="json")
    reported = {f["path"] for f in json_lines(out)}
    assert reported == ({"stable.proto"} if ignore else set(packages))


def test_a_file_leaving_an_unstable_package_is_skipped_as_well(pair):
    config = "version: v1\nbreaking:\n  ignore_unstable_packages: true\n"
    current, previous = pair(
        USER_V1, previous_text=USER_V1.replace("acme.users.v1", "acme.users.v1beta1"), extra={"buf.yaml": config}
    )
    assert breaking(current, previous) == (0, "", "")


@pytest.mark.parametrize(
    "package, unstable",
    [
        ("foo.v1beta1", True),
        ("foo.v1alpha", True),
        ("foo.v2alpha3", True),
        ("foo.v1test", True),
        ("foo.v1testing", True),
        ("foo.v1p1beta1", True),
        ("foo.v1", False),
        ("foo.v12", False),
        ("foo.beta", False),
        ("foo.v1.beta", False),
        ("foo.v0beta1", False),
        ("", False),
    ],
)
def test_unstable_packages_are_those_of_buf(package, unstable):
    assert bufconfig.is_unstable_package(package) is unstable


@pytest.mark.parametrize(
    "text, complaint",
    [
        ("version: v9\n", "unknown version"),
        ("version: v1\nbreaking: [FILE]\n", "must be a mapping"),
        ("version: v1\nbreaking:\n  use: FILE\n", "breaking.use"),
        ("version: v1\nbreaking:\n  ignore_unstable_packages: maybe\n", "ignore_unstable_packages"),
        ("version: v1\nbreaking: {use: [FILE]\n", "not valid YAML"),
    ],
)
def test_a_bad_buf_yaml_exits_1_and_says_what_is_wrong(pair, text, complaint):
    current, previous = pair(USER_V1, extra={"buf.yaml": text})
    code, out, err = breaking(current, previous)
    assert (code, out) == (1, "")
    assert complaint in err


# lint


BADLY_NAMED = """\
syntax = "proto3";
package acme.users.v1;

message user_record {
  string Name = 1;
}
"""


# buf's BASIC rules alone: the governance rules run under any `use` until `except` names them.
BASIC_ONLY = "version: v2\nlint:\n  use: [BASIC]\n  except: [GOVERNANCE]\n"


def test_lint_exits_0_on_a_clean_folder(tmp_path):
    folder = write_tree(tmp_path / "clean", {"acme/users/v1/user.proto": USER_V1, "buf.yaml": BASIC_ONLY})
    assert lint(folder) == (0, "", "")


def test_lint_exits_100_with_json_lines_for_findings(tmp_path):
    folder = write_tree(tmp_path / "bad", {"acme/users/v1/user.proto": BADLY_NAMED, "buf.yaml": BASIC_ONLY})
    code, out, err = lint(folder, error_format="json")
    assert (code, err) == (100, "")
    findings = json_lines(out)
    assert {f["type"] for f in findings} == {"MESSAGE_PASCAL_CASE", "FIELD_LOWER_SNAKE_CASE"}
    by_type = {f["type"]: f for f in findings}
    assert by_type["MESSAGE_PASCAL_CASE"]["path"] == "acme/users/v1/user.proto"
    assert by_type["MESSAGE_PASCAL_CASE"]["start_line"] == line_of(BADLY_NAMED, "message user_record")
    assert by_type["FIELD_LOWER_SNAKE_CASE"]["start_line"] == line_of(BADLY_NAMED, "string Name")
    assert by_type["MESSAGE_PASCAL_CASE"]["end_line"] == by_type["MESSAGE_PASCAL_CASE"]["start_line"]
    assert by_type["MESSAGE_PASCAL_CASE"]["end_column"] == len("message user_record") + 1
    assert all(
        list(f) == ["path", "start_line", "start_column", "end_line", "end_column", "type", "message"] for f in findings
    )


def test_lint_keeps_the_governance_rules_under_a_narrower_use_until_except_names_them(tmp_path):
    basic = "version: v2\nlint:\n  use: [BASIC]\n"
    folder = write_tree(tmp_path / "bad", {"acme/users/v1/user.proto": BADLY_NAMED, "buf.yaml": basic})
    code, out, _ = lint(folder, error_format="json")
    assert code == 100
    assert rule_types(out) == {"MESSAGE_PASCAL_CASE", "FIELD_LOWER_SNAKE_CASE", "FIELD_PII_ANNOTATED"}
    (folder / "buf.yaml").write_text(basic + "  except: [FIELD_PII_ANNOTATED]\n")
    assert rule_types(lint(folder, error_format="json")[1]) == {"MESSAGE_PASCAL_CASE", "FIELD_LOWER_SNAKE_CASE"}


def test_lint_honours_the_except_of_buf_yaml(tmp_path):
    config = "version: v1\nlint:\n  use: [BASIC]\n  except: [FIELD_LOWER_SNAKE_CASE, GOVERNANCE]\n"
    folder = write_tree(tmp_path / "bad", {"acme/users/v1/user.proto": BADLY_NAMED, "buf.yaml": config})
    code, out, _ = lint(folder, error_format="json")
    assert code == 100
    assert rule_types(out) == {"MESSAGE_PASCAL_CASE"}


# A folder carrying its own copy of a well-known file, as vendored trees and buf's test data do.

STRING_VIEW = """\
edition = "2023";

package acme.v1;

import "google/protobuf/cpp_features.proto";

message A {
  string text = 1 [features.(pb.cpp).string_type = VIEW];
}
"""


def vendored_tree(root: Path, text: str = STRING_VIEW) -> Path:
    from protoengine.compiler import well_known_include_dir

    features = (Path(well_known_include_dir()) / "google/protobuf/cpp_features.proto").read_text(encoding="utf-8")
    return write_tree(root, {"google/protobuf/cpp_features.proto": features, "acme/v1/a.proto": text})


def test_breaking_compiles_a_folder_with_its_own_cpp_features_proto(tmp_path):
    previous = vendored_tree(tmp_path / "previous")
    current = vendored_tree(tmp_path / "current", STRING_VIEW.replace("VIEW", "CORD"))
    code, out, err = breaking(current, previous, rules=["FIELD_SAME_CPP_STRING_TYPE"], error_format="json")
    assert (code, err) == (100, "")
    assert [(f["path"], f["type"]) for f in json_lines(out)] == [("acme/v1/a.proto", "FIELD_SAME_CPP_STRING_TYPE")]
    assert breaking(previous, previous) == (0, "", "")


def test_breaking_reports_changes_in_a_folder_s_own_copy_of_a_well_known_file_as_buf_does(tmp_path):
    previous = vendored_tree(tmp_path / "previous")
    current = vendored_tree(tmp_path / "current")
    copy = current / "google/protobuf/cpp_features.proto"
    copy.write_text(copy.read_text(encoding="utf-8").replace("enum_name_uses_string_view = 3", "renamed = 3"))
    code, out, err = breaking(current, previous, rules=["FIELD_SAME_NAME"], error_format="json")
    assert (code, err) == (100, "")
    assert [(f["path"], f["type"]) for f in json_lines(out)] == [
        ("google/protobuf/cpp_features.proto", "FIELD_SAME_NAME")
    ]
    # buf.yaml's `ignore: [google]` skips the copy, as it skips any folder.
    (current / "buf.yaml").write_text("version: v2\nbreaking:\n  use: [FIELD_SAME_NAME]\n  ignore: [google]\n")
    assert breaking(current, previous) == (0, "", "")


def test_lint_reports_a_folder_s_own_copy_of_a_well_known_file_as_buf_does(tmp_path):
    folder = vendored_tree(tmp_path / "vendored")
    code, out, err = lint(folder, error_format="json")
    assert (code, err) == (100, "")
    findings = json_lines(out)
    assert {f["path"] for f in findings} == {"google/protobuf/cpp_features.proto"}
    assert "PACKAGE_VERSION_SUFFIX" in rule_types(out)
    # The import serves a feature of the field's options, so it is used.
    (folder / "buf.yaml").write_text("version: v2\nlint:\n  ignore: [google]\n")
    assert lint(folder) == (0, "", "")


def test_lint_exits_1_on_a_compile_error(tmp_path):
    folder = write_tree(tmp_path / "broken", {"a.proto": 'syntax = "proto3";\nmessage A {\n'})
    code, out, err = lint(folder)
    assert (code, out) == (1, "")
    assert err.startswith("a.proto:")


def test_lint_of_the_bundled_catalogue_is_clean_under_its_buf_yaml():
    assert lint(CATALOGUE) == (0, "", "")


def test_the_catalogue_buf_yaml_is_what_keeps_its_flat_layout_clean(tmp_path):
    copy = shutil.copytree(CATALOGUE, tmp_path / "schemas", ignore=shutil.ignore_patterns("buf.yaml"))
    code, out, _ = lint(copy, error_format="json")
    assert code == 100
    assert "PACKAGE_DIRECTORY_MATCH" in rule_types(out)


def test_the_catalogue_has_no_breaking_change_against_itself():
    assert breaking(CATALOGUE, CATALOGUE) == (0, "", "")


# The command line itself, with and without Django


def test_main_parses_the_breaking_arguments(pair, capsys):
    current, previous = pair(RENAMED_AND_RETYPED)
    code = cli.main(
        ["breaking", str(current), "--against", str(previous), "--rule", "FIELD_SAME_NAME", "--error-format", "json"]
    )
    assert code == 100
    assert rule_types(capsys.readouterr().out) == {"FIELD_SAME_NAME"}


def test_main_rejects_an_unknown_category(pair, capsys):
    current, previous = pair(USER_V1)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["breaking", str(current), "--against", str(previous), "--category", "EVERYTHING"])
    assert exit_info.value.code == 2
    assert "EVERYTHING" in capsys.readouterr().err


def test_python_m_runs_without_django_settings_and_never_imports_django(pair):
    current, previous = pair(RENAMED_AND_RETYPED)
    script = (
        "import sys\n"
        "from protoengine import cli\n"
        f"code = cli.main(['breaking', {str(current)!r}, '--against', {str(previous)!r}, '--error-format', 'json'])\n"
        "assert 'django' not in sys.modules, 'the engine imported Django'\n"
        "sys.exit(code)\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 100, result.stderr
    assert rule_types(result.stdout) == RENAME_RULES | {"FIELD_SAME_TYPE"}


def test_python_m_schemas_app_protobuf_is_the_same_command(pair):
    current, previous = pair(USER_V1)
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "protoengine", "breaking", str(current), "--against", str(previous)],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_manage_py_breaking_exits_with_the_same_code_and_output(pair):
    current, previous = pair(RENAMED_AND_RETYPED)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "breaking",
            str(current),
            "--against",
            str(previous),
            "--except",
            "FIELD_SAME_TYPE",
            "--error-format",
            "json",
            stdout=out,
        )
    assert exit_info.value.code == 100
    assert rule_types(out.getvalue()) == RENAME_RULES
    assert out.getvalue() == breaking(current, previous, except_=["FIELD_SAME_TYPE"], error_format="json")[1]


def test_manage_py_breaking_returns_quietly_when_nothing_breaks(pair):
    current, previous = pair(USER_V1)
    out = io.StringIO()
    call_command("breaking", str(current), "--against", str(previous), stdout=out)
    assert out.getvalue() == ""


def test_manage_py_lint_reports_json_lines_and_exits_100(tmp_path):
    folder = write_tree(tmp_path / "bad", {"acme/users/v1/user.proto": BADLY_NAMED, "buf.yaml": BASIC_ONLY})
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("lint", str(folder), "--error-format", "json", stdout=out)
    assert exit_info.value.code == 100
    assert rule_types(out.getvalue()) == {"MESSAGE_PASCAL_CASE", "FIELD_LOWER_SNAKE_CASE"}


def test_manage_py_lint_of_the_catalogue_passes():
    out = io.StringIO()
    call_command("lint", str(CATALOGUE), stdout=out)
    assert out.getvalue() == ""
