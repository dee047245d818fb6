"""A state change made anywhere (the API, the admin) is what the next lookup answers, though lookups are cached."""

import pytest
from django.test import Client

from schemas_app.models import SubjectVersion
from tests.integration.api.helpers import TICK_V1, register

pytestmark = pytest.mark.django_db


def test_a_version_deprecated_in_the_admin_reads_deprecated_at_once(api, owner, django_capture_on_commit_callbacks):
    register(api, "ticks-value", TICK_V1)
    assert api.get("/subjects/ticks-value/versions/1").json()["state"] == "active"  # now cached
    version = SubjectVersion.objects.get(subject__name="ticks-value", version=1)
    admin = Client()
    admin.force_login(owner)

    with django_capture_on_commit_callbacks(execute=True):
        # State changes go through the deprecation service, here by the versions list's action.
        answer = admin.post(
            "/admin/schemas_app/subjectversion/",
            {"action": "deprecate_versions", "_selected_action": [version.pk]},
        )

    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert api.get("/subjects/ticks-value/versions/1").json()["state"] == "deprecated"


def test_a_soft_deleted_subject_is_gone_from_the_next_lookup(api, django_capture_on_commit_callbacks):
    register(api, "ticks-value", TICK_V1)
    assert api.get("/subjects/ticks-value/versions/1").status_code == 200  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete("/subjects/ticks-value").json() == [1]

    assert api.get("/subjects/ticks-value/versions/1").json()["error_code"] == 40402


def test_a_soft_deleted_version_is_gone_from_the_next_lookup(api, django_capture_on_commit_callbacks):
    register(api, "ticks-value", TICK_V1)
    assert api.get("/subjects/ticks-value/versions/1").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete("/subjects/ticks-value/versions/1").json() == 1

    assert api.get("/subjects/ticks-value/versions/1").json()["error_code"] == 40402
