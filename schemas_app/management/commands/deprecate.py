"""Deprecate a subject version (or every version of a subject), as POST .../deprecate does."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from schemas_app import deprecation, selectors, services
from schemas_app.errors import RegistryError


class Command(BaseCommand):
    help = "Deprecate SUBJECT (every live version) or one --subject-version, with a reason, successor and sunset."

    def add_arguments(self, parser):
        parser.add_argument("subject")
        parser.add_argument(
            "--subject-version",
            dest="subject_version",
            help='A version number or "latest"; every live version when omitted.',
        )
        parser.add_argument("--reason", default="")
        parser.add_argument("--successor", default="", help="The subject that replaces it.")
        parser.add_argument("--successor-version", type=int, default=None)
        parser.add_argument("--sunset", default=None, help="ISO 8601 date and time it stops being served.")

    def handle(self, *args, subject, subject_version, reason, successor, successor_version, sunset, **options):
        sunset_at = parse_datetime(sunset) if sunset else None
        if sunset and sunset_at is None:
            raise CommandError(f"--sunset {sunset!r} is not an ISO 8601 date and time such as 2027-03-01T00:00:00Z.")
        arguments = {
            "tenant": selectors.default_tenant(),
            "subject_name": subject,
            "reason": reason,
            "successor": {"subject": successor, "version": successor_version} if successor else None,
            "sunset": sunset_at,
            "acting_user": services.system_account(),
        }
        try:
            if subject_version:
                versions = deprecation.version_deprecate(version=subject_version, **arguments)
            else:
                versions = deprecation.subject_deprecate(**arguments)
        except RegistryError as error:
            raise CommandError(error.message) from None
        for found in versions:
            self.stdout.write(f"{subject} version {found.version} deprecated; sunset {found.sunset_at.isoformat()}")
