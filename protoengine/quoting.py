"""Quote text as Go's `%q` does, so that messages about free text read exactly as buf prints them."""

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES["\v"] = "\\v"


def go_quote(text: str) -> str:
    """Return `text` in double quotes with Go's escapes: `a\\b` becomes `"a\\\\b"`, a newline `\\n`."""
    return '"' + "".join(_quoted_char(char) for char in text) + '"'


def _quoted_char(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    # Python's printable characters are Go's: letters, marks, numbers, punctuation, symbols and the ASCII space.
    if char.isprintable():
        return char
    code = ord(char)
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
