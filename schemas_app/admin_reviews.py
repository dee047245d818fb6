"""The review queue of the reviewers' console: pending changes first, their reports, and approve or reject.

The buttons call the same services as the API (`schemas_app.reviews`), with the same checks.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Value, When
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from schemas_app import notifications, reviews, selectors
from schemas_app.admin_access import DeletesThroughServices, TenantScoped
from schemas_app.errors import RegistryError
from schemas_app.models import ChangeRequest, DeliveryAttempt, NotificationDelivery, Subscription
from schemas_app.side_by_side import findings_table, side_by_side


@admin.register(ChangeRequest)
class ChangeRequestAdmin(TenantScoped, admin.ModelAdmin):
    change_form_template = "admin/schemas_app/changerequest/change_form.html"
    list_display = (
        "id",
        "subject_name",
        "status",
        "author",
        "created_at",
        "held_because_text",
        "semantic_version",
        "preparation_text",
        "approval_count",
    )
    list_display_links = ("id", "subject_name")
    list_filter = ("status", "breaking", "tenant")
    search_fields = ("subject_name", "author__username")
    list_select_related = ("tenant", "author")
    fieldsets = (
        (None, {"fields": ("subject_name", "tenant", "status", "author", "created_at", "held_because_text")}),
        (
            "Proposed change",
            {"fields": ("semantic_version", "change", "base_version", "preparation_text", "diff_table")},
        ),
        ("Checks", {"fields": ("compatibility_report", "lint_report", "impact_report")}),
        (
            "Decision",
            {
                "fields": (
                    "required_approvals",
                    "approvals_text",
                    "notice_ends_at",
                    "notice_override_reason",
                    "decided_by",
                    "decided_at",
                    "decision_reason",
                    "registered_version",
                    "comments_text",
                )
            },
        ),
    )
    # The page is read-only: every field it shows, as the fieldsets list them.
    readonly_fields = tuple(name for _, options in fieldsets for name in options["fields"])

    def get_queryset(self, request):
        pending_first = Case(When(status=ChangeRequest.Status.PENDING, then=Value(0)), default=Value(1))
        # A reviewer sees the reviews of the tenants it may read, as GET /reviews shows them (TenantScoped).
        return (
            super()
            .get_queryset(request)
            .annotate(queue_order=pending_first, approval_total=Count("approvals", distinct=True))
            .order_by("queue_order", "-created_at")
        )

    def has_add_permission(self, request):
        return False  # changes are proposed by registering them, never typed in here

    def has_change_permission(self, request, obj=None):
        return False  # the page is read-only; decisions go through the buttons below it

    def has_delete_permission(self, request, obj=None):
        return False  # a decided review is history

    @admin.display(description="Held because")
    def held_because_text(self, obj):
        return ", ".join(obj.held_because) or "-"

    @admin.display(description="Checks")
    def preparation_text(self, obj):
        if obj.preparation == ChangeRequest.Preparation.READY:
            return "ready"
        if obj.preparation == ChangeRequest.Preparation.FAILED:
            return f"failed: {obj.preparation_error}"
        return f"{obj.preparation} ({obj.progress}%)"

    @admin.display(description="Approvals", ordering="approval_total")
    def approval_count(self, obj):
        return f"{obj.approval_total}/{obj.required_approvals}"

    @admin.display(description="Diff")
    def diff_table(self, obj):
        base = ""
        if obj.base_version is not None:
            found = (
                selectors.SubjectVersion.objects.filter(
                    subject__tenant=obj.tenant, subject__name=obj.subject_name, version=obj.base_version
                )
                .select_related("schema")
                .first()
            )
            base = found.schema.text if found else ""
        return side_by_side(base, obj.schema_text)

    @admin.display(description="Compatibility findings")
    def compatibility_report(self, obj):
        return findings_table(obj.compatibility_findings)

    @admin.display(description="Lint findings")
    def lint_report(self, obj):
        return findings_table(obj.lint_findings)

    @admin.display(description="Impact on referencing subjects")
    def impact_report(self, obj):
        if not obj.impact:
            return "No subject references this one."
        rows = (
            (item["subject"], item["version"], item["depth"], item["status"], len(item["findings"]))
            for item in obj.impact
        )
        return format_html(
            "<table><thead><tr><th>Subject</th><th>Version</th><th>Depth</th><th>Result</th><th>Findings</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="Approved by")
    def approvals_text(self, obj):
        return (
            ", ".join(
                f"{approval.approver} ({approval.created_at:%Y-%m-%d %H:%M} UTC)" for approval in obj.approvals.all()
            )
            or "-"
        )

    @admin.display(description="Comments")
    def comments_text(self, obj):
        comments = list(obj.comments.select_related("author"))
        if not comments:
            return "-"
        return format_html_join(
            "",
            "<p><strong>{}</strong> ({:%Y-%m-%d %H:%M} UTC): {}</p>",
            ((c.author, c.created_at, c.text) for c in comments),
        )

    def get_urls(self):
        own = [
            path(
                "<int:review_id>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="schemas_app_changerequest_approve",
            ),
            path(
                "<int:review_id>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="schemas_app_changerequest_reject",
            ),
            path(
                "<int:review_id>/comment/",
                self.admin_site.admin_view(self.comment_view),
                name="schemas_app_changerequest_comment",
            ),
        ]
        return own + super().get_urls()

    def _decide(self, request, review_id, action, success):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        # `admin_view` only asks for staff: the buttons are for those who may open the queue, and, as the API's
        # /reviews/{id}/... are, for reviews of tenants they may read (the queue's own rows).
        if not self.has_view_permission(request):
            raise PermissionDenied
        change_request = get_object_or_404(self.get_queryset(request), pk=review_id)
        try:
            action(change_request)
        except RegistryError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, success)
        return HttpResponseRedirect(reverse("admin:schemas_app_changerequest_change", args=[review_id]))

    def approve_view(self, request, review_id):
        def approve(change_request):
            decision = reviews.change_request_approve(
                tenant=change_request.tenant,
                review_id=change_request.pk,
                override_reason=request.POST.get("override_reason", ""),
                acting_user=request.user,
            )
            if not decision.approved:
                raise _StillWaiting(decision.change_request)

        try:
            return self._decide(request, review_id, approve, f"Review {review_id} approved and registered.")
        except _StillWaiting as waiting:
            messages.info(request, f"Approval recorded; review {review_id} needs {waiting.missing} more.")
            return HttpResponseRedirect(reverse("admin:schemas_app_changerequest_change", args=[review_id]))

    def reject_view(self, request, review_id):
        return self._decide(
            request,
            review_id,
            lambda change_request: reviews.change_request_reject(
                tenant=change_request.tenant,
                review_id=change_request.pk,
                reason=request.POST.get("reason", ""),
                acting_user=request.user,
            ),
            f"Review {review_id} rejected.",
        )

    def comment_view(self, request, review_id):
        return self._decide(
            request,
            review_id,
            lambda change_request: reviews.review_comment_add(
                tenant=change_request.tenant,
                review_id=change_request.pk,
                text=request.POST.get("text", ""),
                acting_user=request.user,
            ),
            "Comment added.",
        )


class _StillWaiting(Exception):
    def __init__(self, change_request):
        self.missing = change_request.required_approvals - change_request.approvals.count()


class SubscriptionForm(forms.ModelForm):
    """A subscription's fields, checked as POST /subscriptions checks them (`notifications.subscription_validated`)."""

    # A webhook address typed without a scheme is an https one (Django 6's default, said here instead of warned).
    webhook_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = Subscription
        fields = ("tenant", "owner", "subject_prefix", "webhook_url", "email", "events", "active")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned  # a field already refused: what is missing from `cleaned` is not missing from the form
        if cleaned.get("events") is None:
            cleaned["events"] = []
        try:
            notifications.subscription_validated(
                webhook_url=cleaned.get("webhook_url", ""), email=cleaned.get("email", ""), events=cleaned["events"]
            )
        except RegistryError as error:
            raise forms.ValidationError(error.message) from None
        return cleaned


@admin.register(Subscription)
class SubscriptionAdmin(TenantScoped, DeletesThroughServices, admin.ModelAdmin):
    """Subscriptions of the tenants one reads; as over /subscriptions, one changes one's own (superusers anyone's).

    Adding, changing, rotating and deleting go through `notifications`' services: a webhook gets its signing
    secret as over the API, shown once in a message, and never on the page.
    """

    form = SubscriptionForm
    list_display = ("id", "owner", "tenant", "subject_prefix", "webhook_url", "email", "active", "created_at")
    list_filter = ("active", "tenant")
    search_fields = ("subject_prefix", "owner__username", "email")
    fields = (*SubscriptionForm.Meta.fields, "signing", "created_at")
    readonly_fields = ("signing", "created_at")
    actions = ["rotate_secrets"]

    def get_queryset(self, request):
        # As over /subscriptions: one's own, in the tenants one reads (TenantScoped); superusers see all.
        return super().get_queryset(request).filter(notifications.seen_by(request.user))

    def holds_role(self, request, role, *, tenant=None, subject_name=None) -> bool:
        return True  # subscribing needs no role, only a tenant one reads

    def holds_role_on(self, request, role, obj) -> bool:
        if obj is None:
            return True
        return notifications.subscription_list(tenant=obj.tenant, viewer=request.user).filter(pk=obj.pk).exists()

    def get_readonly_fields(self, request, obj=None):
        # As over the API, a subscription stays in its tenant and with its owner.
        return self.readonly_fields + (("tenant", "owner") if obj is not None else ())

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner" and not request.user.is_superuser:
            kwargs["queryset"] = db_field.related_model.objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Webhook signing")
    def signing(self, obj):
        if not obj.webhook_url:
            return "-"
        if not obj.webhook_secret:
            return "No secret: deliveries are not sent until the secret is rotated."
        return "Signed; the secret was shown once, when made, rotated or given with a new address."

    def save_model(self, request, obj, form, change):
        fields = {name: getattr(obj, name) for name in ("subject_prefix", "webhook_url", "email", "events")}
        if change:
            subscription, secret = notifications.subscription_update(
                tenant=obj.tenant, subscription_id=obj.pk, active=obj.active, acting_user=request.user, **fields
            )
        else:
            subscription = notifications.subscription_create(
                tenant=obj.tenant, owner=obj.owner, active=obj.active, acting_user=request.user, **fields
            )
            secret = subscription.webhook_secret
        obj.pk = subscription.pk
        if secret:
            show_secret_once(request, subscription, secret)

    def delete_through_service(self, request, obj):
        notifications.subscription_delete(tenant=obj.tenant, subscription_id=obj.pk, acting_user=request.user)

    @admin.action(description="Rotate the selected webhooks' signing secrets (shown once)", permissions=["change"])
    def rotate_secrets(self, request, queryset):
        for subscription in queryset.select_related("tenant", "owner"):
            try:
                subscription, secret = notifications.subscription_secret_rotate(
                    tenant=subscription.tenant, subscription_id=subscription.pk, acting_user=request.user
                )
            except RegistryError as error:
                messages.error(request, error.message)
            else:
                show_secret_once(request, subscription, secret)


def show_secret_once(request, subscription, secret: str) -> None:
    messages.warning(
        request,
        f"Webhook secret of {subscription} (id {subscription.pk}). Copy it now, it is not shown again: {secret}",
    )


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("attempted_at", "status_code", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(TenantScoped, admin.ModelAdmin):
    """Deliveries and each of their attempts; read-only, they are the record of what was sent.

    As over /subscriptions/{id}/deliveries, one sees those of one's own subscriptions; superusers see all.
    """

    tenant_path = "subscription__tenant"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(notifications.seen_by(request.user, path="subscription__"))

    list_display = ("id", "event", "channel", "subscription", "status", "attempts", "created_at", "delivered_at")
    list_filter = ("status", "event", "channel")
    list_select_related = ("subscription__owner",)
    readonly_fields = (
        "subscription",
        "event",
        "channel",
        "payload",
        "status",
        "attempts",
        "created_at",
        "delivered_at",
    )
    inlines = [DeliveryAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
