"""RegistryClient's configuration follows confluent-kafka's keys, and failures say what was asked of whom."""

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


@contextmanager
def recording_server():
    """A local HTTP server that answers every GET with a schema and records the Authorization headers it saw."""
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            body = json.dumps({"schema": 'syntax = "proto3";', "schemaType": "PROTOBUF"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("credentials", "header"),
    [
        ({"basic.auth.user.info": "ada:secret"}, "Basic YWRhOnNlY3JldA=="),
        ({"bearer.auth.token": "tok", "bearer.auth.credentials.source": "STATIC_TOKEN"}, "Bearer tok"),
        ({}, None),
    ],
)
def test_credentials_are_sent_as_the_authorization_header(credentials, header):
    with recording_server() as (url, seen):
        RegistryClient({"url": url, **credentials}).get_schema(1)
    assert seen == [header]


def test_an_unreachable_registry_is_retried_with_backoff_then_named_in_the_error():
    url = f"http://127.0.0.1:{closed_port()}"
    client = RegistryClient({"url": url, "max.retries": 2, "retries.wait.ms": 50, "retries.max.wait.ms": 50})
    started = time.monotonic()
    with pytest.raises(SchemaRegistryError) as raised:
        client.get_schema(1)
    assert time.monotonic() - started < 5
    assert raised.value.http_status_code == -1
    assert f"GET {url}/schemas/ids/1 could not reach the registry" in str(raised.value)
