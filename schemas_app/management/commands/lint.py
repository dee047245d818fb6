"""`python manage.py lint DIR`: the engine's lint over one folder, with its buf.yaml's `lint:` settings."""

import sys

from django.core.management.base import BaseCommand

from protoengine import cli


class Command(BaseCommand):
    help = "Report lint findings in DIR (exit 100 when there are some, 1 on a compile error)."
    # The check reads a folder only; it needs neither the database nor the system checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        cli.add_lint_arguments(parser)

    def handle(self, *args, **options):
        code = cli.run_lint(
            options["directory"], error_format=options["error_format"], out=self.stdout, err=self.stderr
        )
        # BaseCommand ignores handle()'s return value; CI reads the exit code.
        if code:
            sys.exit(code)
