"""Registering, looking up, listing and deleting through the Confluent-compatible API."""

import pytest

from tests.integration.api.helpers import (
    MONEY,
    ORDER_WITH_MONEY,
    TICK_V1,
    TICK_V2_ADDS_FIELD,
    TICK_V2_CHANGES_TYPE,
    descriptor_base64,
    post,
    register,
)

pytestmark = pytest.mark.django_db


def test_it_registers_a_schema_and_answers_its_id(api):
    response = register(api, "ticks-value", TICK_V1)
    assert response.status_code == 200
    assert set(response.json()) == {"id"}
    assert response["Content-Type"].startswith("application/vnd.schemaregistry.v1+json")


def test_registering_the_same_text_again_returns_the_same_id_without_a_new_version(api):
    first = register(api, "ticks-value", TICK_V1).json()["id"]
    again = register(api, "ticks-value", TICK_V1).json()["id"]
    assert first == again
    assert api.get("/subjects/ticks-value/versions").json() == [1]


def test_identical_content_shares_one_id_across_subjects(api):
    assert register(api, "a-value", TICK_V1).json()["id"] == register(api, "b-value", TICK_V1).json()["id"]


def test_a_compatible_change_gets_version_two_and_a_minor_semantic_version(api):
    register(api, "ticks-value", TICK_V1)
    register(api, "ticks-value", TICK_V2_ADDS_FIELD)
    body = api.get("/subjects/ticks-value/versions/2").json()
    assert body["version"] == 2 and body["subject"] == "ticks-value" and body["schemaType"] == "PROTOBUF"
    assert body["semanticVersion"] == "1.1.0"
    assert api.get("/subjects/ticks-value/versions/latest").json()["version"] == 2
    assert api.get("/subjects/ticks-value/versions/-1").json()["version"] == 2


def test_under_review_policy_none_an_incompatible_change_is_refused_with_409_and_the_engines_messages(api):
    register(api, "ticks-value", TICK_V1)
    assert api.put("/config/ticks-value", {"reviewPolicy": "none"}, format="json").status_code == 200
    response = register(api, "ticks-value", TICK_V2_CHANGES_TYPE)
    assert response.status_code == 409
    body = response.json()
    assert body["error_code"] == 40901
    assert "bid" in body["message"] and "TickData" in body["message"]
    assert any(detail["rule"] == "FIELD_WIRE_JSON_COMPATIBLE_TYPE" for detail in body["details"])


def test_with_compatibility_none_a_breaking_change_is_a_new_major_version(api):
    register(api, "ticks-value", TICK_V1)
    assert api.put("/config/ticks-value", {"compatibility": "NONE"}, format="json").status_code == 200
    assert register(api, "ticks-value", TICK_V2_CHANGES_TYPE).status_code == 200
    assert api.get("/subjects/ticks-value/versions/2").json()["semanticVersion"] == "2.0.0"


def test_references_pin_imported_files_and_answer_referencedby(api):
    money_id = register(api, "common/money.proto", MONEY).json()["id"]
    order = register(
        api,
        "orders-value",
        ORDER_WITH_MONEY,
        [{"name": "common/money.proto", "subject": "common/money.proto", "version": 1}],
    )
    assert order.status_code == 200, order.json()
    fetched = api.get(f"/schemas/ids/{order.json()['id']}").json()
    assert fetched["references"] == [{"name": "common/money.proto", "subject": "common/money.proto", "version": 1}]
    assert api.get("/subjects/common%2Fmoney.proto/versions/1/referencedby").json() == [order.json()["id"]]
    assert api.get("/subjects/common%2Fmoney.proto/versions/1").json()["id"] == money_id


def test_a_missing_reference_is_an_invalid_schema(api):
    response = register(
        api, "orders-value", ORDER_WITH_MONEY, [{"name": "common/money.proto", "subject": "nowhere", "version": 1}]
    )
    assert response.status_code == 422 and response.json()["error_code"] == 42201


def test_lookup_finds_the_version_holding_a_schema(api):
    register(api, "ticks-value", TICK_V1)
    response = post(api, "/subjects/ticks-value", {"schema": TICK_V1})
    assert response.status_code == 200
    assert response.json()["version"] == 1 and response.json()["subject"] == "ticks-value"


def test_listing_subjects_filters_by_prefix_and_pages(api):
    for name in ("alpha-value", "beta-value", "alpha-key"):
        register(api, name, TICK_V1)
    assert api.get("/subjects").json() == ["alpha-key", "alpha-value", "beta-value"]
    assert api.get("/subjects?subjectPrefix=alpha").json() == ["alpha-key", "alpha-value"]
    assert api.get("/subjects?offset=1&limit=1").json() == ["alpha-value"]


def test_soft_delete_hides_a_subject_until_asked_and_permanent_delete_purges_it(api):
    register(api, "ticks-value", TICK_V1)
    assert api.delete("/subjects/ticks-value").json() == [1]
    assert api.get("/subjects").json() == []
    assert api.get("/subjects?deleted=TRUE").json() == ["ticks-value"]
    assert api.get("/subjects?deletedOnly=true").json() == ["ticks-value"]
    assert api.get("/subjects/ticks-value/versions/1?deleted=True").json()["version"] == 1
    assert api.delete("/subjects/ticks-value?permanent=true").json() == [1]
    assert api.get("/subjects?deleted=true").json() == []


def test_schema_by_id_answers_text_types_and_max_id(api):
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    body = api.get(f"/schemas/ids/{schema_id}?fetchMaxId=true").json()
    assert body["schema"] == TICK_V1 and body["schemaType"] == "PROTOBUF" and body["maxId"] == schema_id
    assert api.get(f"/schemas/ids/{schema_id}/subjects").json() == ["ticks-value"]
    assert api.get(f"/schemas/ids/{schema_id}/versions").json() == [{"subject": "ticks-value", "version": 1}]
    assert api.get("/schemas/types").json() == ["PROTOBUF"]
    assert api.get("/subjects/ticks-value/versions/1/schema").content.decode() == TICK_V1


def test_schema_by_guid_answers_the_same_schema(api):
    from schemas_app.models import Schema

    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    guid = Schema.objects.get(pk=schema_id).guid
    assert api.get(f"/schemas/guids/{guid}").json()["schema"] == TICK_V1
    assert api.get("/schemas/guids/not-a-guid").json()["error_code"] == 40403
    assert api.get("/schemas/guids/00000000-0000-0000-0000-000000000000").json()["error_code"] == 40403


def test_compatibility_endpoint_reports_rule_ids_when_verbose(api):
    register(api, "ticks-value", TICK_V1)
    ok = post(api, "/compatibility/subjects/ticks-value/versions/latest", {"schema": TICK_V2_ADDS_FIELD}).json()
    assert ok == {"is_compatible": True}
    bad = post(
        api, "/compatibility/subjects/ticks-value/versions?verbose=true", {"schema": TICK_V2_CHANGES_TYPE}
    ).json()
    assert bad["is_compatible"] is False
    assert any("FIELD_WIRE_JSON_COMPATIBLE_TYPE" in message for message in bad["messages"])


def test_config_is_global_then_per_subject(api):
    assert api.get("/config").json()["compatibilityLevel"] == "BACKWARD"
    assert api.put("/config", {"compatibility": "full"}, format="json").json()["compatibility"] == "FULL"
    assert (
        api.put(
            "/config/ticks-value", {"compatibility": "NONE", "compatibilityRules": "CONFLUENT"}, format="json"
        ).status_code
        == 200
    )
    assert api.get("/config/ticks-value").json() == {"compatibilityLevel": "NONE", "compatibilityRules": "CONFLUENT"}
    assert api.get("/config/other-value?defaultToGlobal=true").json()["compatibilityLevel"] == "FULL"
    assert api.delete("/config/ticks-value").json()["compatibilityLevel"] == "NONE"


def test_mode_is_global_then_per_subject(api):
    assert api.get("/mode").json() == {"mode": "READWRITE"}
    assert api.put("/mode/ticks-value", {"mode": "READONLY"}, format="json").json() == {"mode": "READONLY"}
    assert api.get("/mode/ticks-value").json() == {"mode": "READONLY"}
    assert api.delete("/mode/ticks-value").json() == {"mode": "READONLY"}


def test_import_mode_honours_given_ids_and_versions(api):
    assert api.put("/mode", {"mode": "IMPORT"}, format="json").status_code == 200
    response = post(api, "/subjects/ticks-value/versions", {"schema": TICK_V1, "id": 500, "version": 7})
    assert response.json() == {"id": 500}
    assert api.get("/subjects/ticks-value/versions").json() == [7]
    api.put("/mode", {"mode": "READWRITE"}, format="json")
    assert register(api, "other-value", TICK_V2_ADDS_FIELD).json()["id"] > 500


def test_contexts_and_associations_answer_for_new_clients(api):
    assert api.get("/contexts").json() == [".", ".shared"]  # the default tenant, and the shared catalogue
    assert api.get("/associations/resources/default/orders").json() == []


def test_management_api_shows_semantic_versions_and_lint_findings(api):
    created = post(api, "/schemas/trading%2Fticks.proto", {"schema": TICK_V1})
    assert created.status_code == 201
    assert created.json()["semanticVersion"] == "1.0.0"
    detail = api.get("/schemas/trading%2Fticks.proto").json()
    assert detail["subject"] == "trading/ticks.proto" and detail["change"] == "INITIAL"
    assert isinstance(detail["lintFindings"], list)
    post(api, "/schemas/trading%2Fticks.proto", {"schema": TICK_V2_ADDS_FIELD})
    versions = api.get("/schemas/trading%2Fticks.proto/versions").json()
    assert [(v["version"], v["semanticVersion"], v["change"]) for v in versions] == [
        (1, "1.0.0", "INITIAL"),
        (2, "1.1.0", "MINOR"),
    ]
    report = post(api, "/schemas/trading%2Fticks.proto/compatibility", {"schema": TICK_V2_CHANGES_TYPE}).json()
    # Against version 2, the checked text changes bid's type and lacks the venue field version 2 added.
    assert report["is_compatible"] is False
    assert sorted(finding["rule"] for finding in report["findings"]) == [
        "FIELD_NO_DELETE_UNLESS_NAME_RESERVED",
        "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
        "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
    ]
    assert api.delete("/schemas/trading%2Fticks.proto").json() == [1, 2]


def test_a_descriptor_of_a_registered_text_finds_the_same_id_and_version(api):
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    assert register(api, "ticks-value", descriptor_base64(TICK_V1)).json()["id"] == schema_id
    assert api.get("/subjects/ticks-value/versions").json() == [1]
    assert post(api, "/subjects/ticks-value", {"schema": descriptor_base64(TICK_V1)}).json()["id"] == schema_id
    assert register(api, "other-value", descriptor_base64(TICK_V1)).json()["id"] == schema_id


def test_normalize_true_matches_text_that_differs_only_in_comments_and_spacing(api):
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    reformatted = "// A comment.\n" + TICK_V1.replace("  ", "    ")
    assert register(api, "ticks-value", reformatted, normalize="true").json()["id"] == schema_id
    assert register(api, "ticks-value", reformatted).json()["id"] != schema_id


def test_lint_findings_are_stored_on_the_version_and_a_subject_can_switch_rules_off(api):
    text = TICK_V1.replace("string symbol = 1;", "string Symbol = 1;")
    post(api, "/schemas/ticks.proto", {"schema": text})
    findings = api.get("/schemas/ticks.proto").json()["lintFindings"]
    assert {"rule": "FIELD_LOWER_SNAKE_CASE", "path": "ticks.proto", "line": 5, "column": 10} in [
        {k: f[k] for k in ("rule", "path", "line", "column")} for f in findings
    ]
    api.put("/config/quiet.proto", {"lintExcept": ["FIELD_LOWER_SNAKE_CASE"]}, format="json")
    post(api, "/schemas/quiet.proto", {"schema": text})
    assert "FIELD_LOWER_SNAKE_CASE" not in [f["rule"] for f in api.get("/schemas/quiet.proto").json()["lintFindings"]]


def test_every_registration_is_in_the_audit_log_with_its_actor(api, writer):
    from auditlog.models import LogEntry

    from schemas_app.models import SubjectVersion

    register(api, "ticks-value", TICK_V1)
    version = SubjectVersion.objects.get(subject__name="ticks-value", version=1)
    entry = LogEntry.objects.get_for_object(version).get()
    assert entry.action == LogEntry.Action.CREATE and entry.actor == writer


def test_listing_schemas_costs_the_same_few_queries_for_any_number_of_versions(api, django_assert_max_num_queries):
    from schemas_app import cache as registry_cache

    for index in range(12):
        register(
            api,
            f"subject-{index:02d}-value",
            TICK_V1.replace("tenant_id = 6;", f"tenant_id = 6;\n  string extra_{index} = 7;"),
        )
    registry_cache.clear_local()
    from django.core.cache import cache

    cache.delete_pattern("*")
    with django_assert_max_num_queries(5):
        body = api.get("/schemas?latestOnly=true").json()
    assert len(body) == 12 and body[0]["subject"] == "subject-00-value"
