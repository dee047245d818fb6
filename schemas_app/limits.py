"""Bounds on what one request may ask for: numbers, JSON nesting, subject names.

Confluent's ids and versions are Java ints, so anything outside 1..2^31-1 is refused before it
reaches the database (which would answer 500 for an integer it cannot hold). Numbers are read
from ASCII digits only: Python's int() also accepts "١" (an Arabic-Indic one) and other scripts.
"""

import re
import unicodedata

MAX_ID = 2**31 - 1
MAX_VERSION = 2**31 - 1
# Paging offsets and limits share the range of the ids they page over.
MAX_PAGE = 2**31 - 1
# Confluent's metadata and rule sets nest four levels; anything past this is not a schema registry body.
MAX_JSON_DEPTH = 32

_ASCII_INTEGER = re.compile(r"-?[0-9]+")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKETS = re.compile(rb"[\[\]{}]")
# Unicode categories no subject name may hold: controls, format characters (bidi overrides, zero-width
# joiners, BOM), surrogates, private use, unassigned code points and line or paragraph separators.
_FORBIDDEN_NAME_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def ascii_int(raw: str) -> int | None:
    """Return the integer written in ASCII digits (an optional leading minus), or None for anything else.

    More than 30 digits is None too: no bound here is that large, and Python refuses to read 4,300 digits.
    """
    if not isinstance(raw, str) or len(raw) > 31 or not _ASCII_INTEGER.fullmatch(raw):
        return None
    return int(raw)


def in_range(number: int | None, minimum: int, maximum: int) -> bool:
    return number is not None and minimum <= number <= maximum


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Return True when the JSON text nests arrays or objects deeper than `limit` (strings are skipped)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_BRACKETS.finditer(_JSON_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def forbidden_name_character(name: str) -> str | None:
    """Return the first character a subject name may not hold (control, format, bidi, separator), or None."""
    for char in name:
        if unicodedata.category(char) in _FORBIDDEN_NAME_CATEGORIES:
            return char
    return None
