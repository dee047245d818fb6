"""Prepare a registry to serve: migrate, collect static files, ensure the admin, load the bundled schemas."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, collect static files, create the admin account and load the bundled schemas (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--no-schemas", action="store_true", help="Skip loading the bundled schemas/ tree.")
        parser.add_argument(
            "--no-static",
            action="store_true",
            help="Skip collecting static files (an image collected them when it was built; its root is read-only).",
        )

    def handle(self, *args, no_schemas=False, no_static=False, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if not no_static:
            call_command("collectstatic", interactive=False, verbosity=0)
        call_command("ensure_admin")
        if not no_schemas:
            call_command("load_schemas")
