"""Every error answer is JSON with Confluent's error code; never an HTML page or a stack trace."""

import pytest

from tests.integration.api.helpers import MONEY, ORDER_WITH_MONEY, TICK_V1, post, register

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_code"] == code and isinstance(body["message"], str) and body["message"]


def test_unknown_subject_is_40401(api):
    assert_error(api.get("/subjects/nope/versions"), 404, 40401)
    assert_error(api.get("/subjects/nope/versions/1"), 404, 40401)


def test_unknown_version_is_40402(api):
    register(api, "ticks-value", TICK_V1)
    assert_error(api.get("/subjects/ticks-value/versions/9"), 404, 40402)


def test_unknown_schema_id_is_40403(api):
    assert_error(api.get("/schemas/ids/999999"), 404, 40403)
    register(api, "ticks-value", TICK_V1)
    assert_error(post(api, "/subjects/ticks-value", {"schema": MONEY}), 404, 40403)


def test_deleting_a_soft_deleted_subject_again_is_40404(api):
    register(api, "ticks-value", TICK_V1)
    api.delete("/subjects/ticks-value")
    assert_error(api.delete("/subjects/ticks-value"), 404, 40404)


def test_permanent_delete_before_soft_delete_is_40405(api):
    register(api, "ticks-value", TICK_V1)
    assert_error(api.delete("/subjects/ticks-value?permanent=true"), 404, 40405)


def test_version_soft_delete_states_are_40406_and_40407(api):
    register(api, "ticks-value", TICK_V1)
    assert_error(api.delete("/subjects/ticks-value/versions/1?permanent=true"), 404, 40407)
    assert api.delete("/subjects/ticks-value/versions/1").json() == 1
    assert_error(api.delete("/subjects/ticks-value/versions/1"), 404, 40406)


def test_subject_without_own_config_is_40408(api):
    assert_error(api.get("/config/ticks-value"), 404, 40408)


def test_invalid_schema_is_42201_with_protocs_line_and_column(api):
    response = register(api, "ticks-value", 'syntax = "proto3";\nmessage A {\n  strin a = 1;\n}\n')
    assert_error(response, 422, 42201)
    assert "3:3" in response.json()["message"] and "strin" in response.json()["message"]


def test_invalid_version_is_42202(api):
    register(api, "ticks-value", TICK_V1)
    assert_error(api.get("/subjects/ticks-value/versions/zero"), 422, 42202)
    assert_error(api.get("/subjects/ticks-value/versions/0"), 422, 42202)


def test_invalid_compatibility_level_is_42203(api):
    assert_error(api.put("/config", {"compatibility": "SIDEWAYS"}, format="json"), 422, 42203)


def test_invalid_mode_is_42204(api):
    assert_error(api.put("/mode", {"mode": "SOMETIMES"}, format="json"), 422, 42204)


def test_deleting_the_tenant_wide_mode_is_405_as_on_confluent_and_keeps_it(api):
    assert api.put("/mode", {"mode": "READONLY"}, format="json").status_code == 200
    assert_error(api.delete("/mode"), 405, 405)
    assert api.get("/mode").json() == {"mode": "READONLY"}


def test_the_methods_allowed_are_those_each_path_takes(api):
    deleted = api.delete("/mode")
    assert deleted["Allow"] == "GET, PUT, HEAD, OPTIONS"
    assert "set it to the mode wanted instead (PUT /mode)" in deleted.json()["message"]
    assert api.options("/mode")["Allow"] == "GET, PUT, HEAD, OPTIONS"
    # Confluent deletes a subject's mode, and both the tenant-wide and a subject's compatibility config.
    for path in ("/mode/ticks-value", "/config", "/config/ticks-value"):
        assert api.options(path)["Allow"] == "GET, PUT, DELETE, HEAD, OPTIONS", path


def test_writing_in_read_only_mode_is_42205(api):
    api.put("/mode/ticks-value", {"mode": "READONLY"}, format="json")
    assert_error(register(api, "ticks-value", TICK_V1), 422, 42205)


def test_deleting_a_referenced_version_is_42206(api):
    register(api, "common/money.proto", MONEY)
    register(
        api,
        "orders-value",
        ORDER_WITH_MONEY,
        [{"name": "common/money.proto", "subject": "common/money.proto", "version": 1}],
    )
    assert_error(api.delete("/subjects/common%2Fmoney.proto/versions/1"), 422, 42206)
    assert_error(api.delete("/subjects/common%2Fmoney.proto"), 422, 42206)


def test_invalid_subject_name_is_42208(api):
    assert_error(register(api, "bad%0Aname", TICK_V1), 422, 42208)


def test_schema_too_large_is_42209(api, settings):
    settings.REGISTRY_MAX_SCHEMA_BYTES = 1024
    assert_error(register(api, "ticks-value", TICK_V1 + "//" + "x" * 2000), 422, 42209)


def test_a_malformed_body_is_a_json_error(api):
    response = api.post("/subjects/ticks-value/versions", data="{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error_code"] == 400


def test_an_unknown_path_is_a_json_404(api):
    response = api.get("/no/such/path")
    assert response.status_code == 404 and response.json()["error_code"] == 404


def test_anonymous_clients_may_not_read_by_default(anonymous, api):
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    assert_error(anonymous.get(f"/schemas/ids/{schema_id}"), 401, 40101)


def test_anonymous_clients_may_read_but_not_write_when_anonymous_reads_are_on(anonymous, api, settings):
    settings.REGISTRY_ANONYMOUS_READ = True
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    assert anonymous.get(f"/schemas/ids/{schema_id}").status_code == 200
    response = register(anonymous, "ticks-value", TICK_V1)
    assert_error(response, 401, 40101)


def test_a_signed_in_outsider_may_not_write(outsider_client):
    assert_error(register(outsider_client, "ticks-value", TICK_V1), 403, 40301)


@pytest.mark.parametrize(
    "content_type",
    ["application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json", "application/json"],
)
def test_every_confluent_content_type_is_accepted(api, content_type):
    import json

    response = api.post(
        "/subjects/ticks-value/versions",
        data=json.dumps({"schema": TICK_V1}),
        content_type=content_type,
        HTTP_ACCEPT="application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json",
    )
    assert response.status_code == 200


def test_djangos_own_404_and_403_keep_their_status_inside_the_api():
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from schemas_app.api.common import registry_exception_handler

    assert registry_exception_handler(Http404("gone"), {}).status_code == 404
    denied = registry_exception_handler(PermissionDenied(), {})
    assert denied.status_code == 403 and denied.data["error_code"] == 40301
