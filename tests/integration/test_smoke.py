"""The server boots and answers its health probe over real HTTP."""

import json
import urllib.request


def test_health_endpoint_answers_200_over_http(live_server):
    with urllib.request.urlopen(f"{live_server.url}/health", timeout=10) as response:
        body = json.load(response)
    assert response.status == 200
    assert body["status"] == "SERVING_STATUS_SERVING"
    assert {component["component"]: component["status"] for component in body["components"]}["postgresql"] == (
        "SERVING_STATUS_SERVING"
    )


def test_root_answers_json(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.json()["docs"] == "/docs"


def test_tests_run_on_postgresql(db):
    from django.db import connection

    assert connection.vendor == "postgresql"


def test_openapi_documents_both_apis_and_docs_render(client):
    document = client.get("/openapi.json").json()
    for path in (
        "/subjects/{subject}/versions",
        "/schemas/ids/{schema_id}",
        "/config/{subject}",
        "/schemas/{subject}/compatibility",
        "/schemas/{subject}/versions",
    ):
        assert path in document["paths"], path
    register = document["paths"]["/subjects/{subject}/versions"]["post"]
    assert "requestBody" in register
    docs = client.get("/docs")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
