"""Each answer has the shape its output serializer declares, and the OpenAPI document describes every body."""

import pytest

from schemas_app.api import serializers as out
from tests.integration.api.helpers import MONEY, TICK_V1, TICK_V2_CHANGES_TYPE, post, register

pytestmark = pytest.mark.django_db

CONFLUENT_AND_MANAGEMENT_PATHS = ("/subjects", "/schemas", "/compatibility", "/config", "/mode", "/contexts")


def assert_shape(body: dict, serializer_class) -> None:
    """The body names no key the serializer lacks, and every key the serializer requires."""
    fields = serializer_class().fields
    assert set(body) <= set(fields), f"undeclared keys: {set(body) - set(fields)}"
    required = {name for name, field in fields.items() if field.required}
    assert required <= set(body), f"missing keys: {required - set(body)}"


def test_versions_schemas_and_settings_answer_in_their_declared_shapes(api):
    schema_id = register(api, "money-value", MONEY).json()["id"]

    assert_shape(api.get("/subjects/money-value/versions/1").json(), out.VersionOutputSerializer)
    assert_shape(api.get(f"/schemas/ids/{schema_id}?fetchMaxId=true").json(), out.SchemaOutputSerializer)
    assert_shape(register(api, "money-value", MONEY, verbose="true").json(), out.RegisteredOutputSerializer)
    assert_shape(post(api, "/subjects/money-value", {"schema": MONEY}).json(), out.VersionOutputSerializer)
    [managed] = api.get("/schemas/money-value/versions").json()
    assert_shape(managed, out.ManagedVersionOutputSerializer)
    assert_shape(api.get("/config/money-value?defaultToGlobal=true").json(), out.ConfigOutputSerializer)
    assert_shape(api.get("/mode").json(), out.ModeOutputSerializer)
    [reference] = api.get(f"/schemas/ids/{schema_id}/versions").json()
    assert_shape(reference, out.SubjectVersionRefOutputSerializer)


def test_compatibility_reports_answer_in_their_declared_shapes(api):
    register(api, "ticks-value", TICK_V1)

    verbose = post(
        api, "/compatibility/subjects/ticks-value/versions/latest?verbose=true", {"schema": TICK_V2_CHANGES_TYPE}
    )
    assert_shape(verbose.json(), out.CompatibilityOutputSerializer)
    for finding in verbose.json()["findings"]:
        assert_shape(finding, out.FindingSerializer)
    report = post(api, "/schemas/ticks-value/compatibility", {"schema": TICK_V2_CHANGES_TYPE}).json()
    assert_shape(report, out.ManagedCompatibilityOutputSerializer)


def test_the_openapi_document_describes_every_answer_of_both_apis(api):
    document = api.get("/openapi.json").json()
    undescribed = []
    for path, operations in document["paths"].items():
        if not path.startswith(CONFLUENT_AND_MANAGEMENT_PATHS):
            continue
        for method, operation in operations.items():
            schema = operation["responses"]["200"]["content"]
            schema = next(iter(schema.values()))["schema"]
            if schema == {"type": "object", "additionalProperties": {}} or schema == {"type": "object"}:
                undescribed.append(f"{method.upper()} {path}")
    assert undescribed == []
    version = document["paths"]["/subjects/{subject}/versions/{version}"]["get"]["responses"]["200"]["content"]
    assert next(iter(version.values()))["schema"] == {"$ref": "#/components/schemas/VersionOutput"}


def test_the_openapi_document_offers_delete_where_the_api_takes_it(api):
    paths = api.get("/openapi.json").json()["paths"]
    methods = {path: sorted(paths[path]) for path in ("/mode", "/mode/{subject}", "/config", "/config/{subject}")}
    assert methods == {
        "/mode": ["get", "put"],
        "/mode/{subject}": ["delete", "get", "put"],
        "/config": ["delete", "get", "put"],
        "/config/{subject}": ["delete", "get", "put"],
    }
