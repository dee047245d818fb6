"""One comparison per new version: the level's findings and the semantic version's verdict come from one pass."""

import pytest

from protoengine import semver
from protoengine.compatibility import LEVELS, RULE_SETS, check_compatibility, check_new_version
from protoengine.compiler import compile_sources
from tests.compatibility.test_levels import BUY_RESERVED, NOTE_RESERVED, ORDER, QTY_UNSIGNED


def compiled(text: str):
    return compile_sources({"trading/v1/order.proto": text})


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("rule_set", RULE_SETS)
@pytest.mark.parametrize("text", [NOTE_RESERVED, BUY_RESERVED, QTY_UNSIGNED, ORDER])
def test_it_finds_what_the_level_check_and_the_semantic_version_find_separately(level, rule_set, text):
    history = [compiled(ORDER), compiled(NOTE_RESERVED)]
    current = compiled(text)
    check = check_new_version(current, history, level=level, rule_set=rule_set)
    own = [version.own_files for version in history]
    assert check.findings == check_compatibility(current.own_files, own, level=level, rule_set=rule_set)
    assert semver.classify_change(history[-1], current, breaks=check.breaks_latest) == semver.classify_change(
        own[-1], current.own_files, rule_set=rule_set
    )


def test_a_change_only_old_readers_notice_is_major_even_where_the_level_looks_one_way():
    check = check_new_version(compiled(NOTE_RESERVED), [compiled(ORDER)], level="BACKWARD")
    assert check.findings == []
    assert check.breaks_latest
    assert semver.classify_change(compiled(ORDER), compiled(NOTE_RESERVED), breaks=check.breaks_latest) == "MAJOR"


def test_a_level_of_none_finds_nothing_but_still_tells_whether_the_latest_breaks():
    check = check_new_version(compiled(QTY_UNSIGNED), [compiled(ORDER)], level="NONE")
    assert check.findings == []
    assert check.breaks_latest


def test_a_first_version_breaks_nothing():
    check = check_new_version(compiled(ORDER), [], level="FULL_TRANSITIVE")
    assert (check.findings, check.breaks_latest) == ([], False)


def test_a_compiled_set_keeps_its_model_so_an_earlier_version_is_indexed_once():
    earlier = compiled(ORDER)
    check_new_version(compiled(NOTE_RESERVED), [earlier], level="FULL")
    index = earlier.model.breaking
    check_new_version(compiled(QTY_UNSIGNED), [earlier], level="FULL")
    assert earlier.model.breaking is index
