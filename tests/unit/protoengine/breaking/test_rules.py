"""Every breaking rule reports its change at the right place, and lets the compatible change through."""

import pytest

from protoengine.breaking import RULES, check
from protoengine.compiler import compile_sources

from .cases import CASES, Case, Sources


def compiled(sources: Sources):
    mapping = {"a.proto": sources} if isinstance(sources, str) else sources
    return compile_sources(mapping).own_files


def text_of(sources: Sources, path: str) -> str:
    return sources if isinstance(sources, str) else sources[path]


def where(text: str, snippet: str) -> tuple[int, int]:
    """Return the 1-based line and column where `snippet` first starts in `text`."""
    offset = text.index(snippet)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def expected_place(case: Case) -> tuple[str, int, int]:
    if case.at is None:
        return (case.path, 0, 0)
    return (case.path, *where(text_of(case.breaking, case.path), case.at))


def test_every_rule_has_a_case():
    assert sorted(case.rule for case in CASES) == sorted(RULES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.rule)
def test_the_rule_reports_the_breaking_change_with_file_line_and_column(case):
    findings = check(compiled(case.previous), compiled(case.breaking), [case.rule])
    assert [(f.rule, f.path, f.line, f.column) for f in findings] == [(case.rule, *expected_place(case))]
    assert findings[0].message.endswith(".")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.rule)
def test_the_rule_lets_the_compatible_change_through(case):
    previous, compatible = compiled(case.previous), compiled(case.compatible)
    assert compatible != previous, "the compatible case must change something"
    assert check(previous, compatible, [case.rule]) == []


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.rule)
def test_the_rule_finds_nothing_between_a_schema_and_itself(case):
    files = compiled(case.previous)
    assert check(files, files, [case.rule]) == []
