"""Turn a user's `use` and `except` lists (buf.yaml style) into the set of rule ids to run."""

import difflib
from collections.abc import Iterable

from protoengine.breaking.rules import FILE, PACKAGE, RULES, WIRE, WIRE_JSON

# From strictest to most lenient: whatever breaks WIRE also breaks WIRE_JSON, PACKAGE and FILE.
CATEGORIES = (FILE, PACKAGE, WIRE_JSON, WIRE)

# buf's retired rule ids, still found in users' configs, and the rules that now do their job.
# An empty list means the check no longer exists (the option it guarded left descriptor.proto,
# or buf made the rule a no-op); such ids are accepted and select nothing.
DEPRECATED_RULE_IDS: dict[str, list[str]] = {
    "FIELD_SAME_CTYPE": ["FIELD_SAME_CPP_STRING_TYPE"],
    "FIELD_SAME_LABEL": [
        "FIELD_SAME_CARDINALITY",
        "FIELD_WIRE_COMPATIBLE_CARDINALITY",
        "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY",
    ],
    "FILE_SAME_JAVA_STRING_CHECK_UTF8": ["FIELD_SAME_JAVA_UTF8_VALIDATION"],
    "FILE_SAME_PHP_GENERIC_SERVICES": [],
    "MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT": [],
}


def resolve_rule_ids(use: Iterable[str] = (FILE,), except_: Iterable[str] = ()) -> frozenset[str]:
    """Return the rule ids selected by `use` minus those selected by `except_`.

    Both accept category names, rule ids and buf's deprecated rule ids (which stand
    for their replacements). An unknown name raises ValueError saying what is valid.
    """
    if isinstance(use, str) or isinstance(except_, str):
        raise ValueError('Pass lists of names, for example use=["FILE"], not a single string.')
    return frozenset(_expand(use)) - frozenset(_expand(except_))


def rule_ids_in(category: str) -> frozenset[str]:
    """Return the ids of the rules in one category."""
    return frozenset(rule.id for rule in RULES.values() if category in rule.categories)


def _expand(names: Iterable[str]) -> set[str]:
    selected: set[str] = set()
    for raw in names:
        name = str(raw).strip().upper()
        if name in CATEGORIES:
            selected |= rule_ids_in(name)
        elif name in RULES:
            selected.add(name)
        elif name in DEPRECATED_RULE_IDS:
            selected.update(DEPRECATED_RULE_IDS[name])
        else:
            raise ValueError(_unknown(raw))
    return selected


def _unknown(name: str) -> str:
    known = [*CATEGORIES, *RULES, *DEPRECATED_RULE_IDS]
    close = difflib.get_close_matches(str(name).strip().upper(), known, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return (
        f'Unknown breaking rule or category "{name}".{hint} Use a category ({", ".join(CATEGORIES)}) or a rule id '
        "such as FIELD_NO_DELETE."
    )
