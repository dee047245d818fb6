"""The deprecation policy racing other writers of a version.

A manual deprecation and the policy each wait for the other's subject lock and read the version as the other left
it, so neither writes back what it read before the other committed. A version whose lock the policy cannot get
(the database gives up on its transaction) is left for the next run, and the run goes on with the others.

A write is held uncommitted on a connection of its own while the other side meets it (lock_waits.while_held), or a
lock is held until the policy has finished (lock_waits.while_locked).
"""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.db import OperationalError, connection

from schemas_app import deprecation
from schemas_app.errors import TryAgain
from schemas_app.models import Subject, SubjectVersion, Tenant
from schemas_app.tasks import apply_deprecation_policy
from tests.integration.api.helpers import TICK_V1, post, register
from tests.integration.lock_waits import while_held, while_locked

pytestmark = pytest.mark.django_db(transaction=True)

SUNSET = datetime(2027, 3, 1, tzinfo=UTC)
AFTER_THE_SUNSET = SUNSET + timedelta(days=1)


@pytest.fixture
def deprecated_ticks(api, admin) -> SubjectVersion:
    """ticks-value version 1, deprecated until SUNSET."""
    register(api, "ticks-value", TICK_V1)
    assert post(admin, "/subjects/ticks-value/versions/1/deprecate", {"sunset": SUNSET.isoformat()}).status_code == 200
    return SubjectVersion.objects.get(subject__name="ticks-value")


def test_a_version_deprecated_again_while_the_policy_retires_it_stays_retired(admin, deprecated_ticks):
    def retire():
        assert deprecation.deprecation_policy_apply(now=AFTER_THE_SUNSET).disabled == ["ticks-value v1"]

    response, policy_held = while_held(
        retire, lambda: post(admin, "/subjects/ticks-value/versions/1/deprecate", {"reason": "use ticks-v2"})
    )
    assert policy_held.request_waited
    version = SubjectVersion.objects.get(pk=deprecated_ticks.pk)
    assert (version.state, version.disabled_at) == (SubjectVersion.State.DISABLED, AFTER_THE_SUNSET)
    assert version.deprecation_reason == ""
    assert response.json() == {"error_code": 42205, "message": "Version 1 of ticks-value is already retired"}


def test_the_policy_meeting_a_deprecation_that_moves_the_sunset_later_keeps_the_version_served(owner, deprecated_ticks):
    later = AFTER_THE_SUNSET + timedelta(days=30)

    def move_the_sunset():
        deprecation.version_deprecate(
            tenant=Tenant.objects.get(slug=Tenant.DEFAULT_SLUG),
            subject_name="ticks-value",
            version=1,
            sunset=later,
            acting_user=owner,
        )

    run, deprecation_held = while_held(
        move_the_sunset, lambda: deprecation.deprecation_policy_apply(now=AFTER_THE_SUNSET)
    )
    assert deprecation_held.request_waited
    assert run.disabled == []
    version = SubjectVersion.objects.get(pk=deprecated_ticks.pk)
    assert (version.state, version.sunset_at, version.disabled_at) == (SubjectVersion.State.DEPRECATED, later, None)


@pytest.fixture
def deprecated_orders(api, admin, deprecated_ticks) -> SubjectVersion:
    """orders-value version 1, deprecated until SUNSET after ticks-value's: the policy meets it second."""
    register(api, "orders-value", TICK_V1)
    assert post(admin, "/subjects/orders-value/versions/1/deprecate", {"sunset": SUNSET.isoformat()}).status_code == 200
    return SubjectVersion.objects.get(subject__name="orders-value")


def test_a_version_whose_lock_the_policy_cannot_get_is_left_for_the_next_run_and_the_later_ones_retired(
    deprecated_ticks, deprecated_orders, short_lock_waits, caplog
):
    def lock_ticks():  # as a registration, deprecation or delete of ticks-value does
        Subject.objects.select_for_update().get(name="ticks-value")

    def run_the_beat_job():
        return apply_deprecation_policy.delay(now=AFTER_THE_SUNSET.isoformat()).get()

    with caplog.at_level(logging.WARNING, logger="schemas_app.deprecation"):
        result = while_locked(lock_ticks, run_the_beat_job)
    assert result == {"warned": [], "disabled": ["orders-value v1"], "retry_later": ["ticks-value v1"]}
    assert SubjectVersion.objects.get(pk=deprecated_ticks.pk).state == SubjectVersion.State.DEPRECATED
    assert SubjectVersion.objects.get(pk=deprecated_orders.pk).state == SubjectVersion.State.DISABLED
    assert any("ticks-value v1" in record.getMessage() for record in caplog.records)
    assert run_the_beat_job() == {"warned": [], "disabled": ["ticks-value v1"], "retry_later": []}


@pytest.fixture
def ticks_retirement_fails_as_a_bug_would(deprecated_ticks):
    """A trigger failing ticks-value v1's retirement with an error the database did not give up on (55000)."""
    table = SubjectVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_retirement() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'retirement refused' USING ERRCODE = '55000'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER refuse_retirement BEFORE UPDATE ON {table} FOR EACH ROW"
            f" WHEN (NEW.state = 'disabled' AND OLD.id = {int(deprecated_ticks.pk)})"
            " EXECUTE FUNCTION refuse_retirement()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER refuse_retirement ON {table}")
        cursor.execute("DROP FUNCTION refuse_retirement()")


def test_an_error_of_the_policys_own_still_stops_the_run(
    deprecated_ticks, deprecated_orders, ticks_retirement_fails_as_a_bug_would
):
    with pytest.raises(OperationalError) as raised:
        deprecation.deprecation_policy_apply(now=AFTER_THE_SUNSET)
    assert not isinstance(raised.value, TryAgain)
    assert raised.value.__cause__.sqlstate == "55000"
    assert SubjectVersion.objects.get(pk=deprecated_ticks.pk).state == SubjectVersion.State.DEPRECATED
