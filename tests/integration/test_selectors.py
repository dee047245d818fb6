"""The read selectors, called directly: each answers within one tenant, and says 40401 / 40402 / 40403 when absent."""

import pytest

from schemas_app import selectors, services
from schemas_app.errors import InvalidSchema, SchemaNotFound, SubjectNotFound, VersionNotFound
from schemas_app.preparation import Reference
from tests.integration.api.helpers import MONEY, ORDER_WITH_MONEY, TICK_V1, TICK_V2_ADDS_FIELD, TICK_V2_CHANGES_TYPE

pytestmark = pytest.mark.django_db

MONEY_REFERENCE = Reference("common/money.proto", "common/money.proto", 1)


@pytest.fixture
def tenant():
    return selectors.default_tenant()


@pytest.fixture
def ticks(tenant, writer):
    """A subject with two versions in the default tenant."""
    for text in (TICK_V1, TICK_V2_ADDS_FIELD):
        services.subject_version_register(tenant=tenant, subject_name="ticks-value", schema=text, acting_user=writer)


def test_subject_names_are_those_of_the_tenant_asked_about(ticks, tenant, second_tenant, second_tenant_writer):
    services.subject_version_register(
        tenant=second_tenant, subject_name="desk-value", schema=TICK_V1, acting_user=second_tenant_writer
    )

    assert selectors.subject_names(tenant=tenant) == ["ticks-value"]
    assert selectors.subject_names(tenant=second_tenant) == ["desk-value"]
    with pytest.raises(SubjectNotFound):
        selectors.subject_version_get(tenant=second_tenant, subject="ticks-value", version=1)


def test_a_version_is_found_by_number_or_latest_and_absent_ones_say_which_part_is_missing(ticks, tenant):
    assert selectors.subject_version_get(tenant=tenant, subject="ticks-value", version="latest").version == 2
    assert selectors.subject_version_get(tenant=tenant, subject="ticks-value", version=-1).version == 2
    assert selectors.subject_version_get(tenant=tenant, subject="ticks-value", version="1").semantic_version == "1.0.0"
    with pytest.raises(VersionNotFound):
        selectors.subject_version_get(tenant=tenant, subject="ticks-value", version=3)
    with pytest.raises(SubjectNotFound):
        selectors.subject_version_get(tenant=tenant, subject="nothing-value", version=1)


def test_the_version_list_is_oldest_first_and_hides_soft_deleted_versions_unless_asked(ticks, tenant, writer):
    services.subject_version_delete(tenant=tenant, subject_name="ticks-value", version=2, acting_user=writer)

    assert [v.version for v in selectors.subject_version_list(tenant=tenant, subject="ticks-value")] == [1]
    assert [v.version for v in selectors.subject_version_list(tenant=tenant, subject="ticks-value", deleted=True)] == [
        1,
        2,
    ]
    with pytest.raises(SubjectNotFound):
        selectors.subject_version_list(tenant=tenant, subject="nothing-value")


@pytest.mark.parametrize("level", ["BACKWARD", "BACKWARD_TRANSITIVE"])
def test_a_new_version_is_compared_with_the_latest_live_one_and_numbered_after_the_highest(ticks, tenant, level):
    subject = selectors.subject_get(tenant=tenant, name="ticks-value")
    (latest,) = selectors.versions_compared(subject=subject, level="BACKWARD")
    assert (latest.version, latest.subject_highest_version, latest.schema_has_references) == (2, 2, False)

    subject.versions.filter(version=2).update(deleted=True)

    compared = selectors.versions_compared(subject=subject, level=level)
    assert [version.version for version in compared] == [1]
    assert selectors.next_version_number(subject=subject, compared=compared) == 3


@pytest.mark.parametrize("level", ["BACKWARD", "BACKWARD_TRANSITIVE"])
@pytest.mark.parametrize("newest_deleted", [False, True])
def test_the_compared_versions_hold_the_same_fields_and_schemas_as_the_orm_reads(tenant, writer, level, newest_deleted):
    services.subject_version_register(
        tenant=tenant, subject_name="common/money.proto", schema=MONEY, acting_user=writer
    )
    for version in (1, 2):
        services.subject_version_register(
            tenant=tenant,
            subject_name="trading/order.proto",
            schema=ORDER_WITH_MONEY,
            references=[MONEY_REFERENCE],
            metadata={"properties": {"owner": f"desk-{version}"}},
            acting_user=writer,
        )
    subject = selectors.subject_get(tenant=tenant, name="trading/order.proto")
    subject.versions.filter(version=2).update(deleted=newest_deleted)
    live = subject.versions.filter(deleted=False).select_related("schema").order_by("version")
    expected = list(live) if level.endswith("TRANSITIVE") else [live.last()]

    compared = selectors.versions_compared(subject=subject, level=level)

    def fields(row):
        return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}

    assert [fields(version) for version in compared] == [fields(version) for version in expected]
    assert [fields(version.schema) for version in compared] == [fields(version.schema) for version in expected]
    assert [version.schema_has_references for version in compared] == [v.schema.references.exists() for v in expected]
    assert {version.subject_highest_version for version in compared} == {2}
    assert all(version.subject is subject and not version._state.adding for version in compared)


def test_dependencies_are_resolved_through_references_of_references(tenant, writer):
    services.subject_version_register(
        tenant=tenant, subject_name="common/money.proto", schema=MONEY, acting_user=writer
    )
    services.subject_version_register(
        tenant=tenant,
        subject_name="trading/order.proto",
        schema=ORDER_WITH_MONEY,
        references=[MONEY_REFERENCE],
        acting_user=writer,
    )
    order_reference = Reference("trading/order.proto", "trading/order.proto", 1)

    found = selectors.resolve_dependencies(tenant=tenant, references=[order_reference])

    assert found == {"trading/order.proto": ORDER_WITH_MONEY, "common/money.proto": MONEY}
    with pytest.raises(InvalidSchema, match="which does not exist"):
        selectors.resolve_dependencies(tenant=tenant, references=[Reference("x.proto", "x.proto", 1)])


def test_the_compatibility_test_reports_a_changed_type_and_nothing_for_an_unknown_subject(ticks, tenant):
    findings = selectors.compatibility_test(
        tenant=tenant,
        subject_name="ticks-value",
        version=None,
        schema=TICK_V2_CHANGES_TYPE,
        references=[],
        normalize=None,
    )
    assert "FIELD_WIRE_JSON_COMPATIBLE_TYPE" in {finding.rule for finding in findings}
    assert (
        selectors.compatibility_test(
            tenant=tenant, subject_name="new-value", version=None, schema=TICK_V1, references=[], normalize=None
        )
        == []
    )


def test_a_schema_is_looked_up_in_its_subject(ticks, tenant):
    found = selectors.schema_lookup_in_subject(
        tenant=tenant, subject_name="ticks-value", schema=TICK_V2_ADDS_FIELD, references=[], normalize=None
    )
    assert found.version == 2
    with pytest.raises(SchemaNotFound):
        selectors.schema_lookup_in_subject(
            tenant=tenant, subject_name="ticks-value", schema=TICK_V2_CHANGES_TYPE, references=[], normalize=None
        )


def test_the_first_referenced_version_is_the_lowest_a_live_version_imports(tenant, writer):
    services.subject_version_register(
        tenant=tenant, subject_name="common/money.proto", schema=MONEY, acting_user=writer
    )
    assert selectors.first_referenced_version(tenant=tenant, subject="common/money.proto", versions=[1]) is None
    services.subject_version_register(
        tenant=tenant,
        subject_name="orders-value",
        schema=ORDER_WITH_MONEY,
        references=[MONEY_REFERENCE],
        acting_user=writer,
    )
    assert selectors.first_referenced_version(tenant=tenant, subject="common/money.proto", versions=[1]) == 1


def test_a_subject_config_overrides_the_global_one_field_by_field(tenant, owner):
    services.config_update(
        tenant=tenant, subject_name=None, changes={"compatibility": "FULL", "normalize": True}, acting_user=owner
    )
    services.config_update(
        tenant=tenant, subject_name="ticks-value", changes={"compatibility": "NONE"}, acting_user=owner
    )

    config = selectors.effective_config(tenant=tenant, subject="ticks-value")

    assert (config["compatibilityLevel"], config["normalize"]) == ("NONE", True)
