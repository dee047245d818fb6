"""The database router: lookups read a replica, and a request or task that wrote reads the primary afterwards."""

import pytest
from django.test import override_settings

from registry import db_router
from registry.db_router import PrimaryReplicaRouter, ReadYourWritesMiddleware

router = PrimaryReplicaRouter()


@pytest.fixture
def two_replicas(settings):
    databases = dict(settings.DATABASES)
    databases["replica_0"] = {**databases["default"]}
    databases["replica_1"] = {**databases["default"]}
    with override_settings(DATABASES=databases):
        db_router.start_unit_of_work()
        yield
    db_router.start_unit_of_work()


def test_without_replicas_everything_goes_to_the_primary():
    db_router.start_unit_of_work()
    assert router.db_for_read(None) == "default"
    assert router.db_for_write(None) == "default"


def test_reads_go_to_the_replicas_until_the_first_write(two_replicas):
    assert {router.db_for_read(None) for _ in range(50)} == {"replica_0", "replica_1"}
    assert router.db_for_write(None) == "default"
    assert {router.db_for_read(None) for _ in range(20)} == {"default"}, "a write pins later reads to the primary"
    db_router.start_unit_of_work()
    assert router.db_for_read(None).startswith("replica_")


def test_each_request_starts_on_the_replicas_again(two_replicas):
    seen = []

    def view_that_writes(request):
        seen.append(router.db_for_read(None))
        router.db_for_write(None)
        seen.append(router.db_for_read(None))
        return "answer"

    middleware = ReadYourWritesMiddleware(view_that_writes)
    middleware(object())
    middleware(object())
    assert [alias.startswith("replica_") for alias in seen] == [True, False, True, False]


@pytest.mark.django_db
def test_reads_inside_a_transaction_go_to_the_primary(two_replicas):
    # pytest-django runs this test inside a transaction on the primary.
    assert router.db_for_read(None) == "default"


def test_only_the_primary_is_migrated():
    assert router.allow_migrate("default", "schemas_app") is True
    assert router.allow_migrate("replica_0", "schemas_app") is False
