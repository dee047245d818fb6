"""Counts kept by the hostile-input suites: inputs tried per class and the answers they got.

`python tests/performance/hostile_report.py` runs the suites with HOSTILE_INPUT_REPORT set and
writes the counts into tests/performance/results/hostile-input.md.
"""

import json
import os
from collections import Counter, defaultdict

_tried: dict[str, Counter] = defaultdict(Counter)
_outcomes: dict[str, Counter] = defaultdict(Counter)


def record(suite: str, input_class: str, outcome) -> None:
    """Count one input of `input_class` tried by `suite`, and what it got (an HTTP status or an engine result)."""
    _tried[suite][input_class] += 1
    _outcomes[suite][str(outcome)] += 1


def write_if_asked() -> None:
    path = os.environ.get("HOSTILE_INPUT_REPORT")
    if not path:
        return
    existing = {}
    if os.path.exists(path) and os.path.getsize(path):
        with open(path) as previous:
            existing = json.load(previous)
    for suite in _tried:
        entry = existing.setdefault(suite, {"classes": {}, "outcomes": {}})
        for name, count in _tried[suite].items():
            entry["classes"][name] = entry["classes"].get(name, 0) + count
        for name, count in _outcomes[suite].items():
            entry["outcomes"][name] = entry["outcomes"].get(name, 0) + count
    with open(path, "w") as out:
        json.dump(existing, out, indent=2, sort_keys=True)
