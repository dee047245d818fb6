"""Rebuild the git history repository from the database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from schemas_app import git_history


class Command(BaseCommand):
    help = "Rebuild the git history (REGISTRY_GIT_HISTORY_DIR, or --output) with one commit per registered version."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="Write this repository instead of REGISTRY_GIT_HISTORY_DIR.")

    def handle(self, *args, output, **options):
        repository = Path(output) if output else git_history.history_dir()
        if repository is None:
            raise CommandError("Git history is off: set REGISTRY_GIT_HISTORY_DIR or pass --output.")
        count = git_history.export(repository)
        tree = git_history.tree_of(repository) if count else "(empty)"
        self.stdout.write(f"Exported {count} versions to {repository}; tree {tree}.")
