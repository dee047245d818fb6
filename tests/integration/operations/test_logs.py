"""Structured logs: under gunicorn every line is JSON, and each request's lines carry its id, user and tenant."""

import base64
import json
import re
import urllib.error
import urllib.request

import pytest

from tests.conftest_users import api_token
from tests.integration.operations.servers import gunicorn, registry_env


def get(url: str, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_line_is_json_and_carries_the_request_id_user_and_tenant(writer, tmp_path):
    writer_token = api_token(writer)
    log = tmp_path / "registry.log"
    with gunicorn(registry_env(LOG_FORMAT="json"), workers=2, log_path=log) as url:
        status, headers = get(
            f"{url}/subjects", {"X-Request-ID": "client-id-123", "Authorization": f"Bearer {writer_token}"}
        )
        assert status == 200 and headers["X-Request-ID"] == "client-id-123"
        assert get(f"{url}/health/live?correlation_id=corr-456")[1]["X-Request-ID"] == "corr-456"
        generated = get(f"{url}/health/live", {"X-Request-ID": "not an id; has spaces"})[1]["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated)
        secret = base64.b64encode(b"writer:hunter2-never-logged").decode()
        assert get(f"{url}/subjects", {"Authorization": f"Basic {secret}", "X-Request-ID": "bad-login"})[0] == 401

    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line parses
    assert lines, "the registry wrote no log line"
    assert all({"timestamp", "level", "logger", "message", "request_id"} <= line.keys() for line in lines)

    access = {line["request_id"]: line for line in lines if line["logger"] == "registry.access"}
    listed = access["client-id-123"]
    assert (listed["path"], listed["status"], listed["user"], listed["tenant"]) == (
        "/subjects",
        200,
        "writer",
        "default",
    )
    assert access["corr-456"]["path"] == "/health/live"
    assert access[generated]["status"] == 200
    assert access["bad-login"]["status"] == 401 and access["bad-login"]["user"] == "-"
    assert "hunter2" not in text and secret not in text and writer_token not in text
