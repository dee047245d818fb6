"""Admin pages of access control: role grants on subjects, prefixes, tenants and groups; tenant bindings; API tokens.

Subjects, tenants and prefix grants use guardian's "Object permissions" page to grant roles to groups;
their change pages list the grants in force, and a group's page lists every grant it holds.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.utils.html import format_html_join
from guardian.admin import GuardedModelAdmin
from guardian.models import GroupObjectPermission

from schemas_app import access, tenants, tokens
from schemas_app.errors import RegistryError
from schemas_app.models import ApiToken, SubjectPrefixGrant, Tenant, TenantBinding, TenantConfig

ROLE_OF_PERMISSION = {codename: role for role, codename in access.PERMISSION_OF_ROLE.items()}


class TenantScoped:
    """An admin page of tenant-owned rows: staff see and change only rows of the tenants they may read.

    The rule of GET /reviews and the review queue (`access.readable_tenants`; superusers see every tenant).
    A row out of scope is missing from the list, its pages answer as for a row that does not exist, its
    tenant is not offered in forms or in the list's tenant filter. `tenant_path` leads from the row to its
    tenant ("" for a tenant itself); a row whose tenant is null (a prefix grant of every tenant) is the
    superusers' alone.
    """

    tenant_path = "tenant"

    def limit_to_tenants(self, queryset, tenants):
        """Return the rows of `queryset` that belong to one of `tenants` (a queryset of tenants)."""
        return queryset.filter(**{f"{self.tenant_path}__in" if self.tenant_path else "pk__in": tenants})

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if access.sees_every_tenant(request.user):
            return queryset
        return self.limit_to_tenants(queryset, access.readable_tenants(request.user))

    def in_scope(self, request, obj) -> bool:
        """Return True if the user may see `obj` (None: the page as a whole) by its tenant."""
        if obj is None or access.sees_every_tenant(request.user):
            return True
        rows = self.model._default_manager.filter(pk=obj.pk)
        return self.limit_to_tenants(rows, access.readable_tenants(request.user)).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.in_scope(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Tenant and not access.sees_every_tenant(request.user):
            kwargs["queryset"] = access.readable_tenants(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        # Django's filter of a foreign key lists every tenant by name; this one lists those of the rows shown.
        return [
            (name, RelatedOnlyFieldListFilter) if name == self.tenant_path else name
            for name in super().get_list_filter(request)
        ]


class GrantsShown(GuardedModelAdmin):
    """A change page that lists the roles granted on its object, by group."""

    @admin.display(description="Role grants")
    def grants(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        rows = (
            GroupObjectPermission.objects.filter(
                content_type__app_label=obj._meta.app_label,
                content_type__model=obj._meta.model_name,
                object_pk=str(obj.pk),
            )
            .select_related("group", "permission")
            .order_by("group__name", "permission__codename")
        )
        items = [
            (row.group.name, ROLE_OF_PERMISSION.get(row.permission.codename, row.permission.codename)) for row in rows
        ]
        if not items:
            return "None (use Object permissions, above, to grant roles to groups)"
        return format_html_join("", "<div>{}: {}</div>", items)


@admin.register(SubjectPrefixGrant)
class SubjectPrefixGrantAdmin(TenantScoped, GrantsShown):
    list_display = ("prefix", "tenant", "created_at")
    search_fields = ("prefix",)
    readonly_fields = ("grants",)


@admin.register(TenantBinding)
class TenantBindingAdmin(TenantScoped, admin.ModelAdmin):
    list_display = ("user", "tenant")
    list_select_related = ("user", "tenant")
    autocomplete_fields = ("user",)


class GroupGrantsInline(admin.TabularInline):
    model = GroupObjectPermission
    fields = ("permission", "content_type", "object_pk")
    extra = 0
    verbose_name = "role grant"
    verbose_name_plural = "Role grants on subjects, prefixes and tenants"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("permission", "content_type")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "permission":
            kwargs["queryset"] = db_field.remote_field.model.objects.filter(
                content_type__app_label="schemas_app", codename__in=ROLE_OF_PERMISSION
            ).select_related("content_type")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


admin.site.unregister(Group)


@admin.register(Group)
class GroupWithGrantsAdmin(GroupAdmin):
    inlines = [GroupGrantsInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made here through the same service as /tokens; the secret is shown once, in a message."""

    list_display = ("prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    fields = ("user", "name", "expires_at", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    autocomplete_fields = ("user",)
    actions = ["rotate", "revoke"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        token, secret = tokens.api_token_create(
            user=obj.user, name=obj.name, expires_at=obj.expires_at, acting_user=request.user
        )
        obj.pk = token.pk
        messages.warning(request, f"Token {token.prefix}… made. Copy its secret now, it is not shown again: {secret}")

    @admin.action(description="Rotate the selected tokens (new secrets are shown once)")
    def rotate(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            token, secret = tokens.api_token_rotate(token=token, acting_user=request.user)
            messages.warning(request, f"New secret of {token.name} ({token.user}): {secret}")

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            tokens.api_token_revoke(token=token, acting_user=request.user)


class TenantConfigForm(forms.ModelForm):
    class Meta:
        model = TenantConfig
        fields = ("tenant", "config", "blocking_lint_rules")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("tenant") is not None:
            try:
                tenants.validated_config(tenant=cleaned["tenant"], config=cleaned.get("config"))
            except RegistryError as error:
                raise forms.ValidationError(error.message) from None
        return cleaned


@admin.register(TenantConfig)
class TenantConfigAdmin(TenantScoped, admin.ModelAdmin):
    """Tenant configurations, validated against system/config.proto exactly as over REST."""

    form = TenantConfigForm
    list_display = ("tenant", "schema", "updated_at")
    readonly_fields = ("schema", "updated_at")

    def save_model(self, request, obj, form, change):
        row = tenants.tenant_config_update(
            tenant=obj.tenant,
            config=obj.config,
            blocking_lint_rules=obj.blocking_lint_rules,
            acting_user=request.user,
        )
        obj.pk = row.pk
