"""Read what comments say to the linter: ignore directives and documentation."""

import re

# `// lint:ignore RULE_ID` is ours, `// buf:lint:ignore RULE_ID` is buf's; both silence one rule.
IGNORE_PREFIXES = ("buf:lint:ignore", "lint:ignore")
# What every directive contains, as the serialized source info stores it: a file without it silences nothing.
IGNORE_MARK = b"lint:ignore"
assert all(IGNORE_MARK.decode() in prefix for prefix in IGNORE_PREFIXES)
_DEPRECATED = re.compile(r"^\s*deprecated\b|@deprecated\b|\bdeprecated:", re.IGNORECASE | re.MULTILINE)


def ignored_rules(comment: str) -> set[str]:
    """Return the rule ids a comment silences: the first word after each ignore directive."""
    rules = set()
    for line in comment.splitlines():
        line = line.strip().lstrip("*/ ").strip()
        for prefix in IGNORE_PREFIXES:
            if line.startswith(prefix):
                words = line[len(prefix) :].split()
                if words and line[len(prefix)] in " \t":
                    rules.add(words[0])
                break
    return rules


def is_directive(line: str) -> bool:
    return line.strip().startswith(IGNORE_PREFIXES)


def has_documentation(comment: str) -> bool:
    """Return True when a comment has at least one line that is neither blank nor an ignore directive."""
    return any(line.strip() and not is_directive(line) for line in comment.splitlines())


def says_deprecated(comment: str) -> bool:
    """Return True for comments such as "Deprecated: use x.", "DEPRECATED." or "@deprecated"."""
    return _DEPRECATED.search(comment) is not None
