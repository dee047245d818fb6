"""Small permission classes, one role each, that compose with `&` and `|` (DRF's operators).

Each asks `schemas_app.access.has_role` about the tenant and subject the view addresses
(`view.tenant` and `view.subject_name` when the view has them). A tenant the caller may not see never
gets this far: resolving it answers 404 first, so a 403 never confirms that something exists.
"""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission

from schemas_app.access import has_role


def _scope(view) -> dict:
    """Return the subject and tenant a view addresses, for `has_role`."""
    return {"subject_name": getattr(view, "subject_name", None), "tenant": getattr(view, "tenant", None)}


class RolePermission(BasePermission):
    """Grant when the caller holds `role` on what the view addresses; subclasses name the role."""

    role = ""

    def has_permission(self, request, view):
        assert self.role, f"{type(self).__name__} must set `role` to one of schemas_app.access.ROLES."
        user = request.user
        if not (user and user.is_authenticated) and not (self.role == "read" and settings.REGISTRY_ANONYMOUS_READ):
            return False  # 401 before anything is looked up: a stranger learns nothing, not even "not found"
        return has_role(user, self.role, **_scope(view))


class CanRead(RolePermission):
    """Anyone signed in may read what they can see; anonymous clients only with REGISTRY_ANONYMOUS_READ."""

    role = "read"


class CanWrite(RolePermission):
    role = "write"


class CanApprove(RolePermission):
    role = "approve"


class CanStartCodegen(RolePermission):
    role = "codegen"


class CanDelete(RolePermission):
    role = "delete"


class IsSignedIn(BasePermission):
    """Grant to any authenticated, active account (for the caller's own things, such as its API tokens)."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_active)


class IsReadRequest(BasePermission):
    """Grant to GET, HEAD and OPTIONS, so that `IsReadRequest & CanRead | CanWrite` reads like the rule it is."""

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS


class IsSuperuser(BasePermission):
    """Grant to Django superusers only (creating tenants, for instance)."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_superuser)
