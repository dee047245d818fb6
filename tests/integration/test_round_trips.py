"""Statements sent together: one round trip on PostgreSQL's client-side binding, the same results one by one."""

import sqlite3

import pytest
from django.db import connection, transaction

from schemas_app.round_trips import results_together

pytestmark = pytest.mark.django_db


def test_statements_run_in_order_in_one_round_trip_and_each_returns_its_rows():
    sent = []

    def count(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    statements = [
        ("SET LOCAL statement_timeout = 5000", []),
        ("SELECT %s::int + 1", [41]),
        ("SELECT current_setting('statement_timeout'), %s", ["after"]),  # sees the SET before it
    ]
    with transaction.atomic(), connection.cursor() as cursor, connection.execute_wrapper(count):
        results = results_together(cursor, statements)

    assert results == [[], [(42,)], [("5s", "after")]]
    assert len(sent) == 1


def test_a_cursor_that_cannot_send_several_runs_them_one_by_one_with_the_same_results():
    cursor = sqlite3.connect(":memory:").cursor()
    statements = [("CREATE TABLE t (n INTEGER)", []), ("INSERT INTO t VALUES (?)", [41]), ("SELECT n + 1 FROM t", [])]

    assert results_together(cursor, statements) == [[], [], [(42,)]]
