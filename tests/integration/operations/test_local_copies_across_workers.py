"""Under gunicorn with two workers, a change made through one worker counts at once in the other's copies.

Both workers keep copies of what lookups read from Redis (schemas_app.local_copies); a deleted version or
a revoked token must still count from the very next request, whichever worker takes it.
"""

import json
import urllib.error
import urllib.request

import pytest

from tests.conftest_users import api_token
from tests.integration.api.helpers import TICK_V1
from tests.integration.operations.servers import gunicorn, redis_server, registry_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LOOKUP = "/subjects/ticks-value/versions/1"
# Enough requests that both workers take some (which worker takes one is not ours to choose).
REQUESTS = 30


def call(url: str, token: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"})
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def lookups(url: str, token: str) -> set:
    """Return the distinct (status, error code) answers of REQUESTS lookups of LOOKUP."""
    answers = [call(f"{url}{LOOKUP}", token) for _ in range(REQUESTS)]
    return {(status, body.get("error_code") if isinstance(body, dict) else None) for status, body in answers}


def test_a_deleted_version_and_a_revoked_token_count_at_once_in_every_worker(writer, tmp_path):
    owner_token = api_token(writer)
    with redis_server() as redis:
        env = registry_env(REDIS_URL=redis.url, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
        with gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log") as url:
            assert call(f"{url}/subjects/ticks-value/versions", owner_token, "POST", {"schema": TICK_V1})[0] == 200
            status, created = call(f"{url}/tokens", owner_token, "POST", {"name": "reader"})
            assert status == 201
            reader = created["token"]
            assert lookups(url, reader) == {(200, None)}

            assert call(f"{url}{LOOKUP}", owner_token, "DELETE")[0] == 200
            assert lookups(url, reader) == {(404, 40402)}

            assert call(f"{url}/tokens/{created['id']}", owner_token, "DELETE")[0] == 200
            assert lookups(url, reader) == {(401, 40101)}
