"""What lint rules are handed and what they return: the rule table's row, problems, elements by kind.

Rules never walk descriptors themselves: the engine hands each rule one element
of the kind it declares (a field, an enum value, a method...), buf's way. The
elements are the compiled set's own (protoengine.model), the very objects
breaking and Confluent's SchemaDiff read, built once per set and kept with it.
Every element knows its file, its source path (for line and column) and its
`parent`, the element whose `// lint:ignore` comments also apply to it (a
field's message, an enum value's enum, a method's service; the file for a
top-level declaration, whose path is empty).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from protoengine.model import FileElement


@dataclass(frozen=True)
class Problem:
    """What a rule found: the element it is about, buf-voiced text, and the source path to point at."""

    element: object
    message: str
    at: tuple[int, ...] | None = None

    @property
    def source_path(self) -> tuple[int, ...]:
        return self.element.path if self.at is None else self.at


# What a check returns: nothing, one problem, or several.
CheckResult = Problem | Iterable[Problem] | None


@dataclass(frozen=True)
class LintRule:
    """One row of the rule table: an id, what it is for, its categories, and the check.

    `scope` names what the check is handed: an element kind ("field", "message",
    "enum", "enum_value", "oneof", "service", "method", "import", "file") or
    "files" for rules that compare files with each other; `check(element, config)`
    or `check(files, config)` returns None, a Problem or an iterable of Problems.
    """

    id: str
    purpose: str
    categories: tuple[str, ...]
    scope: str
    check: Callable[..., CheckResult]
    # A cheap test of a whole file; when it says no, the check never sees the file's elements.
    applies: Callable[[FileElement], bool] | None = None


def elements_of(file: FileElement, scope: str) -> Iterable:
    """Return the elements of one kind in the file (nested ones included), in declaration order."""
    if scope == "file":
        return (file,)
    if scope == "import":
        return file.imports
    return getattr(file.contents, _SCOPE_LISTS[scope])


_SCOPE_LISTS = {
    "message": "messages",
    "field": "fields",
    "oneof": "oneofs",
    "enum": "enums",
    "enum_value": "enum_values",
    "service": "services",
    "method": "methods",
}


def problems(result: CheckResult) -> Iterable[Problem]:
    """Return a check's result as an iterable of Problems."""
    if result is None:
        return ()
    if isinstance(result, Problem):
        return (result,)
    return result
