"""Who may do what: the spec's roles, granted to groups as django-guardian object permissions.

A role is granted on a subject, on a subject prefix (a `SubjectPrefixGrant` row) or on a tenant, or
everywhere (a model permission of the group, as the bundled groups hold them). Superusers have every role.
Reading needs no grant inside the tenants an account may see (see `readable_tenants`); every other role
does, and never reaches past those tenants.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from schemas_app.auditing import audited
from schemas_app.models import Subject, SubjectPrefixGrant, Tenant, TenantBinding

ROLES = ("read", "write", "approve", "codegen", "delete", "audit")

PERMISSION_OF_ROLE = {
    "read": "read_schemas",
    "write": "write_schemas",
    "approve": "approve_changes",
    "codegen": "start_codegen",
    "delete": "delete_schemas",
    "audit": "read_audit",
}
ROLE_OF_PERMISSION = {codename: role for role, codename in PERMISSION_OF_ROLE.items()}


def permission_of(role: str) -> str:
    """Return the permission codename behind a role; a ValueError names the roles for an unknown one."""
    try:
        return PERMISSION_OF_ROLE[role]
    except KeyError:
        raise ValueError(f"Unknown role {role!r}; the roles are {', '.join(ROLES)}.") from None


def _authenticated(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def bound_tenant(user) -> Tenant | None:
    """Return the tenant an account is bound to, or None; read once per user object."""
    if not _authenticated(user):
        return None
    if not hasattr(user, "_bound_tenant"):
        binding = TenantBinding.objects.select_related("tenant").filter(user=user).first()
        user._bound_tenant = binding.tenant if binding is not None else None
    return user._bound_tenant


def bound_tenant_id(user) -> int | None:
    """Return the id of the tenant an account is bound to, or None."""
    tenant = bound_tenant(user)
    return tenant.pk if tenant is not None else None


def readable_tenants(user) -> QuerySet[Tenant]:
    """Return the tenants whose subjects the user may read.

    Superusers (and anonymous readers when REGISTRY_ANONYMOUS_READ is on) see every tenant. An account
    bound to a tenant sees it and the shared tenants; any other account sees the default tenant and the
    shared ones. Either also sees the tenants its groups were granted any role on.
    """
    tenants = Tenant.objects.all()
    if not _authenticated(user):
        return tenants if settings.REGISTRY_ANONYMOUS_READ else tenants.none()
    if user.is_superuser:
        return tenants
    return tenants.filter(pk__in=readable_tenant_ids(user))


def readable_tenant_ids(user) -> frozenset[int]:
    """Return the ids of the tenants a signed-in, non-superuser account may read, worked out once per user object.

    A request authenticates its user afresh, so a grant or a binding counts from the next request on.
    """
    cached = getattr(user, "_readable_tenant_ids", None)
    if cached is not None:
        return cached
    if not _authenticated(user) or user.is_superuser:
        return frozenset(readable_tenants(user).values_list("pk", flat=True))
    bound = bound_tenant_id(user)
    home = Q(pk=bound) if bound is not None else Q(slug=Tenant.DEFAULT_SLUG)
    # Any role granted on a tenant implies reading it: a team may not write where it cannot look.
    granted = _granted_tenant_ids(user)
    ids = frozenset(Tenant.objects.filter(home | Q(shared=True) | Q(pk__in=granted)).values_list("pk", flat=True))
    user._readable_tenant_ids = ids
    return ids


def home_tenant_missing(user) -> bool:
    """Return True for an account whose home is the default tenant while that tenant has no row yet.

    What such an account reads was worked out without its home (a database not bootstrapped yet), and
    must not be kept: the row may come without a signal that would say so (a restore, a bulk insert).
    """
    if not _authenticated(user) or user.is_superuser or bound_tenant_id(user) is not None:
        return False
    return not Tenant.objects.filter(slug=Tenant.DEFAULT_SLUG).exists()


def _granted_tenant_ids(user) -> list[int]:
    """Return the ids of tenants the user, or one of its groups, holds any role on (one query)."""
    from django.contrib.contenttypes.models import ContentType
    from guardian.models import GroupObjectPermission, UserObjectPermission

    tenant_type = ContentType.objects.get_for_model(Tenant)
    codenames = list(PERMISSION_OF_ROLE.values())
    by_group = GroupObjectPermission.objects.filter(
        group__user=user, content_type=tenant_type, permission__codename__in=codenames
    ).values_list("object_pk", flat=True)
    by_user = UserObjectPermission.objects.filter(
        user=user, content_type=tenant_type, permission__codename__in=codenames
    ).values_list("object_pk", flat=True)
    return [int(pk) for pk in by_group.union(by_user)]


def sees_every_tenant(user) -> bool:
    """Return True for superusers, and for anonymous readers when REGISTRY_ANONYMOUS_READ is on."""
    if not _authenticated(user):
        return settings.REGISTRY_ANONYMOUS_READ
    return user.is_superuser


def readable_subjects(user) -> QuerySet[Subject]:
    """Return the subjects the user may read: every subject of the tenants it may read."""
    return Subject.objects.filter(tenant__in=readable_tenants(user))


def can_read_tenant(user, tenant) -> bool:
    """Return True if the user may read this tenant's subjects."""
    if not _authenticated(user):
        return settings.REGISTRY_ANONYMOUS_READ
    if user.is_superuser:
        return True
    return tenant.pk in readable_tenant_ids(user)


def has_role(user, role: str, *, subject_name: str | None = None, tenant=None) -> bool:
    """Return True if the user holds the role for this subject (by name) in this tenant.

    Without a subject the question is about the tenant as a whole; without a tenant, about anywhere.
    The role may come from a grant on the subject, on a prefix matching its name, on the tenant,
    or from a model permission (everywhere the user may read).
    """
    codename = permission_of(role)
    if not _authenticated(user):
        return role == "read" and settings.REGISTRY_ANONYMOUS_READ
    if user.is_superuser:
        return True
    if tenant is not None and not can_read_tenant(user, tenant):
        return False
    if role == "read" or user.has_perm(f"schemas_app.{codename}"):
        return True
    if tenant is None:
        return _granted_anywhere(user, codename)
    checker = ObjectPermissionChecker(user)
    if checker.has_perm(codename, tenant):
        return True
    if subject_name is None:
        return False
    subject = Subject.objects.filter(tenant=tenant, name=subject_name).first()
    if subject is not None and checker.has_perm(codename, subject):
        return True
    prefixes = get_objects_for_user(user, codename, klass=SubjectPrefixGrant, accept_global_perms=False).filter(
        Q(tenant__isnull=True) | Q(tenant=tenant)
    )
    return any(grant.matches(subject_name) for grant in prefixes)


def tenants_with_role(user, role: str) -> QuerySet[Tenant]:
    """Return the tenants on which the user holds the role as a whole: those `has_role(user, role, tenant=...)` allows.

    A grant on a subject or a prefix is no grant on its tenant; a role held everywhere reaches the readable tenants.
    """
    readable = readable_tenants(user)
    codename = permission_of(role)
    if not _authenticated(user):
        return readable if role == "read" else readable.none()
    if user.is_superuser or role == "read" or user.has_perm(f"schemas_app.{codename}"):
        return readable
    granted = get_objects_for_user(user, codename, klass=Tenant, accept_global_perms=False)
    return readable.filter(pk__in=granted.values("pk"))


def grants_inside(tenants: QuerySet[Tenant]) -> Q:
    """Return the object permissions (guardian's rows) held on a tenant of `tenants`, a subject or a prefix of one."""
    from django.contrib.contenttypes.models import ContentType

    def keys(rows):  # guardian keeps an object's id as text
        return rows.annotate(key=Cast("pk", CharField())).values("key")

    inside = Q(pk__in=[])
    for model, rows in (
        (Tenant, Tenant.objects.filter(pk__in=tenants.values("pk"))),
        (Subject, Subject.objects.filter(tenant__in=tenants.values("pk"))),
        (SubjectPrefixGrant, SubjectPrefixGrant.objects.filter(tenant__in=tenants.values("pk"))),
    ):
        inside |= Q(content_type=ContentType.objects.get_for_model(model), object_pk__in=keys(rows))
    return inside


def _roles_everywhere() -> Q:
    """Return the model permissions that hold a role in every tenant."""
    return Q(content_type__app_label="schemas_app", codename__in=PERMISSION_OF_ROLE.values())


def accounts_homed_in(tenants: QuerySet[Tenant]):
    """Return the non-superuser accounts whose own tenant (the one bound to, else the default one) is in `tenants`."""
    accounts = get_user_model().objects.filter(is_superuser=False)
    home = Q(tenant_binding__tenant__in=tenants.values("pk"))
    if tenants.filter(slug=Tenant.DEFAULT_SLUG).exists():
        home |= Q(tenant_binding__isnull=True)
    return accounts.filter(home)


def accounts_within(tenants: QuerySet[Tenant]):
    """Return the accounts that belong to `tenants` and reach no further.

    An account belongs to its own tenant (`accounts_homed_in`); it reaches further through a role held
    everywhere (a model permission of its own or of a group) or a grant outside `tenants`, of its own or
    of a group. A superuser reaches everything.
    """
    from guardian.models import GroupObjectPermission, UserObjectPermission

    everywhere = Permission.objects.filter(_roles_everywhere())
    beyond_by_group = Group.objects.filter(
        Q(permissions__in=everywhere)
        | Q(pk__in=GroupObjectPermission.objects.exclude(grants_inside(tenants)).values("group"))
    )
    return accounts_homed_in(tenants).exclude(
        Q(user_permissions__in=everywhere)
        | Q(pk__in=UserObjectPermission.objects.exclude(grants_inside(tenants)).values("user"))
        | Q(groups__in=beyond_by_group)
    )


def groups_within(tenants: QuerySet[Tenant]) -> QuerySet[Group]:
    """Return the groups whose roles and members all stay inside `tenants`.

    A group reaches beyond them with a role held everywhere (a model permission, as the bundled groups
    hold them), a grant outside them, or a member that belongs to another tenant or is a superuser.
    """
    from guardian.models import GroupObjectPermission

    return Group.objects.exclude(
        Q(permissions__in=Permission.objects.filter(_roles_everywhere()))
        | Q(pk__in=GroupObjectPermission.objects.exclude(grants_inside(tenants)).values("group"))
        | Q(user__in=get_user_model().objects.exclude(pk__in=accounts_homed_in(tenants).values("pk")))
    )


def holds_every_privilege_of(user, account) -> bool:
    """Return True if `user` holds every privilege `account` holds: staff or superuser status, permissions, role grants.

    The account's privileges are read from its rows, not from `account.get_all_permissions()`: Django reports
    none for a disabled account, which holds them all again once enabled.
    """
    if user.is_superuser:
        return True
    if account.is_superuser or (account.is_staff and not user.is_staff):
        return False
    if not _permissions_of(account) <= user.get_all_permissions():
        return False
    return all(_holds_grant(user, row.permission, row.content_object) for row in _object_grants_of(account))


def holds_more_privileges_than(user, account) -> bool:
    """Return True if `user` holds every privilege `account` holds and one it lacks; a superuser, over any account.

    Setting an account's password or credentials lets one sign in as it, and the audit trail then names it for
    what one did there: a peer holding the same privileges is no more one's to take over than a superior is.
    What the account lacks is read as if it were enabled, since a disabled account regains its privileges then.
    """
    if user.is_superuser:
        return True
    return holds_every_privilege_of(user, account) and not holds_every_privilege_of(_enabled(account), user)


def _enabled(account):
    """Return a fresh copy of the account, enabled in memory only: Django and guardian grant a disabled one nothing."""
    copy = get_user_model().objects.get(pk=account.pk)
    copy.is_active = True
    return copy


def _permissions_of(account) -> set[str]:
    """Return the account's Django permissions, its own and its groups', as "app_label.codename"."""
    rows = Permission.objects.filter(Q(user=account) | Q(group__user=account)).values_list(
        "content_type__app_label", "codename"
    )
    return {f"{app_label}.{codename}" for app_label, codename in rows}


def _object_grants_of(account) -> list:
    """Return guardian's rows of the account's object permissions, its own and its groups'."""
    from guardian.models import GroupObjectPermission, UserObjectPermission

    return [
        *UserObjectPermission.objects.filter(user=account).select_related("permission__content_type"),
        *GroupObjectPermission.objects.filter(group__user=account).select_related("permission__content_type"),
    ]


def _holds_grant(user, permission: Permission, target) -> bool:
    """Return True if the user holds `permission` on `target`: on the object itself, through a role covering it,
    or, for a permission that is no role, as a model permission. A grant on an object that is gone is superusers'."""
    if target is None:
        return False
    role = ROLE_OF_PERMISSION.get(permission.codename)
    if role is not None and _role_covers(user, role, target):
        return True
    if role is None and user.has_perm(f"{permission.content_type.app_label}.{permission.codename}"):
        return True
    return ObjectPermissionChecker(user).has_perm(permission.codename, target)


def _role_covers(user, role: str, target) -> bool:
    """Return True if the user holds `role` wherever `target` (a tenant, a subject, a tenant's prefix) reaches."""
    if isinstance(target, Tenant):
        return has_role(user, role, tenant=target)
    if isinstance(target, Subject):
        return has_role(user, role, tenant=target.tenant, subject_name=target.name)
    if isinstance(target, SubjectPrefixGrant) and target.tenant is not None:
        return has_role(user, role, tenant=target.tenant)
    return False


def _granted_anywhere(user, codename: str) -> bool:
    """Return True if the user holds the permission on any tenant, subject or prefix."""
    return any(
        get_objects_for_user(user, codename, klass=model, accept_global_perms=False).exists()
        for model in (Tenant, Subject, SubjectPrefixGrant)
    )


def grant_target(*, subject: str | None = None, prefix: str | None = None, tenant: str | None = None):
    """Return the object a role is granted on: a subject, a prefix grant (created on first use) or a tenant.

    `tenant` is a slug; with `subject` or `prefix` it names the tenant they belong to (the default
    tenant for a subject, every tenant for a prefix when omitted).
    """
    if sum(value is not None for value in (subject, prefix)) > 1:
        raise ValueError("Name one of subject or prefix, not both.")
    tenant_row = None
    if tenant is not None:
        tenant_row = Tenant.objects.filter(slug=tenant).first()
        if tenant_row is None:
            raise ValueError(f"Unknown tenant {tenant!r}.")
    if subject is not None:
        tenant_row = (
            tenant_row or Tenant.objects.get_or_create(slug=Tenant.DEFAULT_SLUG, defaults={"name": "Default tenant"})[0]
        )
        found = Subject.objects.filter(tenant=tenant_row, name=subject).first()
        if found is None:
            raise ValueError(f"Unknown subject {subject!r} in tenant {tenant_row.slug!r}; grant on a prefix instead.")
        return found
    if prefix is not None:
        return SubjectPrefixGrant.objects.get_or_create(prefix=prefix, tenant=tenant_row)[0]
    if tenant_row is None:
        raise ValueError("Name a subject, a prefix or a tenant.")
    return tenant_row


@audited
def grant_role(role: str, *, group: Group, target, acting_user) -> None:
    """Grant the role to the group on a subject, prefix grant or tenant."""
    assign_perm(permission_of(role), group, target)


@audited
def revoke_role(role: str, *, group: Group, target, acting_user) -> None:
    """Take the role back from the group on that object."""
    remove_perm(permission_of(role), group, target)
