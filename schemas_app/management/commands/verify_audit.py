"""Check the audit log's hash chain and name the first entry that was edited, deleted or reordered."""

from django.core.management.base import BaseCommand, CommandError

from schemas_app.audit_chain import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exit 1 naming the first bad entry."

    def handle(self, *args, **options):
        verdict = verify_chain()
        if not verdict.intact:
            raise CommandError(
                f"Audit log entry {verdict.entry_id} {verdict.problem}; {verdict.checked} entries before it are intact."
            )
        self.stdout.write(f"Audit log intact: {verdict.checked} entries verified.")
