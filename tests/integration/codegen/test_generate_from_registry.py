"""`generate_code --from-registry`: the same archive as the API's, built on the client from the registry's REST API."""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.integration.codegen.helpers import ORDERS, body_of, wait_for_job

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_command_builds_the_archive_the_api_serves_byte_for_byte(live_server, catalogue, ci, tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_PASSWORD", "ci-password")
    out = StringIO()

    call_command(
        "generate_code",
        "--python",
        "--from-registry",
        live_server.url,
        "--subject",
        ORDERS,
        "--user",
        "ci-bot",
        "--zip",
        "--out",
        str(tmp_path),
        stdout=out,
    )

    started = ci.post("/generate/python", {"subject": ORDERS}, format="json").json()
    assert wait_for_job(ci, started["status_url"])["state"] == "succeeded"
    version = started["version"]
    assert f"python: version {version}" in out.getvalue()
    assert (tmp_path / f"python-{version}.zip").read_bytes() == body_of(ci.get(started["download_url"]))
    assert (tmp_path / "python" / "trading" / "orders_pb2.py").is_file()
    assert (tmp_path / "python" / "common" / "money_pb2.py").is_file()


def test_it_needs_a_subject(live_server):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--from-registry takes --subject"):
        call_command("generate_code", "--python", "--from-registry", live_server.url, stdout=StringIO())
