"""Compile what Confluent's registry accepts and protoc refuses, for the CONFLUENT rule set (the migration mode).

Confluent parses schemas with Wire and, with its default `schema.validate.fields=false`,
resolves type names across every given reference whatever the file's import
statements name, and keeps custom options whose extension it cannot resolve. protoc
refuses both. `compile_leniently` gives protoc a relaxed copy of the text:

- imports of files that are neither given nor well-known are blanked out;
- imports of the given files that the text does not name are appended (and dropped
  again when protoc says they are unused);
- custom options protoc reports as unknown are blanked out, statement or list item.

Blanking replaces characters by spaces, so every line and column of the relaxed copy
is that of the original, and lint findings point into the text the client sent. Each
error protoc reported for the original becomes a PROTOC_REFUSES finding that says why
the schema would fail protoc.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from protoengine.compiler import CompilationFailed, CompiledFiles, compile_one, is_well_known
from protoengine.findings import Finding

RULE = "PROTOC_REFUSES"
# protoc reports each unknown custom option once per compile; more rounds catch options it reaches later.
MAX_ROUNDS = 5

_IMPORT = re.compile(r'\bimport\s+(?:public\s+|weak\s+|option\s+)?"(?P<name>[^"\n]*)"\s*;')
_UNKNOWN_OPTION = re.compile(r'^Option "\((?P<name>[^"]+)\)[^"]*" unknown\.')
_UNUSED_IMPORT = re.compile(r"^Import (?P<name>\S+) is unused\.$")


@dataclass(frozen=True)
class LenientCompile:
    """The compiled relaxed copy of a schema, and why protoc refuses the original (empty when it does not)."""

    compiled: CompiledFiles
    findings: tuple[Finding, ...] = ()


def compile_leniently(path: str, text: str, dependencies: Mapping[str, str]) -> LenientCompile:
    """Compile `text` as Confluent would accept it; raise protoc's CompilationFailed for anything else.

    Text protoc accepts compiles unchanged, without findings.
    """
    try:
        return LenientCompile(compile_one(path, text, dependencies))
    except CompilationFailed as refused:
        strict = refused
    refusals = list(strict.errors)
    relaxed, added = _relaxed_imports(text, dependencies)
    for _ in range(MAX_ROUNDS):
        try:
            compiled = compile_one(path, relaxed + "".join(f'import "{name}";\n' for name in added), dependencies)
        except CompilationFailed as error:
            spans = [
                span
                for finding in error.errors
                if finding.path == path and _UNKNOWN_OPTION.match(finding.message)
                for span in [_option_span(relaxed, finding.line, finding.column)]
                if span is not None
            ]
            if not spans or len(spans) < len(error.errors):
                raise strict from None
            relaxed = _blanked(relaxed, spans)
            refusals.extend(error.errors)
            continue
        unused = {m["name"].strip('"') for w in compiled.warnings if (m := _UNUSED_IMPORT.match(w.message))}
        if unused & set(added):
            added = [name for name in added if name not in unused]
            continue
        findings = tuple(
            Finding(
                path,
                error.line if error.path == path else 0,
                error.column if error.path == path else 0,
                RULE,
                f"protoc refuses this schema ({error.message}); the CONFLUENT rule set accepts it as Confluent's "
                "registry does, but code generation and other tools will not.",
            )
            for error in dict.fromkeys(refusals)
        )
        return LenientCompile(compiled, findings)
    raise strict


def _relaxed_imports(text: str, dependencies: Mapping[str, str]) -> tuple[str, list[str]]:
    """Blank out imports nothing provides; return the text and the given files it does not import."""
    spans, named = [], set()
    for match in _IMPORT.finditer(_code_only(text)):
        name = text[match.start("name") : match.end("name")]
        if name in dependencies or is_well_known(name):
            named.add(name)
        else:
            spans.append((match.start(), match.end()))
    return _blanked(text, spans), [name for name in dependencies if name not in named]


def _code_only(text: str) -> str:
    """Return `text` with comments and the contents of strings blanked, at the same offsets.

    Scanning the result never matches inside a comment or a string; the quotes stay,
    so a string's span is still known and its contents can be read from `text`.
    """
    out, index, length = list(text), 0, len(text)
    while index < length:
        if text.startswith("//", index):
            end = text.find("\n", index)
            blank_from, index = index, length if end < 0 else end
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            blank_from, index = index, length if end < 0 else end + 2
        elif text[index] in "\"'":
            quote, end = text[index], index + 1
            while end < length and text[end] not in (quote, "\n"):
                end += 2 if text[end] == "\\" else 1
            blank_from, index = index + 1, min(end, length)
            end = index
            index += 1
            _blank_range(out, blank_from, end)
            continue
        else:
            index += 1
            continue
        _blank_range(out, blank_from, index)
    return "".join(out)


def _blank_range(characters: list[str], start: int, end: int) -> None:
    for position in range(start, end):
        if characters[position] != "\n":
            characters[position] = " "


def _offset(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(previous) + 1 for previous in lines[: line - 1]) + column - 1


def _option_span(text: str, line: int, column: int) -> tuple[int, int] | None:
    """Return the span to blank for the unknown option whose name starts at (line, column)."""
    code = _code_only(text)
    start = _offset(text, line, column)
    if not 0 <= start < len(text) or text[start] != "(":
        return None
    before = code[:start].rstrip()
    if before.endswith("option"):
        statement = before.rfind("option")
        end = _value_end(code, start, terminators=";")
        return (statement, end + 1) if end < len(code) and code[end] == ";" else None
    end = _value_end(code, start, terminators=",]")
    if end >= len(code):
        return None
    previous = len(before) - 1
    if code[end] == ",":
        return (start, end + 1)  # the item and the comma after it
    if before.endswith(","):
        return (previous, end)  # the last item and the comma before it
    if before.endswith("["):
        return (previous, end + 1)  # the only item: the brackets go too
    return None


def _value_end(code: str, start: int, terminators: str) -> int:
    """Return the index of the first terminator at nesting depth zero from `start`."""
    depth = 0
    for index in range(start, len(code)):
        char = code[index]
        if char in "{[(<":
            depth += 1
        elif char in "}])>":
            if depth == 0 and char in terminators:
                return index
            depth -= 1
        elif depth == 0 and char in terminators:
            return index
    return len(code)


def _blanked(text: str, spans: list[tuple[int, int]]) -> str:
    characters = list(text)
    for start, end in spans:
        _blank_range(characters, start, end)
    return "".join(characters)
