"""Two registry processes (two gunicorn instances on different ports) on one PostgreSQL and one Redis stay
consistent while clients register to the same subjects through both at once.

Each instance also reads through the replica router, with the test database standing in for a replica.
"""

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest_users import api_token
from tests.integration.operations.servers import database_url, gunicorn, redis_server, registry_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WRITERS = 6
STEPS = 4
SHARED = 'syntax = "proto3";\npackage race.v1;\nmessage Shared {\n  string tenant_id = 1;\n}\n'


def schema(writer: int, step: int) -> str:
    return (
        f'syntax = "proto3";\npackage race.v1;\nmessage Event {{\n  string tenant_id = 1;\n'
        f"  string field_{writer}_{step} = {2 + writer * STEPS + step};\n}}\n"
    )


def call(token: str, url: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict | list]:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"})
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_two_instances_on_one_database_never_duplicate_or_lose_versions(writer, tmp_path):
    token = api_token(writer)
    with redis_server() as redis:
        env = registry_env(REDIS_URL=redis.url, DATABASE_REPLICA_URLS=database_url())
        with (
            gunicorn(env, workers=2, log_path=tmp_path / "first.log") as first,
            gunicorn(env, workers=2, log_path=tmp_path / "second.log") as second,
        ):
            instances = (first, second)
            for subject in ("race-a", "race-b"):
                assert call(token, f"{first}/config/{subject}", "PUT", {"compatibility": "NONE"})[0] == 200

            errors, shared_ids = [], []
            lock = threading.Lock()

            def client(index: int) -> None:
                for step in range(STEPS):
                    url = instances[(index + step) % 2]  # every client alternates between the two instances
                    status, body = call(
                        token, f"{url}/subjects/race-a/versions", "POST", {"schema": schema(index, step)}
                    )
                    status_b, body_b = call(token, f"{url}/subjects/race-b/versions", "POST", {"schema": SHARED})
                    with lock:
                        if status != 200 or status_b != 200:
                            errors.append((status, body, status_b, body_b))
                        else:
                            shared_ids.append(body_b["id"])

            with ThreadPoolExecutor(max_workers=WRITERS) as pool:
                list(pool.map(client, range(WRITERS)))
            assert errors == []

            total = WRITERS * STEPS
            answers = [call(token, f"{url}/subjects/race-a/versions")[1] for url in instances]
            assert answers[0] == answers[1] == list(range(1, total + 1)), "consecutive versions, none twice, none lost"
            assert [call(token, f"{url}/subjects/race-b/versions")[1] for url in instances] == [[1], [1]]
            assert len(set(shared_ids)) == 1, "one content, one id, whichever instance registered it"

            ids = set()
            for version in range(1, total + 1):
                seen = [call(token, f"{url}/subjects/race-a/versions/{version}")[1] for url in instances]
                assert seen[0]["id"] == seen[1]["id"] and seen[0]["schema"] == seen[1]["schema"]
                ids.add(seen[0]["id"])
            assert len(ids) == total, "every distinct schema got its own id"
