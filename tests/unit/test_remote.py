"""The remote registry client sends its credentials to the URL it was given and nowhere else."""

import pytest

from schemas_app.remote import RemoteError, RemoteRegistry
from tests.local_servers import Listener, Receiver

MONEY = "common/money.proto"
MONEY_TEXT = 'syntax = "proto3";\npackage common;\nmessage Money { int64 units = 1; }\n'


def failure_of(call) -> Exception | None:
    """Return what the call raises, None when it succeeds, so that a test asserts what reached the servers first."""
    try:
        call()
    except Exception as error:  # a followed redirect's empty answer makes register() fail otherwise
        return error
    return None


def credentials_received(server: Receiver) -> list[str]:
    return [headers["Authorization"] for headers, _body in server.received if "Authorization" in headers]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_registry_that_redirects_is_not_followed_and_the_error_says_where_it_pointed(status):
    with Receiver() as elsewhere, Receiver(statuses=[status], location=elsewhere.url) as registry:
        client = RemoteRegistry(registry.url, token="ci-token")
        error = failure_of(lambda: client.version_numbers(MONEY))
    assert credentials_received(elsewhere) == []
    assert elsewhere.received == []
    assert len(registry.received) == 1
    assert isinstance(error, RemoteError) and error.status == status
    assert f"the registry at {registry.url} redirected to {elsewhere.url!r}" in error.message


def test_a_registration_answered_with_see_other_sends_no_basic_credentials_elsewhere():
    with Receiver() as elsewhere, Receiver(statuses=[303], location=elsewhere.url) as registry:
        client = RemoteRegistry(registry.url, user="deployer", password="deployer-password")
        error = failure_of(lambda: client.register(MONEY, MONEY_TEXT, []))
    assert credentials_received(elsewhere) == []  # urllib resent it as a GET, Authorization header and all
    assert elsewhere.received == []
    assert isinstance(error, RemoteError) and f"redirected to {elsewhere.url!r}" in error.message


def test_a_registry_cannot_point_the_client_at_an_ftp_address():
    with Listener() as ftp, Receiver(statuses=[302], location=f"ftp://127.0.0.1:{ftp.port}/registry") as registry:
        client = RemoteRegistry(registry.url, token="ci-token", timeout=1.0)
        error = failure_of(lambda: client.latest_version(MONEY))
    assert ftp.connections == 0
    assert isinstance(error, RemoteError) and f"redirected to 'ftp://127.0.0.1:{ftp.port}/registry'" in error.message


def test_a_relative_location_is_named_as_the_address_it_resolves_to():
    with Receiver(statuses=[301], location="/registry/subjects") as registry:
        error = failure_of(lambda: RemoteRegistry(registry.url).version_numbers(MONEY))
    origin = registry.url.removesuffix("/hook")
    assert isinstance(error, RemoteError) and f"redirected to '{origin}/registry/subjects'" in error.message


def test_a_registry_that_moved_with_its_paths_is_named_as_the_url_to_give():
    with Receiver(statuses=[301]) as registry:
        origin = registry.url.removesuffix("/hook")
        registry.location = f"{origin}/moved/subjects/common%2Fmoney.proto/versions"
        error = failure_of(lambda: RemoteRegistry(registry.url).version_numbers(MONEY))
    assert isinstance(error, RemoteError) and error.message.endswith(f"give {origin}/moved if that is the registry")
