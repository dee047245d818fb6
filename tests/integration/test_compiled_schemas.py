"""protoc's output for a new schema is stored with it, so that a process that never compiled it reads it instead.

Another server process, or one just started, compares the next version with the stored set: what it reads must be
what protoc gives, and a purge takes it away with the schema.
"""

import json

import pytest

from protoengine import compiler
from schemas_app import preparation, selectors
from schemas_app.models import CompiledSchema, Schema, SubjectVersion, Tenant
from tests.integration.api.helpers import MONEY, ORDER_WITH_MONEY, TICK_V1, TICK_V2_ADDS_FIELD, register

pytestmark = pytest.mark.django_db


def as_a_new_process():
    """Forget every compiled set and protoc result this process keeps, as a process that never saw them."""
    preparation._STORED_SETS.clear()
    compiler.clear_cache()


def version(subject: str, number: int) -> SubjectVersion:
    return SubjectVersion.objects.select_related("subject", "schema").get(subject__name=subject, version=number)


def test_a_new_schema_is_stored_with_what_protoc_compiled_it_to(api):
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]

    [stored] = CompiledSchema.objects.filter(schema_id=schema_id)
    as_a_new_process()
    by_protoc = compiler.compile_one(preparation.root_path_for("ticks-value"), TICK_V1)

    assert bytes(stored.descriptor_set) == by_protoc.serialized
    assert stored.key == preparation.content_key("ticks-value.proto", TICK_V1, {})


def test_a_process_that_never_compiled_a_version_reads_its_stored_set_instead_of_running_protoc(api):
    register(api, "common%2Fmoney.proto", MONEY)
    reference = {"name": "common/money.proto", "subject": "common/money.proto", "version": 1}
    register(api, "orders-value", ORDER_WITH_MONEY, [reference])
    tenant = Tenant.objects.get(slug=Tenant.DEFAULT_SLUG)
    as_a_new_process()

    compiled = selectors.compiled_version_files(tenant=tenant, version=version("orders-value", 1))

    assert len(compiler._RESULT_CACHE) == 0, "protoc ran"
    assert {file.name for file in compiled.own_files} == {"orders-value.proto", "common/money.proto"}
    assert [message.name for message in compiled.file("orders-value.proto").message_type] == ["Order"]


def test_the_next_version_is_checked_against_the_stored_set_in_a_new_process(api):
    register(api, "ticks-value", TICK_V1)
    as_a_new_process()

    breaking = api.post(
        "/compatibility/subjects/ticks-value/versions/latest?verbose=true",
        data=json.dumps({"schema": TICK_V1.replace("double bid = 2;", "float bid = 2;")}),
        content_type="application/json",
    )

    assert breaking.status_code == 200, breaking.content
    assert breaking.json()["is_compatible"] is False
    assert "FIELD_WIRE_JSON_COMPATIBLE_TYPE: ticks-value.proto:6:3:" in breaking.json()["messages"][0]
    assert len(compiler._RESULT_CACHE) == 1, "protoc compiled the stored version again"
    assert register(api, "ticks-value", TICK_V2_ADDS_FIELD).status_code == 200


def test_a_purge_deletes_the_stored_sets_with_the_schema(api):
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    assert api.delete("/subjects/ticks-value").status_code == 200

    assert api.delete("/subjects/ticks-value?permanent=true").status_code == 200

    assert not Schema.objects.filter(pk=schema_id).exists()
    assert not CompiledSchema.objects.filter(schema_id=schema_id).exists()


def test_a_version_registered_before_sets_were_stored_has_its_set_stored_by_the_first_compile(api):
    schema_id = register(api, "ticks-value", TICK_V1).json()["id"]
    CompiledSchema.objects.filter(schema_id=schema_id).delete()  # as an upgraded registry's older versions
    tenant = Tenant.objects.get(slug=Tenant.DEFAULT_SLUG)
    as_a_new_process()

    compiled = selectors.compiled_version_files(tenant=tenant, version=version("ticks-value", 1))

    [stored] = CompiledSchema.objects.filter(schema_id=schema_id)
    assert bytes(stored.descriptor_set) == compiled.serialized
