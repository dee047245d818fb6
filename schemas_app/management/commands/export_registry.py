"""`python manage.py export_registry FILE`: write the whole registry, ids included, to one archive."""

from pathlib import Path

from django.core.management.base import BaseCommand

from schemas_app import backup


class Command(BaseCommand):
    help = (
        "Write every tenant, schema, reference, subject, version, config, mode and role grant to FILE "
        "(JSON; gzip-compressed when FILE ends in .gz), for import_registry to restore with the same ids."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")

    def handle(self, *args, file, **options):
        summary = backup.export_archive(Path(file))
        self.stdout.write(f"Exported to {file}: {summary}")
