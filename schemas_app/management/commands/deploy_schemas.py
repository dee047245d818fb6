"""`python manage.py deploy_schemas [PATH] --registry URL [--dry-run]`: register a .proto tree on a remote registry."""

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from protoengine.cli import EXIT_ERROR
from protoengine.compiler import CompilationFailed
from protoengine.folders import UsageError
from schemas_app import deploy
from schemas_app.remote import RemoteError, RemoteRegistry, add_credential_arguments


class Command(BaseCommand):
    help = (
        "Register every .proto file under PATH on a registry, in dependency order with references, as subjects named "
        "by import path; the bundled catalogue's common/ and schemaregistry/ go to the shared tenant. "
        "--dry-run prints per file NEW, UNCHANGED or the semantic version bump, and any breaking change. "
        "Exit 0 when everything is (or would be) deployed, 100 when a breaking change blocks, 1 on errors."
    )
    # Works from files and a remote registry only: no database, no system checks (CI runs it against production).
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "folder", nargs="?", metavar="PATH", help="root of the .proto tree (default: REGISTRY_SCHEMAS_DIR)"
        )
        parser.add_argument(
            "--registry",
            metavar="URL",
            default=os.environ.get("REGISTRY_URL"),
            help="the registry to deploy to (default: REGISTRY_URL)",
        )
        parser.add_argument("--dry-run", action="store_true", help="say what would be registered, and register nothing")
        add_credential_arguments(parser)

    def handle(self, *args, folder=None, registry=None, dry_run=False, token=None, user=None, **options):
        if not registry:
            raise CommandError("Give the registry with --registry URL or REGISTRY_URL.")
        root = Path(folder or settings.REGISTRY_SCHEMAS_DIR)
        try:
            sources, compiled = deploy.read_sources(root)
            client = RemoteRegistry.from_environment(registry, token=token, user=user)
        except CompilationFailed as failure:
            self.stderr.write("\n".join(deploy.finding_line(finding) for finding in failure.errors))
            sys.exit(EXIT_ERROR)
        except (UsageError, RemoteError) as error:
            raise CommandError(str(error)) from None
        git = deploy.git_state(root)
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}{root} to {client.url}, from "
            f"{git.describe() if git else 'no git checkout'}"
        )
        try:
            plans = deploy.plan_tree(client, root, sources, compiled, catalogue=settings.REGISTRY_SCHEMAS_DIR)
        except (RemoteError, CompilationFailed) as error:
            raise CommandError(str(error)) from None
        code = deploy.exit_code(plans)
        if dry_run or code:
            self._write_plans(plans)
            self.stdout.write(f"{deploy.summary(plans)}; nothing was registered.")
        else:
            deploy.deploy_tree(client, plans, sources, metadata=git.metadata() if git else None)
            self._write_plans(plans)
            self.stdout.write(deploy.summary(plans))
            code = deploy.exit_code(plans)
        # BaseCommand ignores handle()'s return value; CI reads the exit code.
        if code:
            sys.exit(code)

    def _write_plans(self, plans):
        """Print each file's line (what it would get, or got) and, once each, the breaking changes found."""
        shown = set()
        for plan in plans:
            self.stdout.write(plan.describe())
            for finding in plan.findings:
                if finding not in shown:
                    shown.add(finding)
                    self.stdout.write(deploy.finding_line(finding))
