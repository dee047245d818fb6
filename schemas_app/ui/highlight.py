"""Syntax highlighting of .proto text with Pygments, one escaped HTML string per line.

Lines are rendered separately (a block comment is split at its line ends) so that pages can number
them, anchor each one and line them up side by side in a diff.
"""

import difflib
from dataclasses import dataclass

from django.utils.html import escape
from pygments.lexers import ProtoBufLexer
from pygments.token import STANDARD_TYPES

_LEXER = ProtoBufLexer(stripnl=False, ensurenl=False)


def highlighted_lines(text: str) -> list[str]:
    """Return the text's lines as HTML: every character escaped, tokens wrapped in Pygments' short classes."""
    lines: list[list[str]] = [[]]
    for token_type, value in _LEXER.get_tokens(text):
        css = _css_class(token_type)
        for index, part in enumerate(value.split("\n")):
            if index:
                lines.append([])
            if part:
                lines[-1].append(f'<span class="{css}">{escape(part)}</span>' if css else escape(part))
    if text.endswith("\n") and len(lines) > 1 and not lines[-1]:
        lines.pop()
    return ["".join(parts) for parts in lines]


def _css_class(token_type) -> str:
    while token_type not in STANDARD_TYPES:
        token_type = token_type.parent
    return STANDARD_TYPES[token_type]


@dataclass(frozen=True)
class DiffRow:
    kind: str  # "same", "changed", "removed", "added"
    old_number: int | None
    old_html: str
    new_number: int | None
    new_html: str


def side_by_side(old_text: str, new_text: str) -> list[DiffRow]:
    """Return the rows of a side-by-side diff of two texts, each side highlighted."""
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    old_html, new_html = highlighted_lines(old_text), highlighted_lines(new_text)
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(
                DiffRow("same", i + 1, old_html[i], j + 1, new_html[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            old = i < i2
            new = j < j2
            kind = "changed" if old and new else ("removed" if old else "added")
            rows.append(
                DiffRow(
                    kind,
                    i + 1 if old else None,
                    old_html[i] if old else "",
                    j + 1 if new else None,
                    new_html[j] if new else "",
                )
            )
    return rows
