"""Register the bundled .proto tree (or another folder) in this registry; safe to run again.

The bundled catalogue's `common/` and `schemaregistry/` folders go to the shared tenant, which every tenant
reads and imports; the rest, and every file of another folder, to the default tenant.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from protoengine.compiler import CompilationFailed
from protoengine.folders import read_texts
from schemas_app import selectors, services
from schemas_app.deploy import SHARED_FOLDERS
from schemas_app.tree import is_bundled, tree_register


class Command(BaseCommand):
    help = (
        "Register every .proto file under a folder (default: REGISTRY_SCHEMAS_DIR) as subjects named by their "
        "import paths; the bundled catalogue's common/ and schemaregistry/ go to the shared tenant."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", nargs="?", help="Folder holding the .proto tree (default: the bundled schemas/).")

    def handle(self, *args, folder=None, **options):
        root = Path(folder or settings.REGISTRY_SCHEMAS_DIR)
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder.")
        try:
            sources = read_texts(root)
            results = tree_register(
                tenant=selectors.default_tenant(),
                sources=sources,
                acting_user=services.system_account(),
                shared_folders=SHARED_FOLDERS if is_bundled(root) else (),
            )
        except CompilationFailed as error:
            raise CommandError(f"The tree does not compile:\n{error}") from None
        failures = [result for result in results if result.error]
        for result in results:
            if result.error:
                self.stderr.write(f"{result.path}: {result.error}")
            elif result.created:
                self.stdout.write(
                    f"{result.path}: registered version {result.version} ({result.semantic_version}), schema id "
                    f"{result.schema_id}"
                )
        created = sum(result.created for result in results)
        self.stdout.write(
            f"Loaded {len(results) - len(failures)} of {len(results)} files from {root} ({created} new versions)."
        )
        if failures:
            raise CommandError(f"{len(failures)} files were not registered.")
