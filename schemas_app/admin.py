"""The reviewers' console: subjects with their versions, schema texts and lint findings."""

from auditlog.admin import LogEntryAdmin as AuditlogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.utils.html import format_html, format_html_join

from schemas_app.admin_access import GrantsShown
from schemas_app.models import Schema, Subject, SubjectConfig, SubjectMode, SubjectVersion, Tenant


@admin.register(Tenant)
class TenantAdmin(GrantsShown):
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


@admin.register(Subject)
class SubjectAdmin(GrantsShown):
    list_display = ("name", "tenant", "created_at")
    list_filter = ("tenant",)
    search_fields = ("name",)
    readonly_fields = ("tenant", "name", "created_at", "grants")
    inlines = [SubjectVersionInline]
    list_select_related = ("tenant",)


@admin.register(SubjectVersion)
class SubjectVersionAdmin(admin.ModelAdmin):
    list_display = ("subject", "version", "semantic_version", "change", "state", "deleted", "created_at")
    list_filter = ("state", "deleted", "change")
    search_fields = ("subject__name",)
    list_select_related = ("subject",)
    readonly_fields = (
        "subject",
        "version",
        "schema",
        "semantic_version",
        "change",
        "deleted",
        "created_by",
        "created_at",
        "deleted_at",
        "schema_text",
        "lint_report",
    )
    fields = (
        "subject",
        "version",
        "semantic_version",
        "change",
        "state",
        "deleted",
        "schema",
        "created_by",
        "created_at",
        "deleted_at",
        "lint_report",
        "schema_text",
    )

    @admin.display(description="Schema")
    def schema_text(self, obj):
        return format_html("<pre style='max-height:40em;overflow:auto'>{}</pre>", obj.schema.text)

    @admin.display(description="Lint findings")
    def lint_report(self, obj):
        if not obj.lint_findings:
            return "None"
        rows = ((f["rule"], f["path"], f["line"], f["column"], f["message"]) for f in obj.lint_findings)
        return format_html(
            "<table>{}</table>", format_html_join("", "<tr><td>{}</td><td>{}:{}:{}</td><td>{}</td></tr>", rows)
        )


@admin.register(Schema)
class SchemaAdmin(admin.ModelAdmin):
    list_display = ("id", "guid", "schema_type", "fingerprint", "created_at")
    search_fields = ("fingerprint", "guid")
    readonly_fields = ("guid", "schema_type", "fingerprint", "text", "metadata", "rule_set", "created_at")


@admin.register(SubjectConfig)
class SubjectConfigAdmin(admin.ModelAdmin):
    list_display = ("tenant", "subject_name", "compatibility_level", "compatibility_rules", "normalize")
    list_filter = ("compatibility_level", "compatibility_rules")


@admin.register(SubjectMode)
class SubjectModeAdmin(admin.ModelAdmin):
    list_display = ("tenant", "subject_name", "mode")


# The audit log is read-only for everyone, super admins included: no add, change or delete, no bulk actions.
admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditEntryAdmin(AuditlogEntryAdmin):
    list_display = ("created", "resource_url", "action", "msg_short", "user_url", "remote_addr", "cid")
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
