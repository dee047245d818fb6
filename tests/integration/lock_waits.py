"""Waiting, in a test, until another connection's statement waits for a lock a test holds; holding a write meanwhile,
or a lock until the request under test has its answer."""

import threading
import time

from django.db import connection, transaction


def a_writer_waits(timeout: float = 10) -> bool:
    """Return True once another backend of this database waits for a lock; False when none did within `timeout`."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


def wait_for_a_waiting_writer(never: str, timeout: float = 10) -> None:
    """Return once another backend of this database waits for a lock; fail with `never` after `timeout` seconds."""
    if not a_writer_waits(timeout):
        raise AssertionError(never)


class LockHolder(threading.Thread):
    """Another writer, on a connection of its own: `hold()` in a transaction, committed when `until` returns.

    `hold()` takes the locks (or makes the uncommitted write) the request under test is to meet; `held` is set once
    it has run. `until(holder)` then runs inside the same transaction, still holding them, and decides when the
    transaction ends (one of the release policies below). An error of either rolls it back and is kept in `error`.
    """

    def __init__(self, hold, until):
        super().__init__(daemon=True)
        self.hold, self.until = hold, until
        self.held, self.released = threading.Event(), threading.Event()
        self.request_waited = False
        self.error: Exception | None = None

    def run(self):
        try:
            with transaction.atomic():
                self.hold()
                self.held.set()
                self.until(self)
        except Exception as error:
            self.error = error
        finally:
            self.held.set()
            connection.close()


def once_a_request_waits(*, within: float = 5):
    """Release policy: commit once a request waits for one of the held locks, or after `within` seconds anyway.

    Whether a request waited is kept in `request_waited`: a race test asserts it, so a request that no longer waits
    fails the test instead of hanging it.
    """

    def until(holder: LockHolder) -> None:
        holder.request_waited = a_writer_waits(timeout=within)

    return until


def when_released(then=lambda: None):
    """Release policy: run `then()` while holding, then commit once `released` is set (at the latest after 30 s)."""

    def until(holder: LockHolder) -> None:
        then()
        holder.released.wait(30)

    return until


def after_a_request_waits(then, *, never: str):
    """Release policy: once a request waits for one of the held locks, run `then()` while still holding, and commit.

    When no request waits within 10 s the transaction rolls back with AssertionError(`never`) as the holder's error.
    """

    def until(holder: LockHolder) -> None:
        wait_for_a_waiting_writer(never)
        then()

    return until


def while_held_by(holder: LockHolder, request):
    """Start `holder`, send `request` once it holds its locks, and return the answer once both have finished."""
    holder.start()
    assert holder.held.wait(10)
    assert holder.error is None, holder.error
    try:
        response = request()
    finally:
        holder.released.set()
        holder.join(30)
    assert holder.error is None, holder.error
    return response


def while_held(write, request):
    """Send `request` while `write` is held uncommitted until the request waits for it; return the answer and the
    holder (its `request_waited`), both finished."""
    holder = LockHolder(write, until=once_a_request_waits())
    return while_held_by(holder, request), holder


def while_locked(lock, request, then=lambda: None):
    """Send `request` while another connection holds what `lock()` locks (and runs `then()`); return its answer."""
    return while_held_by(LockHolder(lock, until=when_released(then)), request)
