"""Fixtures of the code generation tests: the catalogue registered, and users who may or may not generate."""

import pytest
from django.core.files.storage import storages

from schemas_app import selectors, services
from schemas_app.tree import tree_register
from tests.integration.codegen.helpers import catalogue_sources


@pytest.fixture
def catalogue(db):
    """The bundled catalogue registered in the default tenant, subjects named by import path."""
    results = tree_register(
        tenant=selectors.default_tenant(), sources=catalogue_sources(), acting_user=services.system_account()
    )
    assert not [result.error for result in results if result.error]
    return results


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the tasks a request queues, in-process, once its transaction commits."""

    def request(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return request


@pytest.fixture(autouse=True)
def _empty_archive_storage():
    """Each test starts without stored archives (the rows go with the test's transaction, the files here)."""
    storage = storages["codegen"]
    yield
    import shutil

    shutil.rmtree(storage.location, ignore_errors=True)
