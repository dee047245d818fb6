"""RegistryClient's configuration follows confluent-kafka's keys, and failures say what was asked of whom."""

import socket
import time

import pytest

from registry_client import ConfigurationError, RegistryClient, SchemaRegistryError


def closed_port() -> int:
    """Return a port nothing listens on (bound to port 0, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unknown_keys_are_refused_by_name():
    with pytest.raises(ConfigurationError, match="schema.registry.url"):
        RegistryClient({"url": "http://127.0.0.1:8081", "schema.registry.url": "x"})


@pytest.mark.parametrize(
    "conf",
    [
        {},
        {"url": "127.0.0.1:8081"},
        {"url": "http://a", "basic.auth.user.info": "nocolon"},
        {"url": "http://a", "basic.auth.user.info": "a:b", "bearer.auth.token": "t"},
        {"url": "http://a", "max.retries": -1},
        {"url": "http://a", "cache.capacity": "many"},
    ],
)
def test_bad_configurations_fail_at_construction(conf):
    with pytest.raises(ConfigurationError):
        RegistryClient(conf)


def test_basic_and_bearer_credentials_become_authorization_headers():
    basic = RegistryClient({"url": "http://a", "basic.auth.user.info": "ada:secret"})
    bearer = RegistryClient({"url": "http://a", "bearer.auth.token": "tok", "bearer.auth.credentials.source": "X"})
    assert basic._http.headers["Authorization"] == "Basic YWRhOnNlY3JldA=="
    assert bearer._http.headers["Authorization"] == "Bearer tok"


def test_an_unreachable_registry_is_retried_with_backoff_then_named_in_the_error():
    url = f"http://127.0.0.1:{closed_port()}"
    client = RegistryClient({"url": url, "max.retries": 2, "retries.wait.ms": 50, "retries.max.wait.ms": 50})
    started = time.monotonic()
    with pytest.raises(SchemaRegistryError) as raised:
        client.get_schema(1)
    assert time.monotonic() - started < 5
    assert raised.value.http_status_code == -1
    assert f"GET {url}/schemas/ids/1 could not reach the registry" in str(raised.value)
