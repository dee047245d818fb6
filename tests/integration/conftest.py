"""Fixtures the integration tests share: the catalogue's modules, the live registry server, short lock waits,
query counts that do not depend on the machine's speed."""

import pytest
from django.db import connection

from schemas_app import cache as registry_cache
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


@pytest.fixture
def forgets_reuse_the_requests_generation(monkeypatch):
    """Count a write's queries without its forgets' own read of the cache generation, whatever the machine's speed.

    A forget reads the generation again unless it was read in the last FORGET_GENERATION_SECONDS (50 ms), so a
    write slower than that, as on a loaded machine, costs one query more than a fast one, and two counts that
    should agree disagreed by chance. With this fixture the request's own read always stands.
    """
    monkeypatch.setattr(registry_cache, "FORGET_GENERATION_SECONDS", 3600.0)
