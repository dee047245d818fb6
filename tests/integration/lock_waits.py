"""Waiting, in a test, until another connection's statement waits for a lock a test holds."""

import time

from django.db import connection


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
