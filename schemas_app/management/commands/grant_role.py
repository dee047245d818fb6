"""Grant a role to a group on a subject, a subject prefix or a tenant."""

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from schemas_app import access, services


class Command(BaseCommand):
    help = "Grant ROLE to a group on a subject, a prefix (trading/* or a package such as trading.v1) or a tenant."
    change = "granted"

    def add_arguments(self, parser):
        parser.add_argument("role", choices=access.ROLES)
        parser.add_argument("--group", required=True, help="The group's name (created when it does not exist yet).")
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--subject", help="A subject (of --tenant, else of the default tenant).")
        target.add_argument("--prefix", help="A subject prefix: trading/* or a package such as trading.v1.")
        parser.add_argument("--tenant", help="A tenant's slug: alone, the whole tenant; with the others, their tenant.")

    def handle(self, *args, role, group, subject=None, prefix=None, tenant=None, **options):
        try:
            target = access.grant_target(subject=subject, prefix=prefix, tenant=tenant)
        except ValueError as error:
            raise CommandError(str(error)) from None
        group_row = self.group(group)
        self.apply(role, group=group_row, target=target)
        self.stdout.write(f"{role} {self.change} to group {group_row.name!r} on {target._meta.verbose_name} {target}.")

    def group(self, name: str) -> Group:
        return Group.objects.get_or_create(name=name)[0]

    def apply(self, role: str, *, group: Group, target) -> None:
        access.grant_role(role, group=group, target=target, acting_user=services.system_account())
