"""`python manage.py deploy_schemas [PATH] --registry URL [--dry-run] [--retire-private-copies [--force]]`.

Register a .proto tree on a remote registry, and report (or retire) tenants' private copies of the shared subjects.
"""

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
        "Exit 0 when everything is (or would be) deployed, 100 when a breaking change blocks, 1 on errors. "
        "Tenants' private copies of the shared subjects, which win over them, are listed; --retire-private-copies "
        "retires (soft-deletes) those holding nothing the shared subjects lack."
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
        parser.add_argument(
            "--retire-private-copies",
            action="store_true",
            help="after the deploy, soft-delete tenants' private copies of the shared subjects that hold nothing the "
            "shared subjects lack (with --dry-run, only say which)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="with --retire-private-copies: retire the copies whose content differs or whose versions other "
            "subjects reference too",
        )
        add_credential_arguments(parser)

    def handle(
        self,
        *args,
        folder=None,
        registry=None,
        dry_run=False,
        retire_private_copies=False,
        force=False,
        token=None,
        user=None,
        **options,
    ):
        if not registry:
            raise CommandError("Give the registry with --registry URL or REGISTRY_URL.")
        if force and not retire_private_copies:
            raise CommandError("--force only applies to --retire-private-copies.")
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
        if any(plan.subject != plan.path for plan in plans):
            retire = retire_private_copies and not dry_run and not code
            kept = self._private_copies(
                client, plans, retire=retire, asked=retire_private_copies, dry_run=dry_run, force=force
            )
            code = code or (EXIT_ERROR if kept and retire else 0)
        # BaseCommand ignores handle()'s return value; CI reads the exit code.
        if code:
            sys.exit(code)

    def _private_copies(self, client, plans, *, retire: bool, asked: bool, dry_run: bool, force: bool) -> bool:
        """List the tenants' private copies of the shared subjects, retiring them when `retire`; True if any is kept.

        `asked`: --retire-private-copies was given; it retires nothing in a dry run or after a failed deploy.
        """
        try:
            copies = deploy.private_copies(client, plans)
        except RemoteError as error:
            self.stderr.write(f"Cannot list the private copies of the shared subjects: {error}")
            return True
        if not copies:
            if asked:
                self.stdout.write("No tenant has a private copy of the shared subjects.")
            return False
        if retire:
            deploy.retire_private_copies(client, copies, force=force)
        self.stdout.write(
            "Private copies of shared subjects (each wins over the shared subject in its tenant, so deploys to the "
            "shared tenant do not reach it):"
        )
        for copy in copies:
            self.stdout.write(f"  {copy.describe()}")
        kept = [copy for copy in copies if copy.retired is None]
        if retire:
            self.stdout.write(f"{len(copies) - len(kept)} retired, {len(kept)} kept.")
        elif not asked:
            self.stdout.write("Nothing was retired: --retire-private-copies retires the retirable ones (soft delete).")
        elif dry_run:
            self.stdout.write(
                "Dry run: nothing was retired; without --dry-run, --retire-private-copies retires "
                + ("every one of them (--force)." if force else "the retirable ones.")
            )
        else:
            self.stdout.write("Nothing was retired: the deploy did not complete.")
        return bool(kept)

    def _write_plans(self, plans):
        """Print each file's line (what it would get, or got) and, once each, the breaking changes found."""
        shown = set()
        for plan in plans:
            self.stdout.write(plan.describe())
            for finding in plan.findings:
                if finding not in shown:
                    shown.add(finding)
                    self.stdout.write(deploy.finding_line(finding))
