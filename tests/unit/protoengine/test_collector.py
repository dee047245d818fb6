"""The cycle collector is paused for a lint run, and given back as it was found."""

import gc

import pytest

from protoengine.collector import without_cycle_collection
from protoengine.compiler import compile_sources
from protoengine.lint import LintConfig, lint


@without_cycle_collection
def _collector_state(fail: bool = False) -> bool:
    if fail:
        raise ValueError("failed")
    return gc.isenabled()


@pytest.fixture
def collector_enabled():
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_the_collector_is_off_while_the_pass_runs_and_on_again_after(collector_enabled):
    assert _collector_state() is False
    assert gc.isenabled()


def test_a_failing_pass_turns_the_collector_back_on(collector_enabled):
    with pytest.raises(ValueError):
        _collector_state(fail=True)
    assert gc.isenabled()


def test_a_collector_turned_off_before_the_pass_stays_off(collector_enabled):
    gc.disable()
    assert _collector_state() is False
    assert not gc.isenabled()


def test_a_lint_run_of_a_large_schema_starts_no_collection(collector_enabled):
    messages = "\n".join(
        f"message Entity{index} {{ {' '.join(f'string field_{number} = {number};' for number in range(1, 11))} }}"
        for index in range(200)
    )
    compiled = compile_sources({"big/v1/big.proto": f'syntax = "proto3";\npackage big.v1;\n{messages}\n'})
    started = []

    def record(phase, info):
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(record)
    try:
        lint(compiled, LintConfig(use=["STANDARD"]))
    finally:
        gc.callbacks.remove(record)
    assert started == []
