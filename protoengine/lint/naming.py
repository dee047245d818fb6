"""Split identifiers into words and spell them in the cases buf's lint rules ask for.

buf decides whether a name is in a case by converting it and comparing: a field
name is lower_snake_case when converting it changes nothing. The word rules here
follow buf's so that our verdicts and suggestions match its:

- `_`, `-`, `.` and spaces separate words and never survive a conversion;
- an upper-case letter starts a word after a lower-case letter (`userName`);
- in a run of capitals, the capital just before a lower-case letter starts a
  word (`HTTPServer` -> `HTTP`, `Server`);
- digits stay with the word they follow (`v1beta1`, `PascalCase1`), and a
  capital after a digit starts a word only when a lower-case letter follows it
  (`FooJSON1Pascal` -> `foo_json1_pascal`, but `V1X` -> `v1x`).
"""

import re
from functools import lru_cache

_DELIMITERS = re.compile(r"[_\-. \t]+")
# A name already in the case converts to itself exactly when it has this shape.
_LOWER_SNAKE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
_UPPER_SNAKE = re.compile(r"[A-Z0-9]+(?:_[A-Z0-9]+)*")


@lru_cache(maxsize=8192)
def split_words(name: str) -> tuple[str, ...]:
    """Return the words of an identifier in any case, with their letters unchanged."""
    words: list[str] = []
    for part in _DELIMITERS.split(name):
        if part:
            words.extend(_split_part(part))
    return tuple(words)


def _split_part(part: str) -> list[str]:
    words = []
    start = 0
    for index in range(1, len(part)):
        if _starts_word(part, index):
            words.append(part[start:index])
            start = index
    words.append(part[start:])
    return words


def _starts_word(part: str, index: int) -> bool:
    char = part[index]
    if not char.isupper():
        return False
    if part[index - 1].islower():
        return True
    following = part[index + 1] if index + 1 < len(part) else ""
    return bool(following) and not following.isupper() and not following.isdigit()


def to_lower_snake_case(name: str) -> str:
    """Return `userName` as `user_name`, `HTTPServer` as `http_server`."""
    return "_".join(word.lower() for word in split_words(name))


@lru_cache(maxsize=8192)  # ENUM_VALUE_PREFIX asks it of an enum's name once per value
def to_upper_snake_case(name: str) -> str:
    """Return `HTTPServer` as `HTTP_SERVER`, `orderStatus` as `ORDER_STATUS`."""
    return "_".join(word.upper() for word in split_words(name))


@lru_cache(maxsize=8192)  # the RPC_*_STANDARD_NAME rules ask it of every method's and service's name
def to_pascal_case(name: str) -> str:
    """Return `order_book` as `OrderBook`; capitals already present are kept (`HTTP_server` -> `HTTPServer`)."""
    return "".join(part[0].upper() + part[1:] for part in _DELIMITERS.split(name) if part)


@lru_cache(maxsize=8192)  # asked of every element's name; names repeat across a schema
def is_lower_snake_case(name: str) -> bool:
    return _LOWER_SNAKE.fullmatch(name) is not None


@lru_cache(maxsize=8192)  # asked of every element's name; names repeat across a schema
def is_upper_snake_case(name: str) -> bool:
    return _UPPER_SNAKE.fullmatch(name) is not None


@lru_cache(maxsize=8192)  # asked of every element's name; names repeat across a schema
def is_pascal_case(name: str) -> bool:
    return _DELIMITERS.search(name) is None and name[:1].upper() == name[:1]
