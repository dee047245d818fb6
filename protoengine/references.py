"""Follow schema references transitively: the one resolver the registry and the deploy planner share."""

from collections.abc import Callable, Iterable
from typing import NamedTuple


class Ref(NamedTuple):
    """An import of a schema: `name` is the import path, pinned to `subject` at `version`."""

    name: str
    subject: str
    version: int


class ReferenceCycle(ValueError):
    """A reference leads back to a subject version already being resolved."""

    def __init__(self, subject: str, version: int):
        self.subject, self.version = subject, version
        super().__init__(f"Reference cycle through subject {subject!r} version {version}")


# Given one reference, return the referenced text and that version's own references.
Fetch = Callable[[Ref], tuple[str, Iterable[Ref]]]


def resolve_references(references: Iterable[Ref], fetch: Fetch) -> dict[str, str]:
    """Return {import path: text} for the references and, recursively, theirs; ReferenceCycle on a loop."""
    return _resolve(references, fetch, frozenset())


def _resolve(references: Iterable[Ref], fetch: Fetch, seen: frozenset) -> dict[str, str]:
    sources: dict[str, str] = {}
    for reference in references:
        key = (reference.subject, reference.version)
        if key in seen:
            raise ReferenceCycle(*key)
        text, nested = fetch(reference)
        sources[reference.name] = text
        sources.update(_resolve(nested, fetch, seen | {key}))
    return sources
