"""Fixtures the integration tests share: the catalogue's modules, the live registry server, short lock waits."""

import pytest
from django.db import connection

from tests.integration.protobuf_modules import imported_catalogue


@pytest.fixture(scope="session")
def catalogue(tmp_path_factory):
    """The catalogue's generated `_pb2` and `_pb2_grpc` modules, generated once: the descriptor pool is process-wide."""
    with imported_catalogue(tmp_path_factory.mktemp("catalogue_pb2")) as modules:
        yield modules


@pytest.fixture(scope="session")
def server(django_db_setup, live_server):
    """The live server, started after the test database so that it stops (and lets go of it) first."""
    return live_server


@pytest.fixture
def short_lock_waits():
    """Lock waits on this thread's connection (the one the test client's requests use) give up after 300 ms."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")
