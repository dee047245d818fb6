"""Basic authentication, as Kafka clients send it on every request."""

import base64

import pytest
from rest_framework.test import APIClient

from schemas_app.api.authentication import verified_credentials
from tests.conftest_users import api_token
from tests.integration.api.helpers import TICK_V1, register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_credentials():
    verified_credentials.clear()
    yield
    verified_credentials.clear()


def basic_client(username: str, password: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{username}:{password}".encode()).decode())
    return client


def test_basic_credentials_register_and_are_remembered(writer):
    client = basic_client("writer", "writer-password")
    assert register(client, "ticks-value", TICK_V1).status_code == 200
    assert register(client, "ticks-value", TICK_V1).status_code == 200
    assert len(verified_credentials) == 1


def test_a_wrong_password_is_refused_even_after_a_right_one(writer):
    assert register(basic_client("writer", "writer-password"), "ticks-value", TICK_V1).status_code == 200
    response = register(basic_client("writer", "wrong"), "ticks-value", TICK_V1)
    assert response.status_code == 401 and response.json()["error_code"] == 40101


def test_a_changed_password_stops_the_remembered_one_at_once(writer):
    client = basic_client("writer", "writer-password")
    assert register(client, "ticks-value", TICK_V1).status_code == 200
    writer.set_password("a-new-password")
    writer.save()
    assert register(client, "ticks-value", TICK_V1).status_code == 401
    assert register(basic_client("writer", "a-new-password"), "ticks-value", TICK_V1).status_code == 200


def test_a_deactivated_user_is_refused_at_once(writer):
    client = basic_client("writer", "writer-password")
    assert register(client, "ticks-value", TICK_V1).status_code == 200
    writer.is_active = False
    writer.save()
    assert register(client, "ticks-value", TICK_V1).status_code == 401


def test_an_api_token_authenticates_too(writer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token(writer)}")
    assert register(client, "ticks-value", TICK_V1).status_code == 200
