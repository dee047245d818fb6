"""This process's copies of shared cache entries, dropped as soon as any process announces that they changed.

A cached lookup reads one or two Redis entries (where a schema id is served, a version's payload, the
access generation and the sign-in lockout counters), and that round trip cost more than the rest of the
lookup. So a process keeps what it read, and whoever changes or forgets an entry announces its key on
a Redis channel (`announce`) after the change is made. Every process listens on that channel, and before
it answers from a copy it reads, without waiting, what has arrived (`get`): an announcement made before
a request comes in is always honoured, as a Redis read would have seen the change.

Copies are trusted only while the channel is known to work: each process checks it at least every
LISTENING_SECONDS with a ping, and while it is not subscribed (at start, after a Redis outage or an
unanswered ping) every read goes to Redis, as it did before; copies made before a break are dropped.
Entries that change without an announcement are never read through here. Without Redis (a local-memory
cache) there is nothing to copy and every read goes to the cache.

Callers must not change the values they get: they are shared by every request of the process.
"""

import contextlib
import json
import logging
import os
import select
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from django.core.cache import cache

logger = logging.getLogger(__name__)

LOCAL_SIZE = 10_000
# A copy is read again after this long even without an announcement: a change that forgot to announce
# itself (a bug) cannot be served for longer than this.
LOCAL_SECONDS = 60.0
# How long the channel may stay quiet before a ping checks it, and how long a ping's answer is awaited.
LISTENING_SECONDS = 1.0
PING_TIMEOUT_SECONDS = 0.5
# How often a process that is not subscribed tries again.
RETRY_SECONDS = 1.0
_EVERYTHING = "*"
_ABSENT = object()


# The channel's name, after the cache's key prefix, so registries (and test runs) sharing a Redis stay apart.
CHANNEL = "local-copies-forget"


def _channel() -> str:
    return cache.make_key(CHANNEL)


def _present(key: str, value) -> bool:
    return value is not None


class _Copies:
    def __init__(self):
        self._lock = threading.RLock()
        self._entries: OrderedDict = OrderedDict()
        self._pid = None
        self._subscription = None
        self._listened_on = None
        self._poll = None
        self._last_heard = 0.0
        self._retry_at = 0.0
        # Moves on with every announcement heard, so a copy read before one is not kept after it.
        self.epoch = 0

    def listening(self) -> bool:
        """Read what was announced since the last call; return whether copies may be trusted."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child shares no subscription with its parent
                self._pid, self._subscription = os.getpid(), None
                self._forget_everything()
            if self._subscription is None and not self._subscribe():
                return False
            try:
                self._read_announcements()
            except Exception:  # any failure of the channel means: stop trusting copies
                logger.warning("The cache's change announcements stopped; reading Redis until they resume")
                self._unsubscribe()
                return False
            return True

    def _subscribe(self) -> bool:
        now = time.monotonic()
        client = getattr(cache, "client", None)
        if client is None or now < self._retry_at:
            return False
        self._retry_at = now + RETRY_SECONDS
        try:
            subscription = client.get_client(write=True).pubsub()
            subscription.subscribe(_channel())
            if _wait_for(subscription, "subscribe") is None:
                subscription.close()
                return False
        except Exception:  # Redis down: read it (and fall back to the database) as before
            return False
        self._subscription, self._last_heard = subscription, time.monotonic()
        self._listened_on = self._socket()
        self._poll = _poll_of(self._listened_on)
        self._forget_everything()  # what changed while nobody listened is unknown
        return True

    def _read_announcements(self) -> None:
        if self._arrived():
            while (message := self._subscription.get_message(timeout=0)) is not None:
                self._heard(message)
        if time.monotonic() - self._last_heard > LISTENING_SECONDS:
            self._subscription.ping()
            if _wait_for(self._subscription, "pong", heard=self._heard) is None:
                raise ConnectionError("no answer to a ping on the announcement channel")
            self._last_heard = time.monotonic()
        if self._socket() is not self._listened_on:
            # redis-py reconnects and subscribes again by itself: what was announced in between is lost.
            raise ConnectionError("the announcement channel was connected again")

    def _socket(self):
        return getattr(self._subscription.connection, "_sock", None)

    def _arrived(self) -> bool:
        """Return whether anything arrived since the last read: one poll of the socket instead of redis-py's read.

        Reading until no message is left leaves nothing in redis-py's buffer, so the socket tells it all.
        """
        return self._poll is None or bool(self._poll.poll(0))

    def _heard(self, message: dict) -> None:
        self._last_heard = time.monotonic()
        if message.get("type") != "message":
            return
        keys = json.loads(message["data"])
        self.forget(None if keys == _EVERYTHING else keys)

    def _unsubscribe(self) -> None:
        subscription, self._subscription = self._subscription, None
        self._forget_everything()
        with contextlib.suppress(Exception):  # closing a broken connection may fail too
            subscription.close()

    def forget(self, keys: list[str] | None) -> None:
        with self._lock:
            self.epoch += 1
            if keys is None:
                self._entries.clear()
            else:
                for key in keys:
                    self._entries.pop(key, None)

    def _forget_everything(self) -> None:
        self.forget(None)

    def copy_of(self, key: str):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[1] < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def keep(self, key: str, value, epoch: int) -> None:
        """Keep a value read from Redis, unless an announcement was heard since the read began."""
        with self._lock:
            if epoch != self.epoch or self._subscription is None:
                return
            self._entries[key] = (value, time.monotonic() + LOCAL_SECONDS)
            while len(self._entries) > LOCAL_SIZE:
                self._entries.popitem(last=False)


def _poll_of(sock):
    """Return a poll object watching the subscription's socket, or None where redis-py does not expose it."""
    if sock is None:
        return None
    poll = select.poll()
    poll.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    return poll


def _wait_for(subscription, kind: str, heard: Callable | None = None) -> dict | None:
    """Read messages until one of `kind` arrives (handing the others to `heard`), or None after the timeout."""
    deadline = time.monotonic() + PING_TIMEOUT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        message = subscription.get_message(timeout=left)
        if message is None:
            continue
        if message.get("type") == kind:
            return message
        if heard is not None:
            heard(message)
    return None


_copies = _Copies()


def get_many(keys: list[str], *, keepable: Callable[[str, object], bool] = _present) -> tuple[dict, set[str]]:
    """Return the shared cache's values of `keys` (absent ones left out) and which of them came from this process.

    A value read from Redis is copied when `keepable(key, value)` says so; by default when present (an
    absent entry is usually about to be loaded and set). `keepable` gets None for an absent key.
    """
    if not keys or not _copies.listening():
        return cache.get_many(keys), set()
    found, from_process, missing = {}, set(), []
    for key in keys:
        copy = _copies.copy_of(key)
        if copy is None:
            missing.append(key)
        else:
            from_process.add(key)
            if copy is not _ABSENT:
                found[key] = copy
    if missing:
        epoch = _copies.epoch
        read = cache.get_many(missing)
        for key in missing:
            value = read.get(key)
            if value is not None:
                found[key] = value
            if keepable(key, value):
                _copies.keep(key, _ABSENT if value is None else value, epoch)
    return found, from_process


def trusted_epoch() -> int | None:
    """Return how many announcements this process has heard, or None while its copies are not trusted.

    Something worked out from copies stays valid while the number has not moved: nothing it read changed.
    """
    return _copies.epoch if _copies.listening() else None


def get(key: str) -> tuple[object, bool]:
    """Return the shared cache's value of `key` (None when absent) and whether it came from this process."""
    found, from_process = get_many([key])
    return found.get(key), key in from_process


def announce(keys: list[str] | None) -> None:
    """Tell every process (this one at once) that these entries changed or were forgotten; None: any may have."""
    _copies.forget(keys)
    client = getattr(cache, "client", None)
    if client is None:
        return
    try:
        client.get_client(write=True).publish(*announcement(keys))
    except Exception:  # Redis down: every process stops trusting its copies when it notices
        logger.warning("Could not announce a change of %s cache entries", "all" if keys is None else len(keys))


def announcement(keys: list[str] | None) -> tuple[str, str]:
    """Return the channel and message of `announce(keys)`, for a caller that publishes them in its own transaction.

    That caller forgets this process's copies itself, with `forget_here(keys)`, once the message is sent.
    """
    return _channel(), json.dumps(_EVERYTHING if keys is None else list(keys))


def forget_here(keys: list[str] | None) -> None:
    """Drop this process's copies of these entries (None: all), as `announce` does before telling the others."""
    _copies.forget(keys)


def clear() -> None:
    """Drop this process's copies (the shared cache and other processes are left alone)."""
    _copies.forget(None)
