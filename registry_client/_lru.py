"""A small thread-safe LRU map with an optional time to live, for the client's caches."""

import threading
import time
from collections import OrderedDict

_MISSING = object()


class LruCache:
    def __init__(self, capacity: int, ttl_seconds: float | None = None):
        self.capacity = capacity
        self.ttl_seconds = ttl_seconds
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, default=None):
        with self._lock:
            entry = self._entries.get(key, _MISSING)
            if entry is _MISSING:
                return default
            value, expires = entry
            if expires is not None and expires < time.monotonic():
                del self._entries[key]
                return default
            self._entries.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        expires = None if self.ttl_seconds is None else time.monotonic() + self.ttl_seconds
        with self._lock:
            self._entries[key] = (value, expires)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def discard(self, key) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
