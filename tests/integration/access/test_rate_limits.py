"""Failed sign-ins are limited per account from one address and per address, answering 429 with Retry-After."""

import base64
import logging

import pytest
from rest_framework.test import APIClient

from schemas_app.api.authentication import verified_credentials

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
OWNER_ADDRESS = "198.51.100.2"


@pytest.fixture(autouse=True)
def _forget_credentials():
    verified_credentials.clear()
    yield
    verified_credentials.clear()


def basic_get(username: str, password: str, address: str, path: str = "/subjects"):
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{username}:{password}".encode()).decode())
    return client.get(path)


def test_the_21st_wrong_password_in_a_minute_is_refused_with_429_and_retry_after(writer, caplog):
    with caplog.at_level(logging.WARNING, logger="schemas_app.authentication"):
        answers = [basic_get("writer", f"guess-{attempt}", ATTACKER).status_code for attempt in range(21)]
    assert answers == [401] * 20 + [429]
    locked = basic_get("writer", "guess-21", ATTACKER)
    assert locked.json()["error_code"] == 42901 and 1 <= int(locked["Retry-After"]) <= 60
    assert "locked" in caplog.text and "'writer'" in caplog.text and ATTACKER in caplog.text
    assert "guess-" not in caplog.text


def test_the_right_password_from_another_address_still_works_during_a_lockout(writer):
    for attempt in range(21):
        basic_get("writer", f"guess-{attempt}", ATTACKER)
    assert basic_get("writer", "writer-password", OWNER_ADDRESS).status_code == 200
    assert basic_get("writer", "writer-password", ATTACKER).status_code == 429


def test_one_address_guessing_many_accounts_is_limited_too(writer, settings):
    settings.REGISTRY_AUTH_FAILURES_PER_ADDRESS = 5
    answers = [basic_get(f"account-{attempt}", "guess", ATTACKER).status_code for attempt in range(6)]
    assert answers == [401] * 5 + [429]
    assert basic_get("writer", "writer-password", OWNER_ADDRESS).status_code == 200


def test_wrong_tokens_are_limited_per_address(settings):
    settings.REGISTRY_AUTH_FAILURES_PER_ADDRESS = 3
    client = APIClient(REMOTE_ADDR=ATTACKER)
    client.credentials(HTTP_AUTHORIZATION="Bearer sr_guess")
    assert [client.get("/subjects").status_code for _ in range(4)] == [401, 401, 401, 429]


def test_passwords_never_appear_in_error_bodies(writer):
    response = basic_get("writer", "a-secret-guess", ATTACKER)
    assert response.status_code == 401 and "a-secret-guess" not in response.content.decode()
