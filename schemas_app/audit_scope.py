"""Which audit entries are a tenant's: the one rule the auditors' two views (/ui/audit/ and the admin's) follow.

An entry is a tenant's when the row it records is: the tenant itself, its subjects and their versions and settings,
the schemas its versions hold (a schema is stored once for every subject holding it) and their references, its
change requests with their approvals and comments, its bindings, configuration, prefix grants and subscriptions,
and the role grants made on it, on its subjects or on its prefixes. Entries of accounts, groups and tokens (an
account's history may reach past its tenant), of grants on every tenant and of rows deleted since are the
superusers' alone.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from guardian.models import GroupObjectPermission, UserObjectPermission

from schemas_app import access
from schemas_app.models import (
    Approval,
    ChangeRequest,
    ReviewComment,
    Schema,
    SchemaReference,
    Subject,
    SubjectConfig,
    SubjectMode,
    SubjectPrefixGrant,
    SubjectVersion,
    Subscription,
    Tenant,
    TenantBinding,
    TenantConfig,
)


def entries_of_tenants(tenants: QuerySet[Tenant]) -> Q:
    """Return the condition on LogEntry that keeps the entries of these tenants' rows."""
    rows = _rows_of_tenants(tenants)
    types = ContentType.objects.get_for_models(*rows)
    found = Q(pk__in=[])
    for model, model_rows in rows.items():
        found |= Q(content_type=types[model], object_id__in=model_rows.values("pk"))
    return found


def _rows_of_tenants(tenants: QuerySet[Tenant]) -> dict[type, QuerySet]:
    tenant_ids = tenants.values("pk")
    versions = SubjectVersion.objects.filter(subject__tenant__in=tenant_ids)
    schemas = Schema.objects.filter(pk__in=versions.values("schema"))
    grants_inside = access.grants_inside(tenants)
    return {
        Tenant: Tenant.objects.filter(pk__in=tenant_ids),
        Subject: Subject.objects.filter(tenant__in=tenant_ids),
        SubjectVersion: versions,
        Schema: schemas,
        SchemaReference: SchemaReference.objects.filter(schema__in=schemas),
        SubjectConfig: SubjectConfig.objects.filter(tenant__in=tenant_ids),
        SubjectMode: SubjectMode.objects.filter(tenant__in=tenant_ids),
        ChangeRequest: ChangeRequest.objects.filter(tenant__in=tenant_ids),
        Approval: Approval.objects.filter(change_request__tenant__in=tenant_ids),
        ReviewComment: ReviewComment.objects.filter(change_request__tenant__in=tenant_ids),
        TenantBinding: TenantBinding.objects.filter(tenant__in=tenant_ids),
        TenantConfig: TenantConfig.objects.filter(tenant__in=tenant_ids),
        SubjectPrefixGrant: SubjectPrefixGrant.objects.filter(tenant__in=tenant_ids),
        Subscription: Subscription.objects.filter(tenant__in=tenant_ids),
        UserObjectPermission: UserObjectPermission.objects.filter(grants_inside),
        GroupObjectPermission: GroupObjectPermission.objects.filter(grants_inside),
    }
