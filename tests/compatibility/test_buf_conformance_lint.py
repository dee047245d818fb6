"""The engine's lint agrees with the `buf` binary, finding for finding, to the column where a span ends.

buf and the engine's command line lint the same folders, hand-written (lint_trees.py, which between them
trigger every buf rule the engine implements) and generated (proto_trees.py), under one buf.yaml that
switches on exactly those rules. Every finding is compared on path, start and end line and column, rule id
and message. The governance rules are the registry's own, so their findings are left out of the comparison.
"""

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from protoengine import cli
from protoengine.compiler import well_known_include_dir
from protoengine.lint.catalog import LINT_RULES
from protoengine.lint.governance import GOVERNANCE
from tests.compatibility.buf_binary import MISSING_BUF, buf_available, run_buf_lint
from tests.compatibility.lint_trees import TREES
from tests.compatibility.proto_trees import proto_trees

pytestmark = pytest.mark.skipif(not buf_available(), reason=MISSING_BUF)

# The rules buf 1.75 runs that the engine implements: not ours, not IMPORT_NO_WEAK (deprecated in buf, no category).
BUF_RULES = sorted(
    rule_id for rule_id, rule in LINT_RULES.items() if rule.categories and GOVERNANCE not in rule.categories
)
BUF_YAML = json.dumps({"version": "v2", "lint": {"use": BUF_RULES}})
# buf's own defaults (STANDARD, comment ignores on), and a v1 file (comment ignores off) asking for BASIC.
DEFAULTS = json.dumps({"version": "v2"})
V1_BASIC = json.dumps({"version": "v1", "lint": {"use": ["BASIC"]}})
KEYS = ("path", "start_line", "start_column", "end_line", "end_column", "type", "message")
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write_tree(root: Path, tree: dict[str, str | None], buf_yaml: str = BUF_YAML) -> Path:
    """Write the tree and a buf.yaml; a None text stands for a copy of the bundled well-known file."""
    for path, text in tree.items():
        if text is None:
            text = (Path(well_known_include_dir()) / path).read_text(encoding="utf-8")
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (root / "buf.yaml").write_text(buf_yaml, encoding="utf-8")
    return root


def engine_lint(root: Path) -> list[dict]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run_lint(root, error_format="json", out=out, err=err)
    assert code in (cli.EXIT_OK, cli.EXIT_FINDINGS), err.getvalue()
    findings = [json.loads(line) for line in out.getvalue().splitlines()]
    return [finding for finding in findings if finding["type"] in BUF_RULES]


def comparable(findings: list[dict]) -> list[tuple]:
    return sorted(tuple(finding.get(key) for key in KEYS) for finding in findings)


def assert_same_findings(root: Path) -> list[dict]:
    found_by_buf = run_buf_lint(root)
    assert [f for f in found_by_buf if f["type"] not in BUF_RULES] == [], "buf did not compile the tree"
    assert comparable(engine_lint(root)) == comparable(found_by_buf)
    return found_by_buf


@pytest.mark.parametrize("name", sorted(TREES))
def test_the_engine_reports_what_buf_reports_on_a_hand_written_tree(tmp_path, name):
    assert assert_same_findings(write_tree(tmp_path, TREES[name])), f"the tree {name!r} triggers no rule"


@pytest.mark.parametrize("buf_yaml", [DEFAULTS, V1_BASIC], ids=["v2 defaults", "v1 BASIC"])
def test_the_engine_reads_buf_yaml_as_buf_does(tmp_path, buf_yaml):
    for name, tree in TREES.items():
        assert_same_findings(write_tree(tmp_path / name, tree, buf_yaml))


def test_the_hand_written_trees_trigger_every_buf_rule_the_engine_implements(tmp_path):
    triggered = set()
    for name, tree in TREES.items():
        triggered |= {finding["type"] for finding in run_buf_lint(write_tree(tmp_path / name, tree))}
    assert triggered == set(BUF_RULES)


@EXAMPLES
@given(tree=proto_trees())
def test_the_engine_reports_what_buf_reports_on_generated_trees(tmp_path_factory, tree):
    assert_same_findings(write_tree(tmp_path_factory.mktemp("tree"), tree))
