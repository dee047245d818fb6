"""`python manage.py validate_schemas [PATH ...] [--against URL]`: compile, lint and check files before registering."""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from schemas_app.deploy import finding_line
from schemas_app.remote import RemoteError, RemoteRegistry, add_credential_arguments
from schemas_app.validate import validate_paths


class Command(BaseCommand):
    help = (
        "Compile and lint .proto files and folders, printing `path:line:column: RULE_ID message` lines; with "
        "--against, also check "
        "compatibility with what a registry holds. Exit 0 when clean, 100 on findings, 1 on a compile or other error."
    )
    # Works from files and a remote registry only: no database, no system checks (CI runs it against production).
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="*", metavar="PATH", help="files or folders to check (default: REGISTRY_SCHEMAS_DIR)"
        )
        parser.add_argument(
            "--against",
            metavar="REGISTRY_URL",
            help=(
                "also check each file's compatibility with its subject on this registry: the one deploy_schemas "
                "registers it under"
            ),
        )
        add_credential_arguments(parser)
        parser.epilog = (
            "A PATH's include root is the nearest folder at or above it holding buf.yaml (within its git checkout); "
            "without one, a folder is its own root and a file's root is the nearest folder from which its imports "
            "exist."
        )

    def handle(self, *args, paths=(), against=None, token=None, user=None, **options):
        try:
            client = RemoteRegistry.from_environment(against, token=token, user=user) if against else None
        except RemoteError as error:
            raise CommandError(error.message) from None
        result = validate_paths(
            paths or [settings.REGISTRY_SCHEMAS_DIR], against=client, catalogue=settings.REGISTRY_SCHEMAS_DIR
        )
        for finding in result.compile_errors:
            self.stderr.write(finding_line(finding))
        for message in result.errors:
            self.stderr.write(message)
        for finding in result.findings:
            self.stdout.write(finding_line(finding))
        # BaseCommand ignores handle()'s return value; CI reads the exit code.
        if result.exit_code:
            sys.exit(result.exit_code)
