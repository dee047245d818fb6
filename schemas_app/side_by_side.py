"""Side-by-side diff of two schema texts, each side highlighted with Pygments and changed lines marked."""

import difflib

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import ProtoBufLexer

STYLE = "default"


def highlighted_lines(text: str) -> list[str]:
    """Return each line of a .proto text as highlighted HTML (Pygments closes its spans at line ends)."""
    if not text:
        return []
    html = highlight(text, ProtoBufLexer(), HtmlFormatter(nowrap=True, style=STYLE))
    lines = html.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def side_by_side(old: str, new: str) -> str:
    """Return an HTML table: old on the left, new on the right, removed/added/changed lines marked."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    old_html, new_html = highlighted_lines(old), highlighted_lines(new)
    rows = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        width = max(old_end - old_start, new_end - new_start)
        for offset in range(width):
            left = old_start + offset if old_start + offset < old_end else None
            right = new_start + offset if new_start + offset < new_end else None
            rows.append(_row(tag, left, old_html, right, new_html))
    # Pygments' own CSS and rows built with format_html (Pygments escapes the schema text).
    css = HtmlFormatter(style=STYLE).get_style_defs(".highlight")
    return format_html(
        "<style>{}{}</style><table class='side-by-side highlight'><thead><tr><th colspan='2'>{}</th>"
        "<th colspan='2'>{}</th></tr></thead><tbody>{}</tbody></table>",
        mark_safe(css),
        mark_safe(DIFF_CSS),
        "Current",
        "Proposed",
        mark_safe("".join(rows)),
    )


MARKS = {"equal": "", "replace": "changed", "delete": "removed", "insert": "added"}

DIFF_CSS = """
.side-by-side { border-collapse: collapse; font-family: monospace; font-size: 12px; width: 100%; }
.side-by-side td { padding: 0 6px; white-space: pre; vertical-align: top; }
.side-by-side td.number { color: #888; text-align: right; user-select: none; width: 3em; }
.side-by-side tr.changed td.code { background: #fff5b1; }
.side-by-side tr.removed td.old { background: #ffdce0; }
.side-by-side tr.added td.new { background: #cdffd8; }
"""


def _row(tag: str, left: int | None, old_html: list[str], right: int | None, new_html: list[str]) -> str:
    def cell(index, lines, side):
        if index is None:
            return format_html("<td class='number'></td><td class='code {}'></td>", side)
        return format_html(
            "<td class='number'>{}</td><td class='code {}'>{}</td>",
            index + 1,
            side,
            mark_safe(lines[index] if index < len(lines) else ""),
        )

    return format_html(
        "<tr class='{}'>{}{}</tr>", MARKS[tag], cell(left, old_html, "old"), cell(right, new_html, "new")
    )


def findings_table(findings: list[dict]) -> str:
    """Return findings (rule, file:line:column, message) as an HTML table, or "None"."""
    if not findings:
        return "None"
    rows = (
        (
            item.get("rule", ""),
            item.get("path", ""),
            item.get("line", 0),
            item.get("column", 0),
            item.get("message", ""),
        )
        for item in findings
    )
    return format_html(
        "<table class='findings'><thead><tr><th>Rule</th><th>Where</th><th>Message</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        format_html_join("", "<tr><td><code>{}</code></td><td>{}:{}:{}</td><td>{}</td></tr>", rows),
    )
