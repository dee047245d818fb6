"""`python manage.py import_registry FILE` or `import_registry --from-url URL [--dry-run]`.

FILE is an archive of export_registry, restored into an empty registry with the same ids. --from-url
copies every subject and version from a running Confluent-compatible registry, keeping its ids.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from schemas_app import backup, copying, selectors, services
from schemas_app.errors import RegistryError
from schemas_app.remote import RemoteError, RemoteRegistry, add_credential_arguments


class Command(BaseCommand):
    help = (
        "Restore an export_registry archive into an empty registry, or copy a running Confluent-compatible registry "
        "(Confluent, Karapace, Apicurio's ccompat API) with --from-url, keeping schema ids and version numbers. "
        "A copy can be run again to resume after an interruption; --dry-run says what it would copy."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", nargs="?", help="an archive written by export_registry")
        parser.add_argument("--from-url", metavar="URL", help="copy from the registry at URL instead of a file")
        parser.add_argument("--dry-run", action="store_true", help="with --from-url: report, copy nothing")
        parser.add_argument(
            "--force", action="store_true", help="with --from-url: copy into a registry that already holds subjects"
        )
        add_credential_arguments(parser)

    def handle(self, *args, file=None, from_url=None, dry_run=False, force=False, token=None, user=None, **options):
        if bool(file) == bool(from_url):
            raise CommandError("Give either FILE or --from-url URL.")
        try:
            if file:
                summary = backup.import_archive(Path(file))
                self.stdout.write(f"Imported {file}: {summary}")
            else:
                self.copy(RemoteRegistry.from_environment(from_url, token=token, user=user), dry_run, force)
        except (RegistryError, RemoteError) as error:
            raise CommandError(getattr(error, "message", str(error))) from None

    def copy(self, client: RemoteRegistry, dry_run: bool, force: bool) -> None:
        tenant = selectors.default_tenant()
        plan = copying.plan_copy(client, tenant=tenant)
        if dry_run:
            for step in plan.steps:
                self.stdout.write(step.describe())
            configs = ", ".join("global" if scope is None else scope for scope in plan.configs) or "none"
            self.stdout.write(f"Dry run from {client.url}: {plan.summary()}; configs: {configs}. Nothing was copied.")
            return
        failed = copying.run_copy(
            plan,
            tenant=tenant,
            acting_user=services.system_account(),
            force=force,
            report=lambda step: self.stdout.write(step.describe()),
        )
        self.stdout.write(f"Copied from {client.url}: {plan.summary()}.")
        if failed:
            raise CommandError(f"{len(failed)} versions could not be copied; fix them and run the command again.")
