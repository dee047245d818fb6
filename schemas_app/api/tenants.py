"""/tenants and /tenants/{slug}/config: tenants the caller sees, and their TenantConfig in its JSON mapping."""

from functools import cached_property

from rest_framework import serializers
from rest_framework.response import Response

from schemas_app import tenants
from schemas_app.api.common import RegistryView
from schemas_app.api.openapi import documented
from schemas_app.api.permissions import CanApprove, IsSuperuser
from schemas_app.errors import NotFound


class TenantInputSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200)
    shared = serializers.BooleanField(required=False, default=False)


class TenantConfigInputSerializer(serializers.Serializer):
    config = serializers.JSONField()
    blockingLintRules = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)


def tenant_payload(tenant) -> dict:
    return {"slug": tenant.slug, "name": tenant.name, "shared": tenant.shared}


def tenant_config_payload(row) -> dict:
    return {
        "tenant": row.tenant.slug,
        "config": row.config,
        "blockingLintRules": row.blocking_lint_rules,
        "schemaId": row.schema_id,
        "updatedAt": row.updated_at.isoformat(),
    }


@documented(request=TenantInputSerializer)
class TenantListView(RegistryView):
    """List the tenants the caller may read; a superuser creates one with POST."""

    method_permissions = {"POST": [IsSuperuser]}

    @property
    def tenant(self):
        return None

    def get(self, request):
        return Response([tenant_payload(tenant) for tenant in tenants.tenant_list(viewer=request.user)])

    def post(self, request):
        serializer = TenantInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = tenants.tenant_create(**serializer.validated_data, acting_user=request.user)
        return Response(tenant_payload(tenant), status=201)


class TenantScopedView(RegistryView):
    """A view of one tenant named by its slug; a tenant the caller may not read answers as an unknown one."""

    @cached_property
    def tenant(self):
        return tenants.tenant_get(viewer=self.request.user, slug=self.kwargs["slug"])


@documented()
class TenantDetailView(TenantScopedView):
    """Show one tenant."""

    def get(self, request, slug):
        return Response(tenant_payload(self.tenant))


@documented(request=TenantConfigInputSerializer)
class TenantConfigView(TenantScopedView):
    """Read, replace (validated against system/config.proto) or delete a tenant's configuration."""

    # Changing a tenant's settings is a platform admin's job, as compatibility settings are.
    method_permissions = {"PUT": [CanApprove], "DELETE": [CanApprove]}

    def get(self, request, slug):
        row = tenants.tenant_config_get(tenant=self.tenant)
        if row is None:
            raise NotFound(f"Tenant '{slug}' has no configuration")
        return Response(tenant_config_payload(row))

    def put(self, request, slug):
        serializer = TenantConfigInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = tenants.tenant_config_update(
            tenant=self.tenant,
            config=serializer.validated_data["config"],
            blocking_lint_rules=serializer.validated_data.get("blockingLintRules"),
            acting_user=request.user,
        )
        return Response(tenant_config_payload(row))

    def delete(self, request, slug):
        tenants.tenant_config_delete(tenant=self.tenant, acting_user=request.user)
        return Response({"tenant": slug, "deleted": True})
