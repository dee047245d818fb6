"""The reviewers' console: subjects with their versions, schema texts and lint findings."""

from auditlog.admin import LogEntryAdmin as AuditlogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils.html import format_html

from schemas_app import access, audit_scope, deprecation, selectors, services
from schemas_app.admin_access import DeletesThroughServices, GrantsShown, TenantScoped
from schemas_app.errors import RegistryError
from schemas_app.models import ChangeRequest, Schema, Subject, SubjectConfig, SubjectMode, SubjectVersion, Tenant
from schemas_app.side_by_side import findings_table
from schemas_app.ui.sign_in import LimitedAdminAuthenticationForm


@admin.register(Tenant)
class TenantAdmin(TenantScoped, GrantsShown):
    tenant_path = ""  # a tenant is its own
    change_role = delete_role = None  # as POST /tenants: superusers only
    list_display = ("slug", "name", "shared", "created_at")
    search_fields = ("slug", "name")
    readonly_fields = ("grants",)


class SubjectVersionInline(admin.TabularInline):
    model = SubjectVersion
    fields = ("version", "semantic_version", "change", "state", "deleted", "schema", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class ThroughServices(DeletesThroughServices):
    """Admin pages that never write around the services: no add form, deletes run the service's checks."""

    def has_add_permission(self, request, obj=None):
        return False  # versions come from the API, the CLI or an approved review


@admin.register(Subject)
class SubjectAdmin(TenantScoped, ThroughServices, GrantsShown):
    subject_path = "name"
    delete_role = "delete"  # as DELETE /subjects/{subject}
    list_display = (
        "name",
        "tenant",
        "latest_semantic_version",
        "version_count",
        "compatibility_level",
        "review_policy",
        "open_reviews",
        "lint_finding_count",
    )
    list_filter = ("tenant",)
    search_fields = ("name",)
    readonly_fields = ("tenant", "name", "created_at", "grants")
    inlines = [SubjectVersionInline]
    list_select_related = ("tenant",)

    def get_queryset(self, request):
        live = SubjectVersion.objects.filter(subject=OuterRef("pk"), deleted=False).order_by("-version")
        configs = SubjectConfig.objects.filter(tenant=OuterRef("tenant"), subject_name=OuterRef("name"))
        pending = ChangeRequest.objects.filter(
            tenant=OuterRef("tenant"), subject_name=OuterRef("name"), status=ChangeRequest.Status.PENDING
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                live_versions=Count("versions", filter=Q(versions__deleted=False)),
                latest_semver=Subquery(live.values("semantic_version")[:1]),
                latest_lint=Subquery(live.values("lint_findings")[:1]),
                subject_level=Subquery(configs.values("compatibility_level")[:1]),
                subject_review_policy=Subquery(configs.values("review_policy")[:1]),
                pending_reviews=Subquery(
                    pending.values("subject_name").annotate(total=Count("pk")).values("total")[:1]
                ),
            )
        )

    @admin.display(description="Latest version")
    def latest_semantic_version(self, obj):
        return obj.latest_semver or "-"

    @admin.display(description="Versions", ordering="live_versions")
    def version_count(self, obj):
        return obj.live_versions

    @admin.display(description="Compatibility")
    def compatibility_level(self, obj):
        return obj.subject_level or "(tenant's)"

    @admin.display(description="Review policy")
    def review_policy(self, obj):
        return obj.subject_review_policy or "(tenant's)"

    @admin.display(description="Open reviews")
    def open_reviews(self, obj):
        return obj.pending_reviews or 0

    @admin.display(description="Lint findings")
    def lint_finding_count(self, obj):
        return len(obj.latest_lint or [])

    def delete_through_service(self, request, obj):
        permanent = not obj.versions.filter(deleted=False).exists()
        services.subject_delete(tenant=obj.tenant, subject_name=obj.name, permanent=permanent, acting_user=request.user)


@admin.register(SubjectVersion)
class SubjectVersionAdmin(TenantScoped, ThroughServices, admin.ModelAdmin):
    tenant_path = "subject__tenant"
    subject_path = "subject__name"
    delete_role = "delete"  # as DELETE /subjects/{subject}/versions/{version}
    list_display = (
        "subject",
        "version",
        "semantic_version",
        "change",
        "major_because",
        "state",
        "deleted",
        "created_by",
        "created_at",
    )
    list_filter = ("state", "deleted", "change")
    search_fields = ("subject__name",)
    list_select_related = ("subject", "subject__tenant", "created_by")
    fields = (
        "subject",
        "version",
        "semantic_version",
        "change",
        "major_because",
        "state",
        "deprecated_at",
        "sunset_at",
        "deprecation_reason",
        "successor_subject",
        "successor_version",
        "disabled_at",
        "deleted",
        "schema",
        "created_by",
        "created_at",
        "deleted_at",
        "lint_report",
        "schema_text",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        approved = ChangeRequest.objects.filter(registered_version=OuterRef("pk")).order_by("-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(review_findings=Subquery(approved.values("compatibility_findings")[:1]))
        )

    def has_change_permission(self, request, obj=None):
        return False  # every field is derived or set by a service

    actions = ["deprecate_versions"]

    @admin.action(description="Deprecate selected versions (sunset after the tenant's removal period)")
    def deprecate_versions(self, request, queryset):
        done = 0
        for version in queryset.select_related("subject__tenant"):
            if not self.holds_role_on(request, "write", version):  # as POST .../deprecate
                self.message_user(request, f"Deprecating {version} needs the write role.", messages.ERROR)
                continue
            try:
                deprecation.version_deprecate(
                    tenant=version.subject.tenant,
                    subject_name=version.subject.name,
                    version=version.version,
                    reason=f"deprecated in the admin by {request.user.get_username()}",
                    acting_user=request.user,
                )
            except RegistryError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"{done} version(s) deprecated.")

    @admin.display(description="Major because")
    def major_because(self, obj):
        if obj.change != "MAJOR":
            return "-"
        rules = sorted({finding["rule"] for finding in getattr(obj, "review_findings", None) or []})
        return ", ".join(rules) or "breaking (compatibility not enforced)"

    @admin.display(description="Schema")
    def schema_text(self, obj):
        return format_html("<pre style='max-height:40em;overflow:auto'>{}</pre>", obj.schema.text)

    @admin.display(description="Lint findings")
    def lint_report(self, obj):
        return findings_table(obj.lint_findings)

    def delete_through_service(self, request, obj):
        # Soft delete first, as the API does; a soft-deleted version is then purged.
        services.subject_version_delete(
            tenant=obj.subject.tenant,
            subject_name=obj.subject.name,
            version=obj.version,
            permanent=obj.deleted,
            acting_user=request.user,
        )


@admin.register(Schema)
class SchemaAdmin(TenantScoped, admin.ModelAdmin):
    list_display = ("id", "guid", "schema_type", "fingerprint", "created_at")
    search_fields = ("fingerprint", "guid")
    readonly_fields = (
        "guid",
        "schema_type",
        "fingerprint",
        "canonical_fingerprint",
        "text",
        "metadata",
        "rule_set",
        "created_at",
    )

    def limit_to_tenants(self, queryset, tenants):
        # A schema is stored once for every subject holding it: it is a tenant's while one of its versions is.
        return queryset.filter(pk__in=SubjectVersion.objects.filter(subject__tenant__in=tenants).values("schema"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # content-addressed: every field is derived from the text

    def has_delete_permission(self, request, obj=None):
        return False  # schemas go when the last version holding them is purged


@admin.register(SubjectConfig)
class SubjectConfigAdmin(TenantScoped, DeletesThroughServices, admin.ModelAdmin):
    """Configuration rows, written through `services.config_update` with its validation."""

    subject_path = "subject_name"
    change_role = delete_role = "approve"  # as PUT and DELETE /config

    list_display = (
        "tenant",
        "subject_name",
        "compatibility_level",
        "compatibility_rules",
        "review_policy",
        "lint_policy",
        "required_approvals",
        "notice_hours",
    )
    list_filter = ("compatibility_level", "compatibility_rules", "review_policy", "lint_policy")
    fields = (
        "tenant",
        "subject_name",
        "compatibility_level",
        "compatibility_rules",
        "normalize",
        "lint_except",
        "review_policy",
        "lint_policy",
        "required_approvals",
        "notice_hours",
    )

    def get_readonly_fields(self, request, obj=None):
        return ("tenant", "subject_name") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        changes = {
            "compatibility": data.get("compatibility_level") or None,
            "compatibilityRules": data.get("compatibility_rules") or None,
            "normalize": data.get("normalize"),
            "lintExcept": data.get("lint_except") or [],
            "reviewPolicy": data.get("review_policy") or None,
            "lintPolicy": data.get("lint_policy") or None,
            "requiredApprovals": data.get("required_approvals"),
            "noticeHours": data.get("notice_hours"),
        }
        services.config_update(
            tenant=obj.tenant,
            subject_name=obj.subject_name or None,
            changes={key: value for key, value in changes.items() if value is not None or key.endswith("Policy")},
            acting_user=request.user,
        )
        obj.pk = selectors.config_row(tenant=obj.tenant, subject=obj.subject_name or None).pk

    def delete_through_service(self, request, obj):
        services.config_delete(tenant=obj.tenant, subject_name=obj.subject_name or None, acting_user=request.user)


@admin.register(SubjectMode)
class SubjectModeAdmin(TenantScoped, DeletesThroughServices, admin.ModelAdmin):
    """Modes, written through `services.mode_update` (IMPORT needs an empty scope)."""

    subject_path = "subject_name"
    change_role = delete_role = "approve"  # as PUT and DELETE /mode

    list_display = ("tenant", "subject_name", "mode")

    def get_readonly_fields(self, request, obj=None):
        return ("tenant", "subject_name") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        services.mode_update(
            tenant=obj.tenant, subject_name=obj.subject_name or None, mode=obj.mode, acting_user=request.user
        )
        obj.pk = SubjectMode.objects.get(tenant=obj.tenant, subject_name=obj.subject_name or None).pk

    def delete_through_service(self, request, obj):
        # The service keeps the tenant-wide mode (as DELETE /mode does); its refusal is shown as the message.
        services.mode_delete(tenant=obj.tenant, subject_name=obj.subject_name or None, acting_user=request.user)


# The audit log is read-only for everyone, super admins included: no add, change or delete, no bulk actions.
admin.site.unregister(LogEntry)

# The admin's sign-in counts wrong passwords with the API's sign-ins, and refuses a locked-out account.
admin.site.login_form = LimitedAdminAuthenticationForm


@admin.register(LogEntry)
class AuditEntryAdmin(TenantScoped, AuditlogEntryAdmin):
    """The auditors' view, as /ui/audit/: the audit role, and the entries of the tenants one holds it on
    (`audit_scope`).

    Reading a tenant is not enough: an entry shows rows its reader may not see (another account's subscription).
    """

    list_display = ("created", "resource_url", "action", "msg_short", "user_url", "remote_addr", "cid")
    actions = None

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and access.has_role(request.user, "audit")

    def shown_tenants(self, request):
        return access.tenants_with_role(request.user, "audit")

    def limit_to_tenants(self, queryset, tenants):
        return queryset.filter(audit_scope.entries_of_tenants(tenants))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


from schemas_app import admin_reviews  # noqa: E402,F401  (the review queue registers itself)
