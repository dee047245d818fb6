"""Rates of what costs the most: compatibility checks per client, and failed sign-ins.

Failed sign-ins are limited per account from one address, per address, and per account overall.

Counters live in the shared cache for a minute after the first failure. While one is over its limit,
the credentials are not even checked: the answer is 429 with Retry-After. The per-account limit from one
address is the low one, so an attacker guessing a password from one address locks only that address out
of the account, and the account's owner still signs in from elsewhere. Names and addresses are kept
as keyed hashes; the crossing of a limit is logged (never a password).
"""

import logging

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from schemas_app import local_copies
from schemas_app.errors import TooManyAttempts
from schemas_app.keyed_hashes import remembered_keyed_hash

logger = logging.getLogger("schemas_app.authentication")
WINDOW_SECONDS = 60


def _key(kind: str, *values: str) -> str:
    return f"authfail:{kind}:" + remembered_keyed_hash(*values)


def _counters(account: str | None, address: str) -> list[tuple[str, int]]:
    counters = [(_key("address", address), settings.REGISTRY_AUTH_FAILURES_PER_ADDRESS)]
    if account is not None:
        counters.append((_key("account-address", account, address), settings.REGISTRY_AUTH_FAILURES_PER_ACCOUNT))
        counters.append((_key("account", account), settings.REGISTRY_AUTH_FAILURES_PER_ACCOUNT_EVERYWHERE))
    return counters


def _retry_after(key: str) -> int:
    ttl = cache.ttl(key) if hasattr(cache, "ttl") else None
    return max(1, int(ttl)) if isinstance(ttl, int | float) and ttl > 0 else WINDOW_SECONDS


def lock_limits(*, account: str | None, address: str) -> dict[str, int]:
    """Return the cache keys of the counters `refuse_if_locked` reads, with their limits, for a caller that reads
    them with other keys (each key is a keyed hash: work them out once per request)."""
    return dict(_counters(account, address))


def copyable_counts(limits: dict[str, int]):
    """Return which counts a process may keep copies of (`local_copies`): those still under their limit.

    A count grows without announcing itself until it reaches its limit, which `record_failure` announces;
    one at its limit is read again each time, so the lock ends when the counter expires.
    """

    def copyable(key: str, value) -> bool:
        if key in limits:
            return (value or 0) < limits[key]
        return value is not None

    return copyable


def refuse_if_locked(
    *, account: str | None, address: str, counts: dict | None = None, limits: dict[str, int] | None = None
) -> None:
    """Raise 429 when the account from this address, the address, or the account is over its limit.

    `counts` holds the counters already read (with the keys of `limits`), in the same round trip as other keys.
    """
    if limits is None:
        limits = lock_limits(account=account, address=address)
    if counts is None:
        counts = cache.get_many(list(limits))
    for key, limit in limits.items():
        if (counts.get(key) or 0) >= limit:
            raise TooManyAttempts(retry_after=_retry_after(key))


def record_failure(*, account: str | None, address: str) -> None:
    """Count a failed sign-in, and log when it locks something out."""
    for key, limit in _counters(account, address):
        cache.add(key, 0, WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, WINDOW_SECONDS)
            count = 1
        if count == limit:
            local_copies.announce([key])
            logger.warning(
                "Sign-in locked for %s s after %s failures: %s",
                WINDOW_SECONDS,
                limit,
                key.split(":")[1]
                + (f" {account!r}" if account is not None and "account" in key else "")
                + (f" from {address}" if "address" in key else ""),
            )


class CompatibilityCheckRate(SimpleRateThrottle):
    """At most REGISTRY_COMPATIBILITY_CHECKS_PER_MINUTE compatibility checks a minute per user, or per address.

    A check compiles the candidate and compares it with every version the level reads, which takes
    seconds for a large schema; past the rate the answer is 429 with Retry-After (DRF's throttle,
    counted in the shared cache).
    """

    scope = "compatibility"

    def get_rate(self):
        per_minute = settings.REGISTRY_COMPATIBILITY_CHECKS_PER_MINUTE
        return f"{per_minute}/min" if per_minute else None

    def get_cache_key(self, request, view):
        user = request.user
        ident = f"user:{user.pk}" if user and user.is_authenticated else f"address:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
