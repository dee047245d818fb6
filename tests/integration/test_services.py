"""The write services, called directly: each names who acted, stays inside its tenant and keeps the audit trail."""

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command

from protoengine import canonical, compiler
from schemas_app import selectors, services
from schemas_app.errors import (
    IncompatibleSchema,
    InvalidCompatibilityLevel,
    OperationNotPermitted,
    ReferenceExists,
    SubjectNotSoftDeleted,
)
from schemas_app.models import SubjectVersion
from schemas_app.preparation import Reference
from tests.integration.api.helpers import MONEY, ORDER_WITH_MONEY, TICK_V1, TICK_V2_ADDS_FIELD, TICK_V2_CHANGES_TYPE

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    return selectors.default_tenant()


def register(tenant, subject, text, user, references=()):
    return services.subject_version_register(
        tenant=tenant, subject_name=subject, schema=text, references=list(references), acting_user=user
    )


def test_registering_records_the_acting_user_as_author_and_in_the_audit_trail(tenant, writer):
    version = register(tenant, "ticks-value", TICK_V1, writer).subject_version

    assert (version.version, version.semantic_version, version.created_by) == (1, "1.0.0", writer)
    assert LogEntry.objects.get_for_object(version).get().actor == writer


def test_a_service_called_without_an_acting_user_is_refused(tenant):
    with pytest.raises(TypeError, match="needs acting_user"):
        services.subject_version_register(tenant=tenant, subject_name="ticks-value", schema=TICK_V1)
    with pytest.raises(TypeError, match="needs acting_user"):
        services.config_update(tenant=tenant, subject_name=None, changes={}, acting_user=None)


def test_load_schemas_registers_as_the_system_account(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "money.proto").write_text(MONEY)

    call_command("load_schemas", str(tmp_path))
    call_command("load_schemas", str(tmp_path))  # the account is made once, the version too

    version = SubjectVersion.objects.get(subject__name="common/money.proto")
    assert version.created_by.username == services.SYSTEM_USERNAME == "registry-system"
    assert not version.created_by.has_usable_password()


def test_the_same_subject_name_in_two_tenants_keeps_two_histories(tenant, second_tenant, writer, second_tenant_writer):
    register(tenant, "ticks-value", TICK_V1, writer)
    register(tenant, "ticks-value", TICK_V2_ADDS_FIELD, writer)
    other = register(second_tenant, "ticks-value", TICK_V2_ADDS_FIELD, second_tenant_writer).subject_version

    assert (other.version, other.semantic_version) == (1, "1.0.0")
    assert selectors.version_numbers(tenant=tenant, subject="ticks-value") == [1, 2]


def test_a_breaking_change_is_refused_under_review_policy_none(tenant, writer):
    register(tenant, "ticks-value", TICK_V1, writer)
    services.config_update(
        tenant=tenant, subject_name="ticks-value", changes={"reviewPolicy": "none"}, acting_user=writer
    )

    with pytest.raises(IncompatibleSchema):
        register(tenant, "ticks-value", TICK_V2_CHANGES_TYPE, writer)


def test_a_read_only_subject_refuses_new_versions(tenant, writer, owner):
    register(tenant, "ticks-value", TICK_V1, writer)
    services.mode_update(tenant=tenant, subject_name="ticks-value", mode="READONLY", acting_user=owner)

    with pytest.raises(OperationNotPermitted):
        register(tenant, "ticks-value", TICK_V2_ADDS_FIELD, writer)


def test_deleting_a_subject_audits_each_version_under_the_acting_user(tenant, writer):
    register(tenant, "ticks-value", TICK_V1, writer)
    register(tenant, "ticks-value", TICK_V2_ADDS_FIELD, writer)
    with pytest.raises(SubjectNotSoftDeleted):
        services.subject_delete(tenant=tenant, subject_name="ticks-value", permanent=True, acting_user=writer)

    assert services.subject_delete(tenant=tenant, subject_name="ticks-value", acting_user=writer) == [1, 2]
    assert services.subject_delete(tenant=tenant, subject_name="ticks-value", permanent=True, acting_user=writer) == [
        1,
        2,
    ]

    entries = LogEntry.objects.filter(content_type__model="subjectversion").order_by("id")
    assert [(entry.action, entry.actor) for entry in entries] == [
        *[(LogEntry.Action.CREATE, writer)] * 2,
        *[(LogEntry.Action.UPDATE, writer)] * 2,
        *[(LogEntry.Action.DELETE, writer)] * 2,
    ]
    assert entries[2].changes["deleted"] == ["False", "True"]


def test_a_referenced_version_cannot_be_deleted(tenant, writer):
    register(tenant, "common/money.proto", MONEY, writer)
    register(
        tenant,
        "orders-value",
        ORDER_WITH_MONEY,
        writer,
        [Reference("common/money.proto", "common/money.proto", 1)],
    )

    with pytest.raises(ReferenceExists):
        services.subject_delete(tenant=tenant, subject_name="common/money.proto", acting_user=writer)
    with pytest.raises(ReferenceExists):
        services.subject_version_delete(tenant=tenant, subject_name="common/money.proto", version=1, acting_user=writer)


def test_config_is_validated_and_kept_per_tenant(tenant, second_tenant, owner):
    with pytest.raises(InvalidCompatibilityLevel):
        services.config_update(
            tenant=tenant, subject_name=None, changes={"compatibility": "SIDEWAYS"}, acting_user=owner
        )

    services.config_update(tenant=tenant, subject_name=None, changes={"compatibility": "full"}, acting_user=owner)

    assert selectors.effective_config(tenant=tenant, subject="x")["compatibilityLevel"] == "FULL"
    assert selectors.effective_config(tenant=second_tenant, subject="x")["compatibilityLevel"] == "BACKWARD"


def test_registering_the_text_just_checked_prints_and_fingerprints_it_no_more(tenant, writer, monkeypatch):
    register(tenant, "ticks-value", TICK_V1, writer)
    selectors.compatibility_test(
        tenant=tenant,
        subject_name="ticks-value",
        version=None,
        schema=TICK_V2_ADDS_FIELD,
        references=[],
        normalize=None,
    )
    computed = []
    for name in ("_printed", "identity_fingerprint", "identity_fingerprints"):
        monkeypatch.setattr(canonical, name, _counted(getattr(canonical, name), name, computed))

    version = register(tenant, "ticks-value", TICK_V2_ADDS_FIELD, writer).subject_version

    assert computed == []
    assert version.schema.fingerprint == canonical.identity_fingerprint(
        compiler.compile_one("ticks-value.proto", TICK_V2_ADDS_FIELD).file("ticks-value.proto")
    )


def _counted(function, name, calls):
    def counted(*arguments, **options):
        calls.append(name)
        return function(*arguments, **options)

    return counted
