"""Keyed hashes under SECRET_KEY (HMAC-SHA256, hex): how tokens are stored and how secrets and counters are named.

A stored token, a remembered credential and a sign-in counter are all found by the keyed hash of what
names them, so neither the database nor the shared cache holds a usable secret, and a hash computed
under one SECRET_KEY names nothing under another.
"""

import functools
import hmac

from django.conf import settings


def keyed_hash(*parts: str) -> str:
    """Return the HMAC-SHA256 of the parts (joined by NUL) under SECRET_KEY, in hex."""
    return hmac.digest(settings.SECRET_KEY.encode(), "\0".join(parts).encode(), "sha256").hex()


def remembered_keyed_hash(*parts: str) -> str:
    """`keyed_hash` of parts that are no secret (account names, addresses), remembered by this process.

    Every signed-in request names its sign-in counters this way, and the same few names come back all day.
    """
    return _remembered(settings.SECRET_KEY, parts)


@functools.lru_cache(maxsize=4_096)
def _remembered(secret_key: str, parts: tuple[str, ...]) -> str:
    return hmac.digest(secret_key.encode(), "\0".join(parts).encode(), "sha256").hex()
