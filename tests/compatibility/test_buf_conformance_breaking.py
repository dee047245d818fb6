"""The engine's breaking findings equal the buf binary's, field for field, on the same folders.

Both run on one previous/current pair of folders with one buf.yaml: buf as `buf breaking CURRENT --against
PREVIOUS --error-format=json`, the engine through its buf-compatible command line. Their JSON findings (rule id,
path, start and end line and column, message) must be the same list. The pairs are every rule's failing and
passing case from the unit fixtures, the hand-written trees under buf_fixtures/breaking/, and schema pairs that
hypothesis generates and mutates.
"""

import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

from protoengine import cli
from protoengine.breaking import RULES
from protoengine.compiler import CompilationFailed, compile_sources
from tests.compatibility.buf_binary import MISSING_BUF, buf_available, run_buf_breaking
from tests.compatibility.schema_pairs import schema_pairs
from tests.unit.protoengine.breaking.cases import CASES

pytestmark = pytest.mark.skipif(not buf_available(), reason=MISSING_BUF)

FIXTURES = Path(__file__).parent / "buf_fixtures" / "breaking"
EVERY_CATEGORY = ["FILE", "PACKAGE", "WIRE_JSON", "WIRE"]


def engine_breaking(previous: Path, current: Path) -> list[dict]:
    """Return the engine's findings in buf's JSON shape, paths relative to `current`."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.run_breaking(current, previous, error_format="json", out=out, err=err)
    assert code in (cli.EXIT_OK, cli.EXIT_FINDINGS), err.getvalue()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def in_order(findings: list[dict]) -> list[dict]:
    return sorted(findings, key=lambda f: json.dumps(f, sort_keys=True))


def write_tree(root: Path, sources: str | dict[str, str], use: list[str]) -> Path:
    files = {"a.proto": sources} if isinstance(sources, str) else sources
    shutil.rmtree(root, ignore_errors=True)
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    (root / "buf.yaml").write_text(f"version: v2\nbreaking:\n  use: [{', '.join(use)}]\n")
    return root


def assert_same_findings(previous: Path, current: Path) -> list[dict]:
    ours, bufs = in_order(engine_breaking(previous, current)), in_order(run_buf_breaking(previous, current))
    assert ours == bufs
    return bufs


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.rule)
@pytest.mark.parametrize("side", ["breaking", "compatible"])
def test_every_rules_unit_case_finds_what_buf_finds(case, side, tmp_path):
    previous = write_tree(tmp_path / "previous", case.previous, [case.rule])
    current = write_tree(tmp_path / "current", getattr(case, side), [case.rule])

    found = assert_same_findings(previous, current)

    assert {finding["type"] for finding in found} == ({case.rule} if side == "breaking" else set())


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.rule)
def test_every_rules_breaking_case_finds_what_buf_finds_under_every_category(case, tmp_path):
    previous = write_tree(tmp_path / "previous", case.previous, EVERY_CATEGORY)
    current = write_tree(tmp_path / "current", case.breaking, EVERY_CATEGORY)

    assert_same_findings(previous, current)


FIXTURE_TREES = sorted(path.name for path in FIXTURES.iterdir() if path.is_dir()) if FIXTURES.is_dir() else []


@pytest.mark.parametrize("name", FIXTURE_TREES)
def test_hand_written_tree_finds_what_buf_finds(name):
    """Each tree's current/buf.yaml names its rules; expected.json is what buf 1.75.0 printed for it."""
    tree = FIXTURES / name
    found = assert_same_findings(tree / "previous", tree / "current")

    assert in_order(found) == in_order(json.loads((tree / "expected.json").read_text()))


def test_the_fixture_trees_cover_every_rule():
    covered = {
        finding["type"]
        for name in FIXTURE_TREES
        for finding in json.loads((FIXTURES / name / "expected.json").read_text())
    }
    covered |= {case.rule for case in CASES}
    assert covered >= set(RULES)


def compiles(files: dict[str, str]) -> bool:
    try:
        compile_sources(files)
    except CompilationFailed:
        return False
    return True


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
@given(pair=schema_pairs())
def test_generated_schema_pairs_find_what_buf_finds(pair, tmp_path_factory):
    previous_files, current_files = pair
    assume(compiles(previous_files) and compiles(current_files))
    root = tmp_path_factory.mktemp("pair")
    previous = write_tree(root / "previous", previous_files, EVERY_CATEGORY)
    current = write_tree(root / "current", current_files, EVERY_CATEGORY)

    assert_same_findings(previous, current)
