"""Bearer API tokens: made, listed, rotated and revoked over /tokens, stored as keyed hashes only."""

import json
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone
from rest_framework.test import APIClient

from schemas_app.models import ApiToken
from tests.integration.api.helpers import TICK_V1, register

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def create(client, name="ci", **body):
    return client.post("/tokens", data=json.dumps({"name": name, **body}), content_type="application/json")


def test_a_new_token_is_shown_once_and_stored_as_a_keyed_hash(api, writer):
    made = create(api)
    assert made.status_code == 201
    secret = made.json()["token"]
    stored = ApiToken.objects.get(pk=made.json()["id"])
    assert secret not in (stored.digest, stored.prefix) and secret.startswith(stored.prefix)
    listed = api.get("/tokens").json()
    assert [token["prefix"] for token in listed] == [stored.prefix] and "token" not in listed[0]
    assert secret not in json.dumps(listed) and secret not in json.dumps(api.get(f"/tokens/{stored.pk}").json())


def test_a_token_signs_in_and_records_when_it_was_used(api):
    made = create(api).json()
    assert register(bearer(made["token"]), "ticks-value", TICK_V1).status_code == 200
    assert api.get(f"/tokens/{made['id']}").json()["lastUsedAt"] is not None


def test_a_wrong_token_is_refused_with_401(api):
    create(api)
    response = register(bearer("sr_not-a-token"), "ticks-value", TICK_V1)
    assert response.status_code == 401 and response.json()["error_code"] == 40101
    assert "sr_not-a-token" not in response.content.decode()


def test_a_rotated_token_stops_the_old_secret_at_once(api):
    made = create(api).json()
    rotated = api.post(f"/tokens/{made['id']}/rotate").json()
    assert rotated["token"] != made["token"] and rotated["id"] == made["id"]
    assert register(bearer(made["token"]), "ticks-value", TICK_V1).status_code == 401
    assert register(bearer(rotated["token"]), "ticks-value", TICK_V1).status_code == 200


def test_a_revoked_token_is_refused_and_stays_listed(api):
    made = create(api).json()
    assert api.delete(f"/tokens/{made['id']}").json()["revoked"] is True
    assert register(bearer(made["token"]), "ticks-value", TICK_V1).status_code == 401
    assert [token["revoked"] for token in api.get("/tokens").json()] == [True]


def test_an_expired_token_is_refused(api):
    made = create(api, expiresAt=(timezone.now() + timedelta(hours=1)).isoformat()).json()
    ApiToken.objects.filter(pk=made["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert register(bearer(made["token"]), "ticks-value", TICK_V1).status_code == 401


def test_another_accounts_token_answers_as_an_unknown_one(api, outsider_client):
    made = create(api).json()
    answers = (outsider_client.get(f"/tokens/{made['id']}"), outsider_client.delete(f"/tokens/{made['id']}"))
    for response in answers:
        assert response.status_code == 404 and response.json()["error_code"] == 40410
    assert outsider_client.get("/tokens").json() == []


def test_a_superuser_makes_tokens_for_a_service_account_and_nobody_else_may(admin, outsider, api):
    made = create(admin, user="outsider")
    assert made.status_code == 201 and made.json()["user"] == "outsider"
    refused = create(api, user="outsider")
    assert refused.status_code == 403 and refused.json()["error_code"] == 40301


def test_tokens_need_a_signed_in_caller(anonymous):
    response = anonymous.get("/tokens")
    assert response.status_code == 401 and response.json()["error_code"] == 40101


def test_the_audit_trail_records_tokens_without_their_secret_or_hash(api):
    made = create(api).json()
    api.post(f"/tokens/{made['id']}/rotate")
    entries = LogEntry.objects.filter(content_type__model="apitoken")
    assert entries.count() == 2
    history = json.dumps([entry.changes for entry in entries])
    assert made["token"] not in history and ApiToken.objects.get().digest not in history
