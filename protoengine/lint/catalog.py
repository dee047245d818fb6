"""The one table of lint rules, and the categories that name groups of them."""

from collections.abc import Iterable

from protoengine.lint.file_rules import FILE_RULES, PACKAGE_AFFINITY
from protoengine.lint.governance import GOVERNANCE, GOVERNANCE_RULES
from protoengine.lint.model import LintRule
from protoengine.lint.rules import BASIC, COMMENTS, MINIMAL, STANDARD, STYLE_RULES, UNARY_RPC

LINT_RULES: dict[str, LintRule] = {
    rule.id: rule for rule in sorted((*FILE_RULES, *STYLE_RULES, *GOVERNANCE_RULES), key=lambda rule: rule.id)
}
CATEGORIES = (MINIMAL, BASIC, STANDARD, COMMENTS, UNARY_RPC, PACKAGE_AFFINITY, GOVERNANCE)
# buf renamed DEFAULT to STANDARD in v1.40 and still accepts the old name.
CATEGORY_ALIASES = {"DEFAULT": STANDARD}
# buf rules we accept in a configuration but do not run: the registry does not use protovalidate.
NOT_RUN = frozenset({"PROTOVALIDATE"})


def expand(ids: Iterable[str], setting: str = "use") -> frozenset[str]:
    """Return the rule ids that rule ids and category names stand for; ValueError for an unknown name."""
    found: set[str] = set()
    for name in ids:
        name = CATEGORY_ALIASES.get(name, name)
        if name in LINT_RULES:
            found.add(name)
        elif name in CATEGORIES:
            found.update(rule.id for rule in LINT_RULES.values() if name in rule.categories)
        elif name not in NOT_RUN:
            raise ValueError(
                f'Unknown lint rule or category "{name}" in "{setting}": use a rule id such as '
                f'"FIELD_LOWER_SNAKE_CASE" or one of the categories {", ".join(CATEGORIES)}.'
            )
    return frozenset(found)


def rules_of_category(category: str) -> list[str]:
    """Return the ids of a category's rules, sorted."""
    return sorted(expand([category]))
