"""Fixtures the integration tests share: the catalogue's generated modules and the live registry server."""

import pytest

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
