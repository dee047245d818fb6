"""Regression tests of issue 9: each hostile request a tester found answers the JSON error shape and stores nothing."""

import json

import pytest
from django.test import Client

from schemas_app.models import Schema, SchemaReference, Subject, SubjectVersion
from tests.integration.api.helpers import (
    CONTENT_TYPE,
    MONEY,
    ORDER_WITH_MONEY,
    TICK_V1,
    TICK_V2_ADDS_FIELD,
    post,
    register,
)

pytestmark = pytest.mark.django_db


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/"), response["Content-Type"]
    body = response.json()
    assert isinstance(body["error_code"], int) and isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["error_code"] == code, body


def nothing_stored():
    return not Schema.objects.exists() and not SubjectVersion.objects.exists()


# 1. A body over the limit answers 413 in the error shape, before anything reads it.


@pytest.mark.parametrize(
    "path", ["/subjects/ticks-value/versions", "/compatibility/subjects/ticks-value/versions/latest", "/config"]
)
def test_a_body_over_the_limit_is_413_in_the_error_shape(api, settings, path):
    settings.REGISTRY_MAX_SCHEMA_BYTES = 1024
    body = json.dumps({"schema": "x" * 20_000})
    response = api.generic("POST", path, body, content_type=CONTENT_TYPE)
    assert_error(response, 413, 42209)
    assert nothing_stored()


def test_a_body_over_the_limit_is_413_for_anonymous_clients_too(settings):
    settings.REGISTRY_MAX_SCHEMA_BYTES = 1024
    response = Client().post(
        "/compatibility/subjects/ticks-value/versions", json.dumps({"schema": "x" * 20_000}), content_type=CONTENT_TYPE
    )
    assert_error(response, 413, 42209)


def test_a_schema_at_the_limit_still_registers(api, settings):
    settings.REGISTRY_MAX_SCHEMA_BYTES = 4096
    text = TICK_V1 + '// x\\"\n' * 500  # escaping doubles it in JSON; still under the schema limit
    assert len(text.encode()) < 4096
    assert register(api, "ticks-value", text).status_code == 200


# 2. Numbers: range-checked, ASCII digits only.


@pytest.mark.parametrize("name", ["limit", "offset"])
@pytest.mark.parametrize("path", ["/subjects", "/schemas"])
@pytest.mark.parametrize("value", ["9223372036854775808", "2147483648", "-5", "١", "1e3", " 1"])
def test_out_of_range_or_non_ascii_paging_is_400(api, path, name, value):
    assert_error(api.get(path, {name: value}), 400, 400)


def test_paging_in_range_still_works(api):
    register(api, "ticks-value", TICK_V1)
    assert api.get("/subjects", {"limit": "2147483647", "offset": "0"}).json() == ["ticks-value"]
    assert api.get("/subjects", {"limit": "-1"}).json() == ["ticks-value"]


@pytest.mark.parametrize("version", ["١", "٢", "9223372036854775808", "2147483648", "+1", "01x", "1.0"])
def test_a_version_in_other_digits_or_out_of_range_is_42202(api, version):
    register(api, "ticks-value", TICK_V1)
    assert_error(api.get(f"/subjects/ticks-value/versions/{version}"), 422, 42202)


@pytest.mark.parametrize("schema_id", ["9223372036854775808", "2147483648", "١", "0"])
def test_a_schema_id_out_of_range_or_in_other_digits_is_40403(api, schema_id):
    register(api, "ticks-value", TICK_V1)
    for suffix in ("", "/schema", "/versions", "/subjects"):
        assert_error(api.get(f"/schemas/ids/{schema_id}{suffix}"), 404)


# 3. Nesting depth is bounded before parsing.


@pytest.mark.parametrize(
    "path",
    ["/subjects/ticks-value/versions", "/subjects/ticks-value", "/compatibility/subjects/ticks-value/versions"],
)
def test_json_nested_100000_deep_is_400(api, path):
    body = "[" * 100_000 + "]" * 100_000
    assert_error(api.generic("POST", path, body, content_type=CONTENT_TYPE), 400, 400)


def test_metadata_nested_5000_deep_is_400_and_nothing_is_stored(api):
    metadata = '{"a":' * 5000 + "1" + "}" * 5000
    body = '{"schema": ' + json.dumps(TICK_V1) + ', "metadata": ' + metadata + "}"
    assert_error(api.generic("POST", "/subjects/ticks-value/versions", body, content_type=CONTENT_TYPE), 400, 400)
    assert nothing_stored()


@pytest.mark.parametrize(("comment", "named"), [("// HIGH\n", "U+D83D"), ("// caf\u00e9 LOW HIGH\n", "U+DFFF")])
def test_a_schema_holding_a_lone_surrogate_is_refused_naming_the_first(api, comment, named):
    """JSON can carry half of a UTF-16 pair, which no text encoding can store."""
    body = json.dumps({"schema": comment + TICK_V1}).replace("HIGH", "\\ud83d").replace("LOW", "\\udfff")
    answer = api.generic("POST", "/subjects/ticks-value/versions", body, content_type=CONTENT_TYPE)
    assert_error(answer, 422)
    assert f"Surrogate characters are not allowed: {named}" in answer.json()["message"]
    assert nothing_stored()


def test_brackets_inside_strings_do_not_count_as_nesting(api):
    body = {"schema": TICK_V1, "metadata": {"properties": {"note": "[{" * 5000 + '\\"]'}}}
    assert post(api, "/subjects/ticks-value/versions", body).status_code == 200


# 4. Imported ids are Confluent's 32-bit positive integers; a permanent delete removes orphaned schema rows.


@pytest.mark.parametrize("schema_id", [9223372036854775807, 2147483648, 0, -1])
def test_import_mode_refuses_an_id_outside_32_bits(api, schema_id):
    api.put("/mode", {"mode": "IMPORT"}, format="json")
    response = post(api, "/subjects/ticks-value/versions", {"schema": TICK_V1, "id": schema_id, "version": 1})
    assert response.status_code == 422 and response.json()["error_code"] in (422, 42205)
    assert nothing_stored()
    api.put("/mode", {"mode": "READWRITE"}, format="json")
    assert register(api, "orders-value", MONEY).status_code == 200


def test_import_mode_refuses_a_version_outside_32_bits(api):
    api.put("/mode", {"mode": "IMPORT"}, format="json")
    response = post(api, "/subjects/ticks-value/versions", {"schema": TICK_V1, "id": 5, "version": 2147483648})
    assert response.status_code == 422
    assert nothing_stored()


def test_a_permanent_delete_removes_schema_rows_nothing_references_and_frees_their_ids(api):
    api.put("/mode", {"mode": "IMPORT"}, format="json")
    response = post(api, "/subjects/ticks-value/versions", {"schema": TICK_V1, "id": 2147483647, "version": 1})
    assert response.json() == {"id": 2147483647}
    api.put("/mode", {"mode": "READWRITE"}, format="json")
    api.delete("/subjects/ticks-value")
    assert api.delete("/subjects/ticks-value?permanent=true").json() == [1]
    assert not Schema.objects.filter(pk=2147483647).exists()
    response = register(api, "other-value", MONEY)
    assert response.status_code == 200 and response.json()["id"] < 2147483647


def test_a_permanent_delete_keeps_a_schema_row_another_subject_uses(api):
    schema_id = register(api, "a-value", TICK_V1).json()["id"]
    register(api, "b-value", TICK_V1)
    api.delete("/subjects/a-value")
    api.delete("/subjects/a-value?permanent=true")
    assert api.get(f"/schemas/ids/{schema_id}").status_code == 200


def test_a_permanent_version_delete_removes_its_orphaned_schema_row(api):
    register(api, "ticks-value", TICK_V1)
    second = register(api, "ticks-value", TICK_V2_ADDS_FIELD).json()["id"]
    api.delete("/subjects/ticks-value/versions/2")
    api.delete("/subjects/ticks-value/versions/2?permanent=true")
    assert not Schema.objects.filter(pk=second).exists()
    assert_error(api.get(f"/schemas/ids/{second}"), 404, 40403)


# 5. A reference to -1 is pinned to the concrete version at registration.

MONEY_REF_LATEST = [{"name": "common/money.proto", "subject": "common/money.proto", "version": -1}]


def test_a_reference_to_minus_one_is_stored_as_the_concrete_version(api):
    register(api, "common/money.proto", MONEY)
    response = register(api, "orders-value", ORDER_WITH_MONEY, MONEY_REF_LATEST)
    assert response.status_code == 200, response.content
    assert list(SchemaReference.objects.values_list("version", flat=True)) == [1]
    assert api.get("/subjects/orders-value/versions/1").json()["references"][0]["version"] == 1
    assert api.get("/subjects/common%2Fmoney.proto/versions/1/referencedby").json() == [response.json()["id"]]


def test_a_subject_referenced_through_minus_one_cannot_be_deleted(api):
    register(api, "common/money.proto", MONEY)
    register(api, "orders-value", ORDER_WITH_MONEY, MONEY_REF_LATEST)
    assert_error(api.delete("/subjects/common%2Fmoney.proto"), 422, 42206)
    assert api.get("/subjects/orders-value/versions/1?format=serialized").status_code == 200


def test_a_reference_to_a_missing_subject_through_minus_one_is_42201(api):
    assert_error(register(api, "orders-value", ORDER_WITH_MONEY, MONEY_REF_LATEST), 422, 42201)
    assert nothing_stored()


# 6. Reference cycles are refused, naming the cycle.


def test_a_subject_that_references_itself_is_refused_naming_the_cycle(api):
    register(api, "a.proto", 'syntax = "proto3";\npackage a;\nmessage A {}\n')
    text = 'syntax = "proto3";\npackage a;\nimport "a.proto";\nmessage B {}\n'
    response = register(api, "a.proto", text, [{"name": "a.proto", "subject": "a.proto", "version": -1}])
    assert_error(response, 422, 42201)
    assert "a.proto -> a.proto" in response.json()["message"]
    assert SubjectVersion.objects.count() == 1


def test_a_cycle_through_another_subject_is_refused_naming_it(api):
    register(api, "a.proto", 'syntax = "proto3";\npackage a;\nmessage A {}\n')
    b_text = 'syntax = "proto3";\npackage b;\nimport "a.proto";\nmessage B { a.A a = 1; }\n'
    assert (
        register(api, "b.proto", b_text, [{"name": "a.proto", "subject": "a.proto", "version": -1}]).status_code == 200
    )
    a_text = 'syntax = "proto3";\npackage a;\nimport "b.proto";\nmessage A {}\nmessage C { b.B b = 1; }\n'
    response = register(api, "a.proto", a_text, [{"name": "b.proto", "subject": "b.proto", "version": -1}])
    assert_error(response, 422, 42201)
    assert "a.proto -> b.proto -> a.proto" in response.json()["message"]
    assert SubjectVersion.objects.count() == 2


# 7. Every field has Confluent's type; a metadata-only change says so in its semantic version.


@pytest.mark.parametrize(
    "extra",
    [
        {"schema": 5},
        {"schema": ["x"]},
        {"metadata": "x"},
        {"metadata": {"properties": {"a": 1}}},
        {"metadata": {"tags": "x"}},
        {"metadata": {"unknown": {}}},
        {"ruleSet": 5},
        {"ruleSet": {"domainRules": "x"}},
        {"ruleSet": {"domainRules": [{"name": 5}]}},
        {"references": "x"},
        {"references": [{"name": 1, "subject": "s", "version": 1}]},
        {"references": [{"name": "a.proto", "subject": "s", "version": "1"}]},
        {"references": [{"name": "a.proto", "subject": "s", "version": True}]},
        {"schemaType": 5},
        {"normalize": "yes"},
        {"id": "5"},
        {"version": 1.5},
    ],
)
def test_a_field_of_the_wrong_type_is_422_and_nothing_is_stored(api, extra):
    body = {"schema": TICK_V1, **extra}
    assert_error(post(api, "/subjects/ticks-value/versions", body), 422, 422)
    assert nothing_stored()


@pytest.mark.parametrize(
    "body",
    [
        {"lintExcept": [1, 2]},
        {"lintExcept": "FIELD_LOWER_SNAKE_CASE"},
        {"compatibility": 5},
        {"normalize": "yes"},
        {"alias": 5},
        {"defaultMetadata": "x"},
        {"overrideRuleSet": 5},
    ],
)
def test_a_config_field_of_the_wrong_type_is_422(api, body):
    assert_error(api.put("/config/ticks-value", body, format="json"), 422, 422)
    assert api.get("/config/ticks-value").status_code == 404


def test_a_mode_of_the_wrong_type_is_422(api):
    assert_error(api.put("/mode", {"mode": 5}, format="json"), 422, 422)


def test_confluents_metadata_and_rule_set_shapes_are_accepted(api):
    body = {
        "schema": TICK_V1,
        "metadata": {"tags": {"symbol": ["PII"]}, "properties": {"owner": "trading"}, "sensitive": ["symbol"]},
        "ruleSet": {
            "domainRules": [
                {"name": "checkSymbol", "kind": "CONDITION", "type": "CEL", "mode": "WRITE", "expr": "true"}
            ],
            "migrationRules": [],
        },
    }
    assert post(api, "/subjects/ticks-value/versions", body).status_code == 200


def test_a_version_that_differs_only_in_metadata_is_a_patch_marked_metadata(api):
    register(api, "ticks-value", TICK_V1)
    post(api, "/subjects/ticks-value/versions", {"schema": TICK_V1, "metadata": {"properties": {"owner": "a"}}})
    post(api, "/subjects/ticks-value/versions", {"schema": TICK_V1, "metadata": {"properties": {"owner": "b"}}})
    versions = api.get("/schemas/ticks-value/versions").json()
    assert [(v["semanticVersion"], v["change"]) for v in versions] == [
        ("1.0.0", "INITIAL"),
        ("1.0.1", "METADATA"),
        ("1.0.2", "METADATA"),
    ]


# 8. Every error answer to an API client is JSON, in every setting.


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/vnd.schemaregistry.v1+json"])
def test_an_unknown_path_is_a_json_404_for_api_clients_even_with_debug(settings, debug, accept):
    settings.DEBUG = debug
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = Client().get("/no/such/path", **headers)
    assert_error(response, 404, 404)
    assert b"URLconf" not in response.content


def test_a_browser_asking_for_html_gets_an_html_404():
    response = Client().get("/no/such/path", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("debug", [False, True])
def test_a_wrong_method_is_a_json_405(api, settings, debug):
    settings.DEBUG = debug
    assert_error(Client().delete("/health"), 405, 405)
    assert_error(api.delete("/schemas/types"), 405, 405)


@pytest.mark.parametrize("debug", [False, True])
def test_a_server_error_is_a_json_500_without_a_trace(api, settings, debug, monkeypatch):
    from schemas_app import selectors

    settings.DEBUG = debug

    def broken(**kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(selectors, "subject_names", broken)
    api.raise_request_exception = False
    response = api.get("/subjects")
    assert_error(response, 500, 50001)
    assert b"secret detail" not in response.content and b"Traceback" not in response.content


@pytest.mark.parametrize("debug", [False, True])
def test_a_server_error_outside_the_api_is_a_json_500(settings, debug, monkeypatch):
    from registry import health

    settings.DEBUG = debug

    def broken():
        raise RuntimeError("secret detail")

    monkeypatch.setattr(health, "readiness", broken)
    response = Client(raise_request_exception=False).get("/health")
    assert_error(response, 500, 50001)
    assert b"secret detail" not in response.content


# 10. Subject names: permissive, but no bidi or format characters, and never a file path.


FORMAT_AND_CONTROL = [
    "evil\u202egnp.proto",
    "a\u200bb",
    "a\u2066b",
    "a\ufeffb",
    "a\u2028b",
    "a\u0085b",
    "a\udcffb",
    "a\x7fb",
]


@pytest.mark.parametrize("name", FORMAT_AND_CONTROL)
def test_the_subject_name_check_refuses_format_and_control_characters(name):
    from schemas_app.errors import InvalidSubject
    from schemas_app.services import validate_subject_name

    with pytest.raises(InvalidSubject):
        validate_subject_name(name)


@pytest.mark.parametrize("name", ["café-value", "a b", "..", "a/../b", "/lead", "日本語", "a%ZZ"])
def test_the_subject_name_check_keeps_confluents_permissive_names(name):
    from schemas_app.services import validate_subject_name

    assert validate_subject_name(name) == name


@pytest.mark.parametrize("name", FORMAT_AND_CONTROL[:5])
def test_a_subject_name_with_a_format_or_control_character_is_42208(api, name):
    body = {"schema": TICK_V1}
    response = api.post(f"/subjects/{name}/versions", data=json.dumps(body), content_type=CONTENT_TYPE)
    assert_error(response, 422, 42208)
    assert not Subject.objects.exists()


def test_a_path_with_invalid_percent_escapes_is_400():
    from django.test import RequestFactory

    from schemas_app.api.middleware import JSONErrorsMiddleware

    request = RequestFactory().post("/subjects/x/versions", json.dumps({"schema": TICK_V1}), content_type=CONTENT_TYPE)
    # What a WSGI server hands Django for /subjects/a%C3%28b/versions: the raw bytes, read as Latin-1.
    request.META["PATH_INFO"] = "/subjects/a\xc3(b/versions"
    response = JSONErrorsMiddleware(lambda request: pytest.fail("the view was reached"))(request)
    assert response.status_code == 400 and json.loads(response.content)["error_code"] == 400


@pytest.mark.parametrize("name", ["../../etc/passwd", "/absolute.proto", "a/../../b.proto", "..", "./x"])
def test_permissive_subject_names_never_become_a_path_outside_the_tree(api, name):
    from schemas_app.preparation import root_path_for

    path = root_path_for(name)
    assert not path.startswith("/") and ".." not in path.split("/") and "." not in path.split("/")[:-1]
    response = api.post(
        f"/subjects/{name.replace('/', '%2F')}/versions",
        data=json.dumps({"schema": TICK_V1}),
        content_type=CONTENT_TYPE,
    )
    assert response.status_code == 200, response.content


def test_a_subject_or_reference_named_as_a_well_known_file_is_refused(api):
    # The engine compiles a folder's own copy of a well-known file; the registry never stores one.
    response = register(api, "google%2Fprotobuf%2Ftimestamp.proto", TICK_V1)
    assert_error(response, 422, 42201)
    assert (
        '"google/protobuf/timestamp.proto" is a well-known type and cannot be replaced.' in response.json()["message"]
    )
    assert register(api, "money", MONEY).status_code == 200
    reference = {"name": "google/protobuf/money.proto", "subject": "money", "version": 1}
    response = register(api, "orders", ORDER_WITH_MONEY.replace("common/", "google/protobuf/"), [reference])
    assert_error(response, 422, 42201)
    assert '"google/protobuf/money.proto" is a well-known type' in response.json()["message"]
    assert not Subject.objects.filter(name__in=["orders", "google/protobuf/timestamp.proto"]).exists()


# 12. The OpenAPI document declares HTTP Basic.


def test_the_openapi_document_declares_http_basic(anonymous):
    document = anonymous.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "basic"} in schemes.values()
    basic = next(name for name, scheme in schemes.items() if scheme == {"type": "http", "scheme": "basic"})
    operation = document["paths"]["/subjects/{subject}/versions"]["post"]
    assert {basic: []} in operation["security"]


# 9. The work one request may cause is bounded: fields, references, and a per-client rate of compatibility checks.

CHECK = "/compatibility/subjects/ticks-value/versions"


def test_a_schema_with_more_fields_than_the_limit_is_42209_everywhere(api, settings):
    register(api, "ticks-value", MONEY)
    settings.REGISTRY_MAX_SCHEMA_FIELDS = 5
    response = register(api, "ticks-value", TICK_V1)  # six fields
    assert_error(response, 422, 42209)
    assert response.json()["details"] == [{"fields": 6, "limit": 5}]
    assert_error(post(api, CHECK, {"schema": TICK_V1}), 422, 42209)
    assert_error(post(api, "/subjects/ticks-value", {"schema": TICK_V1}), 422, 42209)
    assert SubjectVersion.objects.count() == 1


def _chain(api, length):
    """Register c0.proto <- c1.proto <- ... each importing the one before; return the last one's text and reference."""
    register(api, "c0.proto", 'syntax = "proto3";\npackage c0;\nmessage M {}\n')
    for index in range(1, length):
        previous = f"c{index - 1}"
        text = (
            f'syntax = "proto3";\npackage c{index};\nimport "{previous}.proto";\nmessage M {{ {previous}.M m = 1; }}\n'
        )
        reference = {"name": f"c{index - 1}.proto", "subject": f"c{index - 1}.proto", "version": 1}
        assert register(api, f"c{index}.proto", text, [reference]).status_code == 200
    last = length - 1
    text = f'syntax = "proto3";\npackage top;\nimport "c{last}.proto";\nmessage Top {{ c{last}.M m = 1; }}\n'
    return text, {"name": f"c{last}.proto", "subject": f"c{last}.proto", "version": 1}


def test_references_nested_deeper_than_the_limit_are_42201(api, settings):
    text, reference = _chain(api, 3)
    settings.REGISTRY_MAX_REFERENCE_DEPTH = 2
    response = register(api, "top.proto", text, [reference])
    assert_error(response, 422, 42201)
    assert "REGISTRY_MAX_REFERENCE_DEPTH" in response.json()["message"]
    settings.REGISTRY_MAX_REFERENCE_DEPTH = 3
    assert register(api, "top.proto", text, [reference]).status_code == 200


def test_more_references_than_the_limit_are_42201(api, settings):
    text, reference = _chain(api, 3)
    settings.REGISTRY_MAX_REFERENCES = 2  # top imports c2, which brings c1 and c0: three files
    response = register(api, "top.proto", text, [reference])
    assert_error(response, 422, 42201)
    assert "REGISTRY_MAX_REFERENCES" in response.json()["message"]
    assert not Subject.objects.filter(name="top.proto").exists()


@pytest.mark.parametrize("path", [CHECK, CHECK + "/latest", "/schemas/ticks-value/compatibility"])
def test_compatibility_checks_past_the_per_client_rate_are_429_with_retry_after(api, settings, path):
    register(api, "ticks-value", TICK_V1)
    settings.REGISTRY_COMPATIBILITY_CHECKS_PER_MINUTE = 2
    for _ in range(2):
        assert post(api, path, {"schema": TICK_V2_ADDS_FIELD}).status_code == 200
    response = post(api, path, {"schema": TICK_V2_ADDS_FIELD})
    assert_error(response, 429, 42901)
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_compatibility_rate_is_counted_per_client(api, owner, settings):
    from rest_framework.test import APIClient

    register(api, "ticks-value", TICK_V1)
    settings.REGISTRY_COMPATIBILITY_CHECKS_PER_MINUTE = 1
    assert post(api, CHECK, {"schema": TICK_V1}).status_code == 200
    assert post(api, CHECK, {"schema": TICK_V1}).status_code == 429
    other = APIClient()
    other.force_authenticate(owner)
    assert post(other, CHECK, {"schema": TICK_V1}).status_code == 200
