"""`python manage.py breaking CURRENT_DIR --against PREVIOUS_DIR`: the engine's breaking check over two folders."""

import sys

from django.core.management.base import BaseCommand

from protoengine import cli


class Command(BaseCommand):
    help = (
        "Report changes in CURRENT_DIR that break consumers of PREVIOUS_DIR (exit 100 when something breaks, 1 on "
        "a compile error)."
    )
    # The check reads folders only; it needs neither the database nor the system checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        cli.add_breaking_arguments(parser)

    def handle(self, *args, **options):
        code = cli.run_breaking(
            options["current_dir"],
            options["against"],
            categories=options["category"],
            rules=options["rule"],
            except_=options["except_"],
            error_format=options["error_format"],
            out=self.stdout,
            err=self.stderr,
        )
        # BaseCommand ignores handle()'s return value; CI reads the exit code.
        if code:
            sys.exit(code)
