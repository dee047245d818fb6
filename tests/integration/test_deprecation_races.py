"""The deprecation policy racing a manual deprecation: each waits for the other's subject lock and reads the version
as the other left it, so neither writes back what it read before the other committed.

A write is held uncommitted on a connection of its own while the other side meets it (lock_waits.while_held).
"""

from datetime import UTC, datetime, timedelta

import pytest

from schemas_app import deprecation
from schemas_app.models import SubjectVersion, Tenant
from tests.integration.api.helpers import TICK_V1, post, register
from tests.integration.lock_waits import while_held

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
    assert policy_held.error is None, policy_held.error
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
    assert deprecation_held.error is None, deprecation_held.error
    assert deprecation_held.request_waited
    assert run.disabled == []
    version = SubjectVersion.objects.get(pk=deprecated_ticks.pk)
    assert (version.state, version.sunset_at, version.disabled_at) == (SubjectVersion.State.DEPRECATED, later, None)
