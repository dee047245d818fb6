"""Several SQL statements sent to the database in one round trip, where the driver allows it.

Django's PostgreSQL backend binds parameters on the client by default (psycopg's ClientCursor), so a
string of statements goes as one simple query and PostgreSQL runs them in order, each seeing what the
one before did (a lock taken by the first is held when the second runs). With server-side binding,
or on SQLite, each statement is sent on its own, with the same results.
"""

try:
    from psycopg import ClientCursor
except ImportError:  # psycopg is the PostgreSQL driver; SQLite needs none
    ClientCursor = None


def results_together(cursor, statements: list[tuple[str, list]]) -> list[list[tuple]]:
    """Run the statements in order and return each one's rows (an empty list for one that returns none)."""
    if ClientCursor is not None and isinstance(getattr(cursor, "cursor", None), ClientCursor):
        cursor.execute("; ".join(sql for sql, _ in statements), [value for _, params in statements for value in params])
        results = [_rows_of(cursor)]
        while cursor.nextset():
            results.append(_rows_of(cursor))
        return results
    results = []
    for sql, params in statements:
        cursor.execute(sql, params)
        results.append(_rows_of(cursor))
    return results


def _rows_of(cursor) -> list[tuple]:
    return [] if cursor.description is None else cursor.fetchall()
