"""The buf binary helper runs the real buf on local folders and hands back its JSON findings."""

import pytest

from tests.compatibility.buf_binary import BUF_VERSION, MISSING_BUF, buf_available, run_buf_breaking, run_buf_lint

pytestmark = pytest.mark.skipif(not buf_available(), reason=MISSING_BUF)

BUF_YAML = "version: v2\nbreaking:\n  use: [FILE]\nlint:\n  use: [STANDARD]\n"
OLD = 'syntax = "proto3";\npackage shop.v1;\n\nmessage Order {\n  string id = 1;\n  int32 qty = 2;\n}\n'
NEW = 'syntax = "proto3";\npackage shop.v1;\n\nmessage Order {\n  string id = 1;\n}\n'


def write_tree(root, text):
    (root / "shop" / "v1").mkdir(parents=True)
    (root / "shop" / "v1" / "order.proto").write_text(text)
    (root / "buf.yaml").write_text(BUF_YAML)
    return root


def test_breaking_reports_a_deleted_field_at_its_message_with_a_path_relative_to_the_new_folder(tmp_path):
    old, new = write_tree(tmp_path / "old", OLD), write_tree(tmp_path / "new", NEW)

    assert run_buf_breaking(old, new) == [
        {
            "path": "shop/v1/order.proto",
            "start_line": 4,
            "start_column": 1,
            "end_line": 6,
            "end_column": 2,
            "type": "FIELD_NO_DELETE",
            "message": 'Previously present field "2" with name "qty" on message "Order" was deleted.',
        }
    ]


def test_breaking_finds_nothing_between_equal_trees(tmp_path):
    assert run_buf_breaking(write_tree(tmp_path / "old", OLD), write_tree(tmp_path / "new", OLD)) == []


def test_lint_takes_the_config_it_is_given_over_the_folders_buf_yaml(tmp_path):
    tree = write_tree(tmp_path / "tree", OLD.replace("message Order", "message order"))

    standard = {finding["type"] for finding in run_buf_lint(tree)}
    only_comments = run_buf_lint(tree, {"version": "v2", "lint": {"use": ["COMMENT_MESSAGE"]}})

    assert "MESSAGE_PASCAL_CASE" in standard
    assert [finding["type"] for finding in only_comments] == ["COMMENT_MESSAGE"]
    assert only_comments[0]["message"] == 'Message "order" should have a non-empty comment for documentation.'


def test_the_installed_binary_is_the_pinned_version():
    import subprocess

    from tests.compatibility.buf_binary import BUF

    assert subprocess.run([str(BUF), "--version"], capture_output=True, text=True).stdout.strip() == BUF_VERSION
