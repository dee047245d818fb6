"""bufconfig: the one reader of buf.yaml that breaking and lint settings both come from."""

import pytest

from protoengine import bufconfig
from protoengine.lint import LintConfig

WORKSPACE = {
    "version": "v2",
    "modules": [{"path": ".", "breaking": {"use": ["WIRE"]}, "lint": {"ignore": ["./legacy/"]}}, {"path": "vendor"}],
    "breaking": {"use": ["PACKAGE"], "ignore": ["old"]},
    "lint": {"ignore": ["other"]},
}


def test_breaking_and_lint_both_take_the_root_module_s_own_sections():
    assert bufconfig.breaking_settings(WORKSPACE).use == ("WIRE",)
    assert LintConfig.from_buf_yaml(WORKSPACE, module_path=bufconfig.root_module_path(WORKSPACE)).ignore == ("legacy",)


def test_a_module_without_its_own_section_takes_the_workspace_s():
    assert bufconfig.section(WORKSPACE, "breaking", "vendor") == {"use": ["PACKAGE"], "ignore": ["old"]}
    assert bufconfig.ignore_settings(bufconfig.section(WORKSPACE, "breaking"), "breaking").paths == ("old",)


def test_module_paths_are_made_relative_to_the_module():
    section = {"ignore": ["proto/a", "b"], "ignore_only": {"FILE": ["./proto/c.proto"]}}
    ignore = bufconfig.ignore_settings(section, "lint", "proto/")
    assert (ignore.paths, ignore.only) == (("a", "b"), {"FILE": ("c.proto",)})


@pytest.mark.parametrize(("path", "clean"), [("./a/b/", "a/b"), ("./", "."), ("", "."), (" x ", "x")])
def test_paths_are_cleaned_one_way(path, clean):
    assert bufconfig.clean_path(path) == clean


@pytest.mark.parametrize(
    ("document", "module_path", "message"),
    [
        ({"version": "v9"}, None, "unknown version 'v9'"),
        ({"version": "v1"}, "proto", "module_path is for v2"),
        ({"version": "v2", "modules": [{"path": "proto"}]}, "api", 'No module with path "api"'),
        ({"version": "v2", "lint": ["STANDARD"]}, None, "`lint:` must be a mapping"),
        ({"version": "v2", "lint": {"except": "FILE"}}, None, "`lint.except` must be a list of strings"),
    ],
)
def test_it_says_what_is_wrong_with_a_buf_yaml(document, module_path, message):
    with pytest.raises(bufconfig.BufConfigError, match=message):
        LintConfig.from_buf_yaml(document, module_path=module_path)
