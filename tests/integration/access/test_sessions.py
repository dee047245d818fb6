"""The browser signs in with a session, and its changes need the CSRF token."""

import json

import pytest
from django.test import Client

from tests.integration.api.helpers import CONTENT_TYPE, TICK_V1

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(writer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(writer)
    return client


def register_through(browser, **headers):
    body = json.dumps({"schema": TICK_V1})
    return browser.post("/subjects/ticks-value/versions", data=body, content_type=CONTENT_TYPE, **headers)


def test_a_session_reads_without_a_csrf_token(browser):
    assert browser.get("/subjects").status_code == 200


def test_a_session_change_without_the_csrf_token_is_refused(browser):
    response = register_through(browser)
    assert response.status_code == 403 and response.json()["error_code"] == 40301
    assert "CSRF" in response.json()["message"]


def test_a_session_change_with_the_csrf_token_goes_through(browser):
    browser.get("/admin/login/")  # any page that renders a form sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    assert register_through(browser, HTTP_X_CSRFTOKEN=token).status_code == 200
