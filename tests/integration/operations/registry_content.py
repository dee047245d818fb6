"""A registry with something of everything, for the backup and migration tests.

References, a version gap left by a permanent delete, a soft-deleted version, ids shared across
subjects, subject and global configs, a subject mode, a pending review, a second tenant and a role grant.
"""

from guardian.shortcuts import assign_perm

from schemas_app import selectors, services
from schemas_app.models import Tenant
from schemas_app.preparation import Reference
from tests.integration.api.helpers import MONEY, ORDER_WITH_MONEY, TICK_V1, TICK_V2_ADDS_FIELD

TICK_V3 = TICK_V2_ADDS_FIELD.replace("  string venue = 7;\n", "  string venue = 7;\n  string exchange = 8;\n")
TICK_V4 = TICK_V3.replace("  string exchange = 8;\n", "  string exchange = 8;\n  int32 lot = 9;\n")


def fill_registry(*, acting_user=None) -> Tenant:
    """Register the content in the default tenant (and a little in a second one); return the default tenant."""
    tenant = selectors.default_tenant()

    def register(subject, text, references=()):
        return services.subject_version_register(
            tenant=tenant, subject_name=subject, schema=text, references=list(references), acting_user=acting_user
        )

    register("common/money.proto", MONEY)
    register("orders-value", ORDER_WITH_MONEY, [Reference("common/money.proto", "common/money.proto", 1)])
    for text in (TICK_V1, TICK_V2_ADDS_FIELD, TICK_V3, TICK_V4):
        register("ticks-value", text)
    # Version 2 goes for good (a gap in the numbers), version 4 only softly.
    services.subject_version_delete(tenant=tenant, subject_name="ticks-value", version=2, acting_user=acting_user)
    services.subject_version_delete(
        tenant=tenant, subject_name="ticks-value", version=2, permanent=True, acting_user=acting_user
    )
    services.subject_version_delete(tenant=tenant, subject_name="ticks-value", version=4, acting_user=acting_user)
    register("ticks-copy-value", TICK_V1)  # the same schema, so the same id, under another subject
    services.config_update(
        tenant=tenant, subject_name="ticks-value", changes={"compatibility": "FULL"}, acting_user=acting_user
    )
    services.config_update(
        tenant=tenant, subject_name=None, changes={"compatibilityRules": "WIRE_JSON"}, acting_user=acting_user
    )
    services.mode_update(tenant=tenant, subject_name="ticks-copy-value", mode="READONLY", acting_user=acting_user)
    # A breaking change to money is held for review (the default review policy) with its findings.
    held = register("common/money.proto", MONEY.replace("  string currency_code = 3;\n", ""))
    assert held.change_request is not None

    other = Tenant.objects.create(slug="risk", name="Risk desk")
    services.subject_version_register(
        tenant=other, subject_name="limits-value", schema=TICK_V1, acting_user=acting_user
    )
    if acting_user is not None:
        assign_perm("schemas_app.read_schemas", acting_user, other)
    return tenant
