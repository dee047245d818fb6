"""Take a role back from a group on a subject, a subject prefix or a tenant."""

from django.contrib.auth.models import Group
from django.core.management.base import CommandError

from schemas_app import access, services
from schemas_app.management.commands.grant_role import Command as GrantRole


class Command(GrantRole):
    help = "Revoke ROLE from a group on a subject, a prefix or a tenant."
    change = "revoked"

    def group(self, name: str) -> Group:
        found = Group.objects.filter(name=name).first()
        if found is None:
            raise CommandError(f"No group is named {name!r}.")
        return found

    def apply(self, role: str, *, group: Group, target) -> None:
        access.revoke_role(role, group=group, target=target, acting_user=services.system_account())
