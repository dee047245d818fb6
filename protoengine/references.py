"""Follow schema references transitively: the one resolver the registry and the deploy planner share."""

from collections.abc import Callable, Iterable
from typing import NamedTuple


class Ref(NamedTuple):
    """An import of a schema: `name` is the import path, pinned to `subject` at `version`."""

    name: str
    subject: str
    version: int


class ReferenceCycle(ValueError):
    """A reference leads back to a subject version already being resolved, or to the schema being registered."""

    def __init__(self, subject: str, version: int, chain: tuple[str, ...] = ()):
        self.subject, self.version, self.chain = subject, version, chain
        where = " -> ".join(chain) if chain else f"subject {subject!r} version {version}"
        super().__init__(f"Reference cycle through {where}")


class ReferenceLimit(ValueError):
    """The references nest deeper, or bring more files, than the caller allows."""


# Given one reference, return the referenced text and that version's own references.
Fetch = Callable[[Ref], tuple[str, Iterable[Ref]]]


def resolve_references(
    references: Iterable[Ref],
    fetch: Fetch,
    *,
    root: tuple[str, str] | None = None,
    max_depth: int | None = None,
    max_files: int | None = None,
) -> dict[str, str]:
    """Return {import path: text} for the references and, recursively, theirs.

    `root` is the (subject, import path) of the schema the references belong to: a reference back to
    it is a cycle too, and `ReferenceCycle.chain` names the subjects along it. Each subject version is
    fetched once however many paths lead to it. Raises ReferenceLimit past `max_depth` levels or
    `max_files` files.
    """
    sources: dict[str, str] = {}
    fetched: set[tuple[str, int]] = set()

    def visit(references: Iterable[Ref], chain: tuple[str, ...], stack: frozenset, depth: int) -> None:
        for reference in references:
            key = (reference.subject, reference.version)
            back_to_root = root is not None and (reference.subject in chain or reference.name == root[1])
            if back_to_root or key in stack:
                raise ReferenceCycle(reference.subject, reference.version, (*chain, reference.subject) if root else ())
            if max_depth is not None and depth > max_depth:
                path = " -> ".join((*chain, reference.subject))
                raise ReferenceLimit(f"references nest deeper than {max_depth} levels ({path})")
            if key in fetched:
                continue
            text, nested = fetch(reference)
            fetched.add(key)
            sources[reference.name] = text
            if max_files is not None and len(sources) > max_files:
                raise ReferenceLimit(f"imports more than {max_files} files through references")
            visit(nested, (*chain, reference.subject), stack | {key}, depth + 1)

    visit(references, (root[0],) if root else (), frozenset(), 1)
    return sources
