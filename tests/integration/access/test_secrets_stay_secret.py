"""Passwords and tokens never appear in logs, error bodies or the audit trail.

Each test captures every log record (DEBUG and up, any logger) and everything written to the process's
stdout and stderr, then searches them, the answers' bodies (but the one that hands a new token out) and
the whole audit trail for the secret strings.
"""

import base64
import json
import logging
import zlib

import pytest
from auditlog.models import LogEntry
from django.core import signing
from django.test import Client
from rest_framework.test import APIClient

from schemas_app import selectors
from schemas_app.api.authentication import verified_credentials
from schemas_app.models import Subscription
from tests.conftest_users import api_token

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "wrong-password-7f3c9a"
NEW_PASSWORD = "new-password-d41e8b"


@pytest.fixture(autouse=True)
def _forget_credentials():
    verified_credentials.clear()
    yield
    verified_credentials.clear()


@pytest.fixture
def everything_written(caplog, capfd):
    """Return a function that gives every log record and every byte written to stdout and stderr so far."""
    caplog.set_level(logging.DEBUG)

    def written() -> str:
        out, err = capfd.readouterr()
        return "\n".join([caplog.text, *(record.getMessage() for record in caplog.records), out, err])

    return written


def audit_trail() -> str:
    return json.dumps(list(LogEntry.objects.values()), default=str)


def basic(username: str, password: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{username}:{password}".encode()).decode())
    return client


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def assert_nowhere(secrets, *, written: str, bodies=()):
    for secret in secrets:
        assert secret not in written, f"{secret!r} was logged"
        assert secret not in audit_trail(), f"{secret!r} is in the audit trail"
        for body in bodies:
            assert secret not in body, f"{secret!r} was answered"


def test_a_failed_basic_sign_in_leaves_the_password_nowhere(writer, everything_written):
    header = base64.b64encode(f"writer:{WRONG_PASSWORD}".encode()).decode()
    answers = [basic("writer", WRONG_PASSWORD).get("/subjects") for _ in range(21)]  # up to the lockout's log line

    assert [answer.status_code for answer in answers][-2:] == [401, 429]
    written = everything_written()
    assert "Sign-in locked" in written and "GET /subjects 401" in written  # the capture sees the logs
    bodies = [answer.content.decode() for answer in answers]
    assert_nowhere([WRONG_PASSWORD, header], written=written, bodies=bodies)


def test_a_right_basic_sign_in_leaves_the_password_nowhere(writer, everything_written):
    answer = basic("writer", "writer-password").get("/subjects")

    assert answer.status_code == 200
    assert_nowhere(["writer-password"], written=everything_written(), bodies=[answer.content.decode()])


def test_a_failed_token_leaves_the_token_nowhere(writer, everything_written):
    guessed = "sr_guessed-token-5b2e1d"
    revoked = api_token(writer)
    own = APIClient()
    own.force_authenticate(writer)
    assert own.delete(f"/tokens/{own.get('/tokens').json()[0]['id']}").status_code in (200, 204)

    answers = [bearer(secret).get("/subjects") for secret in (guessed, revoked)]

    assert [answer.status_code for answer in answers] == [401, 401]
    written = everything_written()
    assert "GET /subjects 401" in written
    bodies = [answer.content.decode() for answer in answers]
    assert_nowhere([guessed, revoked], written=written, bodies=bodies)


def test_making_rotating_and_using_a_token_leaves_the_secret_only_in_the_answer_that_hands_it_out(
    writer, everything_written
):
    client = APIClient()
    client.force_authenticate(writer)
    made = client.post("/tokens", data=json.dumps({"name": "ci"}), content_type="application/json")
    rotated = client.post(f"/tokens/{made.json()['id']}/rotate")
    secrets = [made.json()["token"], rotated.json()["token"]]
    used = bearer(secrets[1]).get("/subjects")
    listed = client.get("/tokens")

    assert made.status_code == 201 and rotated.status_code == 200 and used.status_code == 200
    written = everything_written()
    assert "POST /tokens 201" in written and LogEntry.objects.filter(object_repr__contains="ci").exists()
    bodies = [used.content.decode(), listed.content.decode()]
    assert_nowhere(secrets, written=written, bodies=bodies)


def test_changing_a_password_leaves_both_passwords_nowhere(writer, everything_written):
    browser = Client(HTTP_ACCEPT="text/html")
    browser.force_login(writer)
    refused = browser.post(
        "/accounts/password_change/",
        {"old_password": WRONG_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    changed = browser.post(
        "/accounts/password_change/",
        {"old_password": "writer-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    signed_in = basic("writer", NEW_PASSWORD).get("/subjects")

    assert refused.status_code == 200 and changed.status_code == 302 and signed_in.status_code == 200
    writer.refresh_from_db()
    written = everything_written()
    assert "POST /accounts/password_change/ 302" in written
    secrets = [WRONG_PASSWORD, NEW_PASSWORD, "writer-password", writer.password]
    assert_nowhere(secrets, written=written, bodies=[refused.content.decode(), signed_in.content.decode()])


def test_an_admin_setting_a_password_leaves_it_nowhere(owner, writer, everything_written):
    console = Client(HTTP_ACCEPT="text/html")
    console.force_login(owner)
    changed = console.post(
        f"/admin/auth/user/{writer.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert changed.status_code == 302, changed.content.decode()[:2000]
    writer.refresh_from_db()
    assert writer.check_password(NEW_PASSWORD)
    written = everything_written()
    assert f"/admin/auth/user/{writer.pk}/password/ 302" in written
    assert_nowhere([NEW_PASSWORD, writer.password], written=written)


def cookies_set_by(*responses) -> str:
    """Return every cookie the answers set, signed values also decoded as their holder can, with no key."""
    texts = []
    for response in responses:
        for morsel in response.cookies.values():
            texts.append(morsel.OutputString())
            payload = morsel.value.split(":")[0]
            try:
                data = signing.b64_decode(payload.removeprefix(".").encode())
                texts.append((zlib.decompress(data) if payload.startswith(".") else data).decode())
            except (ValueError, zlib.error):
                pass  # not signed data: its value above is all there is to read
    return "\n".join(texts)


def test_a_token_made_in_the_admin_is_shown_once_and_never_travels_in_a_cookie(console, writer):
    made = console.post("/admin/schemas_app/apitoken/add/", {"user": writer.pk, "name": "ci", "expires_at": ""})
    shown = console.get(made["Location"])

    secret = shown.content.decode().split("it is not shown again: ")[1].split("<")[0].strip()
    assert secret.startswith("sr_")
    assert secret not in cookies_set_by(made, shown)


def test_a_webhook_secret_made_in_the_admin_is_shown_once_and_never_travels_in_a_cookie(console, owner):
    made = console.post(
        "/admin/schemas_app/subscription/add/",
        {
            "tenant": selectors.default_tenant().pk,
            "owner": owner.pk,
            "webhook_url": "https://hooks.example.org/registry",
            "events": "[]",
            "active": "on",
        },
    )
    shown = console.get(made["Location"])

    secret = Subscription.objects.get().webhook_secret
    assert secret in shown.content.decode()
    assert secret not in cookies_set_by(made, shown)
