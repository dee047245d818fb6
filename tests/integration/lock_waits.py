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


class HeldWrite(threading.Thread):
    """Run `write` in a transaction on a connection of its own; commit once a request waits for one of its locks."""

    def __init__(self, write):
        super().__init__(daemon=True)
        self.write = write
        self.written = threading.Event()
        self.request_waited = False
        self.error: Exception | None = None

    def run(self):
        try:
            with transaction.atomic():
                self.write()
                self.written.set()
                self.request_waited = a_writer_waits(timeout=5)
        except Exception as error:
            self.error = error
        finally:
            self.written.set()
            connection.close()


def while_held(write, request):
    """Send `request` while `write` is held uncommitted; return its answer and the write, both finished."""
    held = HeldWrite(write)
    held.start()
    assert held.written.wait(10)
    assert held.error is None, held.error
    try:
        response = request()
    finally:
        held.join(30)
    return response, held


class LockHolder(threading.Thread):
    """Hold what `lock()` locks on a connection of its own until `release` is set; `then()` runs while held."""

    def __init__(self, lock, then=lambda: None):
        super().__init__(daemon=True)
        self.lock, self.then = lock, then
        self.locked, self.release = threading.Event(), threading.Event()
        self.error: Exception | None = None

    def run(self):
        try:
            with transaction.atomic():
                self.lock()
                self.locked.set()
                self.then()
                self.release.wait(30)
        except Exception as error:
            self.error = error
        finally:
            self.locked.set()
            connection.close()


def while_locked(lock, request, then=lambda: None):
    """Send `request` while another connection holds what `lock()` locks; return its answer."""
    holder = LockHolder(lock, then)
    holder.start()
    assert holder.locked.wait(10)
    try:
        return request()
    finally:
        holder.release.set()
        holder.join(30)
        assert holder.error is None, holder.error
