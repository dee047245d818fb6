"""Detect breaking changes between two sets of .proto files, with buf's rule ids and categories.

    findings = check(previous, current, rule_ids=["WIRE_JSON"])  # two compiled sets

Types are matched by fully qualified name across the whole set, so moving a message
to another file is seen as a move (FILE category) rather than a deletion everywhere.
Each rule is one function in rules.py and one row of RULES; the pairs it looks at
come from pairs.py. Findings carry the rule id, the file, the 1-based start and end
line and column in the current file, as buf reports them, and buf's sentence.
"""

from collections.abc import Iterable, Sequence

from google.protobuf.descriptor_pb2 import FileDescriptorProto

from protoengine.breaking.config import CATEGORIES, DEPRECATED_RULE_IDS, resolve_rule_ids, rule_ids_in
from protoengine.breaking.pairs import Comparison, Schema
from protoengine.breaking.rules import RULES, Rule
from protoengine.findings import IN_ORDER, Finding
from protoengine.model import model_of

__all__ = [
    "CATEGORIES",
    "DEPRECATED_RULE_IDS",
    "RULES",
    "Rule",
    "Schema",
    "check",
    "compare",
    "resolve_rule_ids",
    "rule_ids_in",
]


def check(
    previous: Sequence[FileDescriptorProto],
    current: Sequence[FileDescriptorProto],
    rule_ids: Iterable[str] | None = None,
) -> list[Finding]:
    """Return the breaking changes from `previous` to `current`, sorted by path, line and column.

    Each side is a sequence of files or a compiled set, whose model keeps the index.
    `rule_ids` may name rules, categories or deprecated rule ids; None means buf's
    default, the FILE category. Google's well-known types are ignored if present, except a
    compiled set's own copy of one (a vendored file), which buf compares like any other file.
    """
    selected = resolve_rule_ids() if rule_ids is None else resolve_rule_ids(rule_ids)
    return compare(model_of(previous).breaking, model_of(current).breaking, selected)


def compare(previous: Schema, current: Schema, rule_ids: frozenset[str]) -> list[Finding]:
    """Return the breaking changes between two indexed sets, for resolved rule ids.

    An index can be reused: checking one version against several earlier ones
    indexes it, and reads its source positions, once.
    """
    comparison = Comparison(previous, current)
    findings = set()
    for rule in RULES.values():
        if rule.id in rule_ids:
            for pair in comparison.pairs(rule.over):
                for (path, line, column, end_line, end_column), message in rule.function(*pair):
                    findings.add(Finding(path, line, column, rule.id, message, None, end_line, end_column))
    return sorted(findings, key=IN_ORDER)
