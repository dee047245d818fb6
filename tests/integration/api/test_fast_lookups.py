"""The cached lookups' fast path answers exactly as the whole stack does, and leaves everything unusual to it."""

import base64
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from prometheus_client import REGISTRY

from schemas_app.api.authentication import recent_sign_ins
from schemas_app.api.fast_lookups import CachedLookupMiddleware
from schemas_app.models import ApiToken, SubjectVersion
from schemas_app.tokens import api_token_create, api_token_revoke
from tests.conftest_users import api_token
from tests.integration.api.helpers import CONTENT_TYPE, TICK_V1, TICK_V2_ADDS_FIELD, post, register

pytestmark = pytest.mark.django_db

FAST_PATH = "schemas_app.api.fast_lookups.CachedLookupMiddleware"
JAVA_CLIENT_ACCEPT = (
    "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; q=0.9, application/json; q=0.5"
)


def basic(username: str, password: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def whole_stack_answer(path: str, headers: dict):
    """Answer the request through every middleware and DRF, without the fast path."""
    with override_settings(MIDDLEWARE=[name for name in settings.MIDDLEWARE if name != FAST_PATH]):
        return Client().get(path, **headers)


def fast_path_answers(path: str, headers: dict) -> bool:
    """Return True when the fast path answers the request itself instead of passing it down the stack."""
    request = RequestFactory().get(path, **headers)
    return CachedLookupMiddleware(lambda request: None)(request) is not None


def assert_same_answer(path: str, **headers):
    """Ask the whole stack, then the fast path (so that a credential is remembered, as after any first request)."""
    expected = whole_stack_answer(path, headers)
    assert fast_path_answers(path, headers), f"the fast path passed {path} down the stack"
    answer = Client().get(path, **headers)
    assert answer.status_code == expected.status_code
    assert answer.content == expected.content
    assert without_request_id(answer.headers) == without_request_id(expected.headers)
    return answer


def without_request_id(headers) -> dict:
    return {name: value for name, value in headers.items() if name != "X-Request-ID"}


@pytest.fixture
def ticks(api) -> int:
    """Register ticks-value and ticks-v2-value; return the schema id of ticks-value version 1."""
    answer = register(api, "ticks-value", TICK_V1)
    assert answer.status_code == 200
    assert register(api, "ticks-v2-value", TICK_V2_ADDS_FIELD).status_code == 200
    return answer.json()["id"]


@pytest.fixture
def anonymous_reads(settings):
    settings.REGISTRY_ANONYMOUS_READ = True


BY_ID, BY_VERSION = "/schemas/ids/{id}", "/subjects/ticks-value/versions/1"
WRITER = basic("writer", "writer-password")
ATTACKER = "203.0.113.7"


@pytest.mark.parametrize("path", [BY_ID, BY_VERSION])
@pytest.mark.parametrize(
    "accept", [None, CONTENT_TYPE, "*/*", "application/json", "application/json; indent=4", JAVA_CLIENT_ACCEPT]
)
def test_an_anonymous_lookup_is_answered_as_the_whole_stack_answers_it(ticks, anonymous_reads, path, accept):
    answer = assert_same_answer(path.format(id=ticks), **({"HTTP_ACCEPT": accept} if accept else {}))
    assert answer.status_code == 200 and answer["Content-Type"] == CONTENT_TYPE


@pytest.mark.parametrize("path", [BY_ID, BY_VERSION])
def test_a_lookup_with_a_remembered_password_is_answered_as_the_whole_stack_answers_it(ticks, path):
    assert assert_same_answer(path.format(id=ticks), **WRITER).status_code == 200


@pytest.mark.parametrize("path", [BY_ID, BY_VERSION])
def test_a_lookup_with_a_remembered_token_is_answered_as_the_whole_stack_answers_it(ticks, writer, path):
    assert assert_same_answer(path.format(id=ticks), **bearer(api_token(writer))).status_code == 200


def test_a_deprecated_version_keeps_its_lifecycle_headers(api, ticks):
    body = {"reason": "moved", "successor": "ticks-v2-value", "sunset": "2027-03-01T00:00:00Z"}
    assert post(api, "/subjects/ticks-value/versions/1/deprecate", body).status_code == 200
    for path in (BY_VERSION, BY_ID.format(id=ticks)):
        answer = assert_same_answer(path, **WRITER)
        assert answer["Deprecation"] and answer["Sunset"] and "successor-version" in answer["Link"]


def test_a_version_deprecated_after_it_was_looked_up_answers_its_new_state(
    api, ticks, django_capture_on_commit_callbacks
):
    for _ in range(3):  # copied in this process, and its answer rendered once
        assert Client().get(BY_VERSION, **WRITER).json()["state"] == "active"
    with django_capture_on_commit_callbacks(execute=True):
        assert post(api, "/subjects/ticks-value/versions/1/deprecate", {"reason": "moved"}).status_code == 200

    assert assert_same_answer(BY_VERSION, **WRITER).json()["state"] == "deprecated"


def test_a_retired_version_answers_the_same_40402(ticks):
    version = SubjectVersion.objects.get(subject__name="ticks-value", version=1)
    version.state, version.disabled_at = SubjectVersion.State.DISABLED, timezone.now()
    version.save()
    assert assert_same_answer(BY_VERSION, **WRITER).json()["error_code"] == 40402


@pytest.mark.parametrize(
    ("path", "error_code"),
    [
        ("/subjects/ticks-value/versions/9", 40402),
        ("/subjects/no-such-value/versions/1", 40401),
        ("/schemas/ids/999999", 40403),
    ],
)
def test_an_unknown_version_or_id_answers_the_same_error(ticks, path, error_code):
    assert assert_same_answer(path, **WRITER).json()["error_code"] == error_code


def test_another_tenants_schema_id_is_unknown_to_a_bound_account(ticks, second_tenant_writer):
    answer = assert_same_answer(BY_ID.format(id=ticks), **basic("second-writer", "second-password"))
    assert answer.json()["error_code"] == 40403


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        (BY_ID + "?fetchMaxId=true", {}),
        ("/subjects/ticks-value/versions/latest", {}),
        (BY_VERSION + "?deleted=true", {}),
        ("/subjects/:.second-desk:ticks-value/versions/1", {}),
        (BY_VERSION + "/schema", {}),
        (BY_ID, {"HTTP_ACCEPT": f"{CONTENT_TYPE}; indent=4"}),
        (BY_ID, {"HTTP_COOKIE": "sessionid=abc"}),
        (BY_ID, basic("writer", "wrong-password")),
        (BY_ID, bearer("not-a-token")),
        (BY_ID, {"HTTP_AUTHORIZATION": "Digest username=writer"}),
    ],
)
def test_what_the_fast_path_does_not_know_goes_down_the_whole_stack(ticks, anonymous_reads, path, headers):
    assert not fast_path_answers(path.format(id=ticks), headers)


def test_a_credential_is_left_to_the_whole_stack_until_it_is_remembered(ticks):
    path = BY_ID.format(id=ticks)
    assert not fast_path_answers(path, WRITER)
    assert Client().get(path, **WRITER).status_code == 200
    assert fast_path_answers(path, WRITER)


def test_a_token_revoked_after_fast_lookups_is_refused_at_the_next_one(ticks, writer):
    """The fast path keeps a sign-in for a second, but any change of access ends it at once."""
    secret, path = api_token(writer), BY_ID.format(id=ticks)
    assert Client().get(path, **bearer(secret)).status_code == 200  # the whole stack remembers the token
    assert [Client().get(path, **bearer(secret)).status_code for _ in range(2)] == [200, 200]  # the fast path
    api_token_revoke(token=ApiToken.objects.get(user=writer), acting_user=writer)
    assert Client().get(path, **bearer(secret)).status_code == 401


@pytest.mark.parametrize("how", ["basic", "token"])
def test_a_deactivated_account_is_refused_at_the_next_fast_lookup(ticks, writer, how):
    path, headers = BY_ID.format(id=ticks), WRITER if how == "basic" else bearer(api_token(writer))
    assert [Client().get(path, **headers).status_code for _ in range(3)] == [200, 200, 200]
    assert fast_path_answers(path, headers)
    writer.is_active = False
    writer.save()
    assert not fast_path_answers(path, headers)
    assert Client().get(path, **headers).status_code == 401


def test_a_token_expiring_while_the_fast_path_remembers_it_is_refused_from_its_expiry(ticks, writer, monkeypatch):
    """The fast path keeps a sign-in for a second (a minute here), never past its token's expiry."""
    monkeypatch.setattr(recent_sign_ins, "SECONDS", 60.0)
    expires_at = timezone.now() + timedelta(seconds=2)
    _, secret = api_token_create(user=writer, name="short-lived", expires_at=expires_at, acting_user=writer)
    path = BY_ID.format(id=ticks)
    assert [Client().get(path, **bearer(secret)).status_code for _ in range(3)] == [200, 200, 200]
    assert fast_path_answers(path, bearer(secret))
    time.sleep(max(0.0, (expires_at - timezone.now()).total_seconds()) + 0.05)
    assert not fast_path_answers(path, bearer(secret))
    assert Client().get(path, **bearer(secret)).status_code == 401


def test_fast_lookups_with_a_token_record_its_use_once_a_minute(ticks, writer):
    secret, path = api_token(writer), BY_ID.format(id=ticks)
    assert Client().get(path, **bearer(secret)).status_code == 200  # the whole stack records the first use
    token = ApiToken.objects.get(user=writer)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=token.last_used_at - timedelta(minutes=5))
    assert [Client().get(path, **bearer(secret)).status_code for _ in range(3)] == [200, 200, 200]
    assert ApiToken.objects.get(pk=token.pk).last_used_at == token.last_used_at - timedelta(minutes=5)


def test_a_lockout_refuses_a_password_the_fast_path_signed_in_a_moment_ago(ticks, writer):
    path, client = BY_ID.format(id=ticks), Client(REMOTE_ADDR=ATTACKER)
    assert [client.get(path, **WRITER).status_code for _ in range(3)] == [200, 200, 200]
    guesses = [client.get(path, **basic("writer", f"guess-{attempt}")).status_code for attempt in range(20)]
    assert guesses == [401] * 20
    assert client.get(path, **WRITER).status_code == 429


def test_without_anonymous_reads_an_anonymous_lookup_gets_the_whole_stacks_401(ticks):
    path = BY_ID.format(id=ticks)
    assert not fast_path_answers(path, {})
    assert Client().get(path).status_code == 401


def test_a_head_request_goes_down_the_whole_stack(ticks, anonymous_reads):
    request = RequestFactory().head(BY_ID.format(id=ticks))
    assert CachedLookupMiddleware(lambda request: None)(request) is None


def counted() -> dict:
    """Return every count the registry and django-prometheus keep (latencies' sums and buckets vary: left out)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in REGISTRY.collect()
        for sample in family.samples
        if sample.name.startswith(("django_http_", "registry_")) and sample.name.endswith(("_total", "_count"))
    }


def counts_of(ask) -> dict:
    before = counted()
    ask()
    return {key: value - before.get(key, 0) for key, value in counted().items() if value != before.get(key, 0)}


@pytest.mark.parametrize("path", [BY_ID, BY_VERSION])
@pytest.mark.parametrize("headers", [{}, WRITER], ids=["anonymous", "basic"])
def test_a_lookup_moves_the_same_counts_as_through_the_whole_stack(ticks, anonymous_reads, path, headers):
    path = path.format(id=ticks)
    for _ in range(2):  # the caches warm (the database, then Redis), as for any lookup after the first ones
        whole_stack_answer(path, headers)
    through_the_stack = counts_of(lambda: whole_stack_answer(path, headers))
    assert fast_path_answers(path, headers)
    through_the_fast_path = counts_of(lambda: Client().get(path, **headers))
    assert through_the_fast_path == through_the_stack
    assert any(name == "django_http_responses_total_by_status_view_method_total" for name, _ in through_the_stack)
