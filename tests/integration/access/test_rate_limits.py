"""Failed sign-ins are limited per account from one address and per address, answering 429 with Retry-After.

The API, the admin's sign-in and the people's sign-in count together, by the client's address (behind
REGISTRY_TRUSTED_PROXIES proxies, the X-Forwarded-For hop they did not add).
"""

import base64
import logging

import pytest
from django.test import Client
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


def basic_get(username: str, password: str, address: str, path: str = "/subjects", **headers):
    client = APIClient(REMOTE_ADDR=address, **headers)
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


PROXY = "10.0.0.1"
SIGN_IN_PAGES = {"admin": "/admin/login/", "people": "/accounts/login/"}


def form_sign_in(page: str, username: str, password: str, address: str, forwarded: str | None = None):
    """Post the page's sign-in form from an address (through a proxy when `forwarded` is given)."""
    headers = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {"REMOTE_ADDR": address}
    return Client(HTTP_ACCEPT="text/html", **headers).post(
        SIGN_IN_PAGES[page], {"username": username, "password": password}
    )


@pytest.mark.parametrize("page", SIGN_IN_PAGES)
def test_the_21st_wrong_password_on_a_sign_in_page_is_refused_with_429_and_logged(owner, page, caplog):
    with caplog.at_level(logging.WARNING, logger="schemas_app.authentication"):
        answers = [form_sign_in(page, "owner", f"guess-{attempt}", ATTACKER) for attempt in range(21)]
    assert [answer.status_code for answer in answers] == [200] * 20 + [429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert "Too many failed sign-ins; try again in" in answers[-1].content.decode()
    assert "locked" in caplog.text and "'owner'" in caplog.text and ATTACKER in caplog.text
    assert "guess-" not in caplog.text


@pytest.mark.parametrize("page", SIGN_IN_PAGES)
def test_a_locked_out_sign_in_page_does_not_check_even_the_right_password(owner, page):
    for attempt in range(20):
        form_sign_in(page, "owner", f"guess-{attempt}", ATTACKER)
    assert form_sign_in(page, "owner", "owner-password", ATTACKER).status_code == 429


@pytest.mark.parametrize("page", SIGN_IN_PAGES)
def test_the_right_password_from_another_address_signs_in_during_a_lockout(owner, page):
    for attempt in range(21):
        form_sign_in(page, "owner", f"guess-{attempt}", ATTACKER)
    signed_in = form_sign_in(page, "owner", "owner-password", OWNER_ADDRESS)
    assert signed_in.status_code == 302 and "_auth_user_id" in signed_in.client.session


def test_the_pages_and_the_api_count_wrong_passwords_together(owner):
    for attempt in range(10):
        form_sign_in("admin", "owner", f"guess-{attempt}", ATTACKER)
        form_sign_in("people", "owner", f"guess-{attempt}", ATTACKER)
    assert basic_get("owner", "guess-20", ATTACKER).status_code == 429


def test_a_staff_check_refusing_a_right_password_is_not_a_failure(writer):
    answers = [form_sign_in("admin", "writer", "writer-password", ATTACKER).status_code for _ in range(21)]
    assert answers == [200] * 21
    assert form_sign_in("people", "writer", "writer-password", ATTACKER).status_code == 302


@pytest.mark.parametrize("page", SIGN_IN_PAGES)
def test_behind_a_trusted_proxy_the_forwarded_client_address_is_limited(owner, page, settings):
    settings.REGISTRY_TRUSTED_PROXIES = 1
    # The attacker writes a hop of its own first; the proxy appends the address it was reached from.
    for attempt in range(20):
        form_sign_in(page, "owner", f"guess-{attempt}", ATTACKER, forwarded=f"{OWNER_ADDRESS}, {ATTACKER}")
    assert form_sign_in(page, "owner", "guess", ATTACKER, forwarded=ATTACKER).status_code == 429
    assert form_sign_in(page, "owner", "owner-password", OWNER_ADDRESS, forwarded=OWNER_ADDRESS).status_code == 302


def test_behind_a_trusted_proxy_the_api_limits_the_forwarded_client_address(writer, settings):
    settings.REGISTRY_TRUSTED_PROXIES = 1
    for attempt in range(20):
        basic_get("writer", f"guess-{attempt}", PROXY, HTTP_X_FORWARDED_FOR=f"{OWNER_ADDRESS}, {ATTACKER}")
    assert basic_get("writer", "guess", PROXY, HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    assert basic_get("writer", "writer-password", PROXY, HTTP_X_FORWARDED_FOR=OWNER_ADDRESS).status_code == 200


def test_without_trusted_proxies_a_forwarded_address_changes_nothing(writer):
    for attempt in range(20):
        basic_get("writer", f"guess-{attempt}", ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}")
    assert basic_get("writer", "writer-password", ATTACKER, HTTP_X_FORWARDED_FOR=OWNER_ADDRESS).status_code == 429
