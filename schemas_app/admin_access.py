"""Admin pages of access control: role grants on subjects, prefixes, tenants and groups; tenant bindings; API tokens.

Subjects, tenants and prefix grants use guardian's "Object permissions" page to grant roles to groups;
their change pages list the grants in force, and a group's page lists every grant it holds.
"""

import copy

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html_join
from guardian.admin import GuardedModelAdmin
from guardian.models import GroupObjectPermission

from schemas_app import access, tenants, tokens
from schemas_app.errors import RegistryError
from schemas_app.models import ApiToken, SubjectPrefixGrant, Tenant, TenantBinding, TenantConfig

User = get_user_model()
ROLE_OF_PERMISSION = access.ROLE_OF_PERMISSION


class TenantScoped:
    """An admin page of tenant-owned rows: staff see the rows of tenants they may read, and change them as the API does.

    Seeing follows the rule of GET /reviews and the review queue (`access.readable_tenants`; superusers see every
    tenant). A row out of scope is missing from the list, its pages answer as for a row that does not exist, its
    tenant is not offered in forms or in the list's tenant filter. `tenant_path` leads from the row to its tenant
    ("" for a tenant itself); a row whose tenant is null (a prefix grant of every tenant) is the superusers' alone.

    Adding, changing and deleting a row also need the role the API asks for the same change (`access.has_role`
    on the row's tenant and, through `subject_path`, its subject): reading a tenant lets one see its rows, not
    change them, whatever Django permissions the account holds.
    """

    tenant_path = "tenant"
    # The path from a row to the subject name a role may be granted on (a subject or prefix); None: tenant-wide.
    subject_path: str | None = None
    # The roles (`access.ROLES`) the API asks for to add or change such a row, and to delete one; None leaves
    # it to superusers (no API lets anyone else make that change).
    change_role: str | None = "write"
    delete_role: str | None = "write"

    def limit_to_tenants(self, queryset, tenants):
        """Return the rows of `queryset` that belong to one of `tenants` (a queryset of tenants)."""
        return queryset.filter(**{f"{self.tenant_path}__in" if self.tenant_path else "pk__in": tenants})

    def shown_tenants(self, request):
        """Return the tenants whose rows the page shows the user: those it reads."""
        return access.readable_tenants(request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if access.sees_every_tenant(request.user):
            return queryset
        return self.limit_to_tenants(queryset, self.shown_tenants(request))

    def in_scope(self, request, obj) -> bool:
        """Return True if the user may see `obj` (None: the page as a whole) by its tenant."""
        if obj is None or access.sees_every_tenant(request.user):
            return True
        rows = self.model._default_manager.filter(pk=obj.pk)
        return self.limit_to_tenants(rows, self.shown_tenants(request)).exists()

    def tenant_of(self, obj):
        """Return the tenant of a row (None for a row of every tenant), following `tenant_path`."""
        for name in filter(None, self.tenant_path.split("__")):
            obj = getattr(obj, name, None)
        return obj

    def subject_name_of(self, obj) -> str | None:
        """Return the subject name of a row, following `subject_path`, or None for a tenant-wide row."""
        if self.subject_path is None:
            return None
        for name in self.subject_path.split("__"):
            obj = getattr(obj, name, None)
        return obj or None

    def holds_role(self, request, role: str | None, *, tenant=None, subject_name: str | None = None) -> bool:
        """Return True if the user holds `role` on the tenant and subject as the API asks (no tenant: anywhere)."""
        if role is None:
            return request.user.is_superuser
        return access.has_role(request.user, role, tenant=tenant, subject_name=subject_name)

    def holds_role_on(self, request, role: str | None, obj) -> bool:
        """Return True if the user holds `role` on the row (None: on some row); a row of every tenant is superusers'."""
        if obj is None:
            return self.holds_role(request, role)
        tenant = self.tenant_of(obj)
        if tenant is None:
            return request.user.is_superuser
        return self.holds_role(request, role, tenant=tenant, subject_name=self.subject_name_of(obj))

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.in_scope(request, obj)

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) and self.holds_role(request, self.change_role)

    def has_change_permission(self, request, obj=None):
        return (
            super().has_change_permission(request, obj)
            and self.in_scope(request, obj)
            and self.holds_role_on(request, self.change_role, obj)
        )

    def has_delete_permission(self, request, obj=None):
        return (
            super().has_delete_permission(request, obj)
            and self.in_scope(request, obj)
            and self.holds_role_on(request, self.delete_role, obj)
        )

    def delete_queryset(self, request, queryset):
        # Django's "delete selected" asks has_delete_permission of the page, not of each row.
        if not all(self.holds_role_on(request, self.delete_role, obj) for obj in queryset):
            raise PermissionDenied
        super().delete_queryset(request, queryset)

    def get_form(self, request, obj=None, **kwargs):
        return role_checked(super().get_form(request, obj, **kwargs), page=self, request=request)

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


def role_checked(form_class, *, page: TenantScoped, request):
    """Return `form_class` refusing a tenant or subject, chosen or kept, on which the user lacks the page's role.

    The form of a new row names its tenant (and subject), and a change form may move a row to another tenant:
    the role is asked of what the form would save, as the API asks it of the tenant and subject it addresses.
    """

    class RoleChecked(form_class):
        def clean(self):
            cleaned = super().clean()
            tenant = cleaned.get(page.tenant_path) if page.tenant_path in self.fields else page.tenant_of(self.instance)
            if page.subject_path in self.fields:
                subject_name = cleaned.get(page.subject_path) or None
            else:
                subject_name = page.subject_name_of(self.instance)
            if tenant is not None and not page.holds_role(
                request, page.change_role, tenant=tenant, subject_name=subject_name
            ):
                where = (
                    f"subject {subject_name!r} of tenant {tenant.slug!r}" if subject_name else f"tenant {tenant.slug!r}"
                )
                needed = f"the {page.change_role} role" if page.change_role else "a superuser"
                raise forms.ValidationError(f"Changing this on {where} needs {needed}.")
            return cleaned

    RoleChecked.__name__ = RoleChecked.__qualname__ = form_class.__name__
    return RoleChecked


class DeletesThroughServices:
    """Admin pages whose deletes, of one row or of the selected rows, run the service's checks row by row.

    Django's "delete selected" action deletes the queryset at once; here each row goes through `delete_model`,
    as a single delete does. A refused delete (a version still referenced, say) shows the service's message,
    and only the deletes the service carried out are logged in the admin's "Recent actions".
    """

    def delete_through_service(self, request, obj) -> None:
        raise NotImplementedError

    def log_deletions(self, request, queryset):
        # Django logs before it deletes; `delete_model` logs a row once its service has deleted it.
        return []

    def delete_model(self, request, obj):
        as_it_was = copy.copy(obj)  # logged as Django logs it, named as it was before the delete
        try:
            self.delete_through_service(request, obj)
        except RegistryError as error:
            refused_deletes(request).append(f"{obj} was not deleted: {error.message}")
        else:
            super().log_deletions(request, [as_it_was])

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        if refused_deletes(request):
            self.message_user(request, refused_deletes(request)[0], messages.ERROR)
            return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))
        return super().response_delete(request, obj_display, obj_id)

    def response_action(self, request, queryset):
        response = super().response_action(request, queryset)
        for refusal in refused_deletes(request):
            self.message_user(request, refusal, messages.ERROR)
        return response

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if level == messages.SUCCESS and refused_deletes(request):
            return  # "delete selected" counts every row selected as deleted: the refusals say which were not
        super().message_user(request, message, level, *args, **kwargs)


def refused_deletes(request) -> list[str]:
    """Return the messages of the deletes the services refused while serving `request` (one list per request)."""
    if not hasattr(request, "_refused_deletes"):
        request._refused_deletes = []
    return request._refused_deletes


class AccountScoped(TenantScoped):
    """An admin page of accounts, groups or tokens: staff see and act on those of the tenants they may read only.

    An account is its own tenant's (the one it is bound to, else the default tenant), a group is the tenants' its
    grants and members are in, a token is its account's; one that reaches further (a superuser, a role held
    everywhere, a grant elsewhere) is the superusers' alone (`access.accounts_within`, `access.groups_within`).
    No API role changes accounts: inside that scope Django's permissions decide. What hands out roles (staff and
    superuser status, permissions, group memberships and grants) stays the superusers', as `GrantsShown` leaves it.
    """

    tenant_path = None
    granting_fields: tuple[str, ...] = ()

    def limit_to_tenants(self, queryset, tenants):
        raise NotImplementedError

    def tenant_of(self, obj):
        return None

    def account_of(self, obj):
        """Return the account a change or delete of the row hands over or cuts off (None: no one's)."""
        return None

    def holds_role(self, request, role, *, tenant=None, subject_name=None) -> bool:
        return True

    def holds_role_on(self, request, role, obj) -> bool:
        return obj is None or self.holds_privileges_of_account(request, obj)

    def holds_privileges_of_account(self, request, obj) -> bool:
        """Return True if the user holds every privilege of the row's account (`account_of`), or it has none."""
        account = self.account_of(obj)
        return account is None or answered_once(
            request, ("holds every privilege of", account.pk), access.holds_every_privilege_of, request.user, account
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return readonly + tuple(name for name in self.granting_fields if name not in readonly)


def answered_once(request, question, answer, *args):
    """Return answer(*args), worked out once per request for `question`: a page asks it of a row several times."""
    answers = request.__dict__.setdefault("_answers", {})
    if question not in answers:
        answers[question] = answer(*args)
    return answers[question]


def refuse_unless_superuser(request) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied


class GrantsShown(GuardedModelAdmin):
    """A change page that lists the roles granted on its object, by group; superusers grant them ("Object permissions").

    Granting is the operators' (`grant_role`): no API lets an account hand out roles, and guardian's pages
    would let anyone who may change some row of the model grant any role on every row it sees.
    """

    def obj_perms_manage_view(self, request, object_pk):
        refuse_unless_superuser(request)
        return super().obj_perms_manage_view(request, object_pk)

    def obj_perms_manage_user_view(self, request, object_pk, user_id):
        refuse_unless_superuser(request)
        return super().obj_perms_manage_user_view(request, object_pk, user_id)

    def obj_perms_manage_group_view(self, request, object_pk, group_id):
        refuse_unless_superuser(request)
        return super().obj_perms_manage_group_view(request, object_pk, group_id)

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
    change_role = delete_role = None  # access control: the operators' (`grant_role`), as tenants are
    list_display = ("prefix", "tenant", "created_at")
    search_fields = ("prefix",)
    readonly_fields = ("grants",)


@admin.register(TenantBinding)
class TenantBindingAdmin(TenantScoped, admin.ModelAdmin):
    change_role = delete_role = None  # moving an account to a tenant changes what it reads: no API does it
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

    # Granting is the superusers' (see GrantsShown): others see the grants, read-only.
    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "permission":
            kwargs["queryset"] = db_field.remote_field.model.objects.filter(
                content_type__app_label="schemas_app", codename__in=ROLE_OF_PERMISSION
            ).select_related("content_type")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


admin.site.unregister(Group)
admin.site.unregister(User)


@admin.register(Group)
class GroupWithGrantsAdmin(AccountScoped, GroupAdmin):
    inlines = [GroupGrantsInline]
    granting_fields = ("permissions",)

    def limit_to_tenants(self, queryset, tenants):
        return queryset.filter(pk__in=access.groups_within(tenants).values("pk"))


@admin.register(User)
class AccountAdmin(AccountScoped, UserAdmin):
    """Staff change or delete an account only if they hold every privilege it holds, and never their own privileges.

    Setting the password, the username or the e-mail of an account (where its password reset mail goes) hands
    that account over: staff set them only on an account holding strictly less than they do, so that no one signs
    in as a peer and acts in its name (`access.holds_more_privileges_than`). One's own password is changed on the
    admin's "Change password" page, which asks the current one.
    """

    granting_fields = ("is_staff", "is_superuser", "groups", "user_permissions")
    # Read-only on the staff account's own page: it may disable the accounts it may change, but not itself.
    own_privilege_fields = ("is_active",)
    # Read-only on another account's page unless the staff hold strictly more than it (no link to the password page).
    credential_fields = ("password", "username", "email")

    def limit_to_tenants(self, queryset, tenants):
        return queryset.filter(pk__in=access.accounts_within(tenants).values("pk"))

    def account_of(self, obj):
        # TenantScoped asks holds_role_on for changes and deletes, single and selected; the password page, which
        # asks has_change_permission, answers 403 when refused (and asks more: `user_change_password`).
        return obj

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser or obj is None:
            return readonly
        if obj.pk == request.user.pk:
            return readonly + tuple(name for name in self.own_privilege_fields if name not in readonly)
        if not self.holds_more_privileges_than(request, obj):
            return readonly + tuple(name for name in self.credential_fields if name not in readonly)
        return readonly

    def holds_more_privileges_than(self, request, account) -> bool:
        return answered_once(
            request,
            ("holds more privileges than", account.pk),
            access.holds_more_privileges_than,
            request.user,
            account,
        )

    def user_change_password(self, request, id, form_url=""):
        account = self.get_object(request, unquote(id))
        if account is not None and account.pk == request.user.pk:
            return HttpResponseRedirect(reverse("admin:password_change"))  # asks the current password first
        if account is not None and not self.holds_more_privileges_than(request, account):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def has_add_permission(self, request, *args):
        # A new account is unbound, so it reads the default tenant: only a superuser may make one.
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Its binding goes with the account (bindings are otherwise the superusers'): it moves no one elsewhere.
        perms_needed.discard(TenantBinding._meta.verbose_name)
        return deleted, counts, perms_needed, protected


@admin.register(ApiToken)
class ApiTokenAdmin(AccountScoped, admin.ModelAdmin):
    """Tokens are made here through the same service as /tokens; the secret is shown once, in a message.

    As over /tokens, only a superuser makes or rotates another account's tokens (a new secret is the account's
    credential); staff revoke and delete the tokens of the accounts their tenants hold.
    """

    list_display = ("prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    fields = ("user", "name", "expires_at", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    autocomplete_fields = ("user",)
    actions = ["rotate", "revoke"]

    def limit_to_tenants(self, queryset, tenants):
        return queryset.filter(user__in=access.accounts_within(tenants).values("pk"))

    def account_of(self, obj):
        return obj.user  # revoking or deleting a token cuts its account off, as changing the account may

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = db_field.related_model.objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        owner = tokens.token_owner(viewer=request.user, username=obj.user.get_username())
        token, secret = tokens.api_token_create(
            user=owner, name=obj.name, expires_at=obj.expires_at, acting_user=request.user
        )
        obj.pk = token.pk
        messages.warning(request, f"Token {token.prefix}… made. Copy its secret now, it is not shown again: {secret}")

    @admin.action(description="Rotate the selected tokens (new secrets are shown once)")
    def rotate(self, request, queryset):
        rotatable = queryset.filter(pk__in=tokens.api_token_list(viewer=request.user).values("pk"))
        if rotatable.count() < queryset.count():
            messages.error(request, "Only a superuser rotates another account's tokens.")
        for token in rotatable.filter(revoked_at__isnull=True):
            token, secret = tokens.api_token_rotate(token=token, acting_user=request.user)
            messages.warning(request, f"New secret of {token.name} ({token.user}): {secret}")

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.select_related("user"):
            if not self.holds_privileges_of_account(request, token):
                messages.error(request, f"{token} was not revoked: {token.user} holds privileges you do not.")
                continue
            tokens.api_token_revoke(token=token, acting_user=request.user)


class TenantConfigForm(forms.ModelForm):
    class Meta:
        model = TenantConfig
        fields = ("tenant", "config", "blocking_lint_rules")

    def clean(self):
        cleaned = super().clean()
        # The tenant is chosen on a new row only; a row's config is validated against its own tenant's schema.
        tenant = cleaned.get("tenant") if "tenant" in self.fields else self.instance.tenant
        if tenant is not None:
            try:
                tenants.validated_config(tenant=tenant, config=cleaned.get("config"))
            except RegistryError as error:
                raise forms.ValidationError(error.message) from None
        return cleaned


@admin.register(TenantConfig)
class TenantConfigAdmin(TenantScoped, DeletesThroughServices, admin.ModelAdmin):
    """Tenant configurations, validated against system/config.proto and written and deleted as over REST."""

    form = TenantConfigForm
    change_role = delete_role = "approve"  # as PUT and DELETE /tenants/{slug}/config
    list_display = ("tenant", "schema", "updated_at")
    readonly_fields = ("schema", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        # The service writes the named tenant's row: naming another tenant on a change form would copy this row there.
        return self.readonly_fields + (("tenant",) if obj is not None else ())

    def save_model(self, request, obj, form, change):
        row = tenants.tenant_config_update(
            tenant=obj.tenant,
            config=obj.config,
            blocking_lint_rules=obj.blocking_lint_rules,
            acting_user=request.user,
        )
        obj.pk = row.pk

    def delete_through_service(self, request, obj):
        tenants.tenant_config_delete(tenant=obj.tenant, acting_user=request.user)
