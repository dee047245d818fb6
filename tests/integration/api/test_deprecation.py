"""The deprecation lifecycle: deprecated versions are served with headers, warned about, then retired."""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.management import call_command

from schemas_app.models import SubjectVersion
from schemas_app.services import system_account
from schemas_app.tasks import apply_deprecation_policy
from tests.integration.api.helpers import TICK_V1, TICK_V2_ADDS_FIELD, post, put, register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ticks(api, writer):
    writer.email = "writer@example.org"
    writer.save()
    register(api, "ticks-value", TICK_V1)
    register(api, "ticks-v2-value", TICK_V2_ADDS_FIELD)
    return api


def deprecate_version_one(api, **body):
    body = {"reason": "moved to ticks-v2", "successor": "ticks-v2-value", **body}
    response = post(api, "/subjects/ticks-value/versions/1/deprecate", body)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_deprecated_version_is_still_served_with_deprecation_sunset_and_link_headers(ticks):
    body = deprecate_version_one(ticks, sunset="2027-03-01T00:00:00Z")
    assert body["state"] == "deprecated" and body["deprecation"]["reason"] == "moved to ticks-v2"
    response = ticks.get("/subjects/ticks-value/versions/1")
    assert response.status_code == 200 and response.json()["schema"]
    deprecated_at = SubjectVersion.objects.get(subject__name="ticks-value").deprecated_at
    assert response["Deprecation"] == f"@{int(deprecated_at.timestamp())}"
    assert parsedate_to_datetime(response["Sunset"]) == datetime(2027, 3, 1, tzinfo=UTC)
    assert response["Link"] == '<http://testserver/subjects/ticks-v2-value/versions/latest>; rel="successor-version"'


def test_an_active_version_carries_no_deprecation_headers(ticks):
    response = ticks.get("/subjects/ticks-value/versions/1")
    assert "Deprecation" not in response and "Sunset" not in response and "Link" not in response


def test_without_a_sunset_the_tenants_removal_period_sets_it(ticks):
    assert put(ticks, "/config", {"deprecationRemovalDays": 60}).status_code == 200
    body = deprecate_version_one(ticks)
    deprecated = datetime.fromisoformat(body["deprecation"]["deprecatedAt"])
    assert datetime.fromisoformat(body["deprecation"]["sunset"]) - deprecated == timedelta(days=60)


def test_deprecating_a_subject_deprecates_every_live_version(ticks):
    register(ticks, "ticks-value", TICK_V2_ADDS_FIELD)
    response = post(ticks, "/subjects/ticks-value/deprecate", {"reason": "retire the v1 feed"})
    assert [item["version"] for item in response.json()] == [1, 2]
    assert set(SubjectVersion.objects.filter(subject__name="ticks-value").values_list("state", flat=True)) == {
        "deprecated"
    }


def test_deprecating_needs_the_write_role(ticks, outsider_client):
    assert post(outsider_client, "/subjects/ticks-value/versions/1/deprecate", {}).status_code == 403


def test_the_beat_job_on_a_frozen_clock_warns_at_grace_end_then_retires_the_version(ticks):
    deprecate_version_one(ticks)
    version = SubjectVersion.objects.get(subject__name="ticks-value")
    start = version.deprecated_at
    mail.outbox.clear()

    assert apply_deprecation_policy.delay(now=(start + timedelta(days=29)).isoformat()).get() == {
        "warned": [],
        "disabled": [],
        "retry_later": [],
    }
    assert mail.outbox == []

    warned = apply_deprecation_policy.delay(now=(start + timedelta(days=30, minutes=1)).isoformat()).get()
    assert warned == {"warned": ["ticks-value v1"], "disabled": [], "retry_later": []}
    assert [message.to for message in mail.outbox] == [["writer@example.org"]]
    assert "grace period is over" in mail.outbox[0].subject and "ticks-v2-value" in mail.outbox[0].body
    assert ticks.get("/subjects/ticks-value/versions/1").status_code == 200  # still served

    again = apply_deprecation_policy.delay(now=(start + timedelta(days=31)).isoformat()).get()
    assert again == {"warned": [], "disabled": [], "retry_later": []} and len(mail.outbox) == 1  # warned once

    retired = apply_deprecation_policy.delay(now=(start + timedelta(days=90, minutes=1)).isoformat()).get()
    assert retired == {"warned": [], "disabled": ["ticks-value v1"], "retry_later": []}
    assert "was retired" in mail.outbox[-1].subject
    response = ticks.get("/subjects/ticks-value/versions/1")
    assert response.status_code == 404 and response.json()["error_code"] == 40402
    assert "was retired on" in response.json()["message"] and "ticks-v2-value" in response.json()["message"]
    version.refresh_from_db()
    assert version.state == "disabled" and not version.deleted  # never deleted
    assert SubjectVersion.objects.filter(pk=version.pk).exists()


def test_the_beat_jobs_warning_and_retirement_name_the_system_account_in_the_audit_trail(ticks):
    deprecate_version_one(ticks)
    version = SubjectVersion.objects.get(subject__name="ticks-value")
    apply_deprecation_policy.delay(now=(version.deprecated_at + timedelta(days=30, minutes=1)).isoformat()).get()
    apply_deprecation_policy.delay(now=(version.deprecated_at + timedelta(days=90, minutes=1)).isoformat()).get()
    policy_entries = list(LogEntry.objects.get_for_object(version).order_by("pk"))[-2:]
    assert [sorted(entry.changes_dict) for entry in policy_entries] == [
        ["grace_warning_sent_at"],
        ["disabled_at", "state"],
    ]
    assert [entry.actor for entry in policy_entries] == [system_account(), system_account()]


def test_the_deprecate_command_does_what_the_endpoint_does(ticks):
    call_command(
        "deprecate", "ticks-value", "--subject-version", "1", "--successor", "ticks-v2-value", "--reason", "v2"
    )
    response = ticks.get("/subjects/ticks-value/versions/1")
    assert response.json()["state"] == "deprecated" and "Deprecation" in response


def lifecycle_headers(response) -> dict:
    return {name: response[name] for name in ("Deprecation", "Sunset", "Link") if name in response}


def test_a_lookup_by_id_of_a_deprecated_schema_carries_the_headers_of_its_version(ticks):
    deprecate_version_one(ticks, sunset="2027-03-01T00:00:00Z")
    schema_id = ticks.get("/subjects/ticks-value/versions/1").json()["id"]

    by_id = ticks.get(f"/schemas/ids/{schema_id}")

    assert by_id.status_code == 200 and by_id.json()["schema"]
    by_version = ticks.get("/subjects/ticks-value/versions/1")
    assert lifecycle_headers(by_id) == lifecycle_headers(by_version)
    assert set(lifecycle_headers(by_id)) == {"Deprecation", "Sunset", "Link"}


def test_a_schema_id_that_an_active_version_still_serves_carries_no_headers_unless_the_subject_is_named(ticks):
    register(ticks, "ticks-copy-value", TICK_V1)
    deprecate_version_one(ticks)
    schema_id = ticks.get("/subjects/ticks-value/versions/1").json()["id"]
    assert ticks.get("/subjects/ticks-copy-value/versions/1").json()["id"] == schema_id

    assert lifecycle_headers(ticks.get(f"/schemas/ids/{schema_id}")) == {}
    named = ticks.get(f"/schemas/ids/{schema_id}?subject=ticks-value")
    assert "Deprecation" in named and "Sunset" in named
    assert lifecycle_headers(ticks.get(f"/schemas/ids/{schema_id}?subject=ticks-copy-value")) == {}


def test_the_management_api_serves_a_deprecated_latest_version_with_the_headers(ticks):
    assert lifecycle_headers(ticks.get("/schemas/ticks-value")) == {}
    deprecate_version_one(ticks, sunset="2027-03-01T00:00:00Z")

    managed = ticks.get("/schemas/ticks-value")

    assert managed.status_code == 200 and managed.json()["state"] == "deprecated"
    assert lifecycle_headers(managed) == lifecycle_headers(ticks.get("/subjects/ticks-value/versions/latest"))
    assert parsedate_to_datetime(managed["Sunset"]) == datetime(2027, 3, 1, tzinfo=UTC)


def test_the_management_api_answers_40402_for_a_retired_latest_version(ticks):
    deprecate_version_one(ticks)
    apply_deprecation_policy.delay(now=(datetime.now(UTC) + timedelta(days=91)).isoformat()).get()

    response = ticks.get("/schemas/ticks-value")

    assert response.status_code == 404 and response.json()["error_code"] == 40402
