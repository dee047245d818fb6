"""`python manage.py generate_code --python|--go|--typescript|--all [PATH ...] [--out generated/] [--watch]`.

Local code generation without a server or a database: each PATH (a .proto file
or a folder of them; default the bundled catalogue) is compiled with the tree it
lives in and generated into OUT/<language>/. `--watch` regenerates whenever a
.proto file of that tree is saved, until Ctrl-C.
"""

import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from codegen.generators import GENERATORS, GenerationError, generator_for
from codegen.sources import SourceError, SourceSelection, find_source_root, select_sources
from protoengine.cli import EXIT_ERROR
from protoengine.compiler import CompilationFailed

# One flag each for the languages; --language NAME takes any registered one.
LANGUAGE_FLAGS = ("python", "typescript", "go")


class Command(BaseCommand):
    help = "Generate code from .proto files into OUT/<language>/ (exit 1 when a language fails)."
    # Generation reads files only; it needs neither the database nor the system checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "paths",
            nargs="*",
            metavar="PATH",
            help=".proto files or folders (default: the bundled schemas folder, REGISTRY_SCHEMAS_DIR)",
        )
        parser.add_argument("--all", action="store_true", help=f"every language: {', '.join(sorted(GENERATORS))}")
        for language in LANGUAGE_FLAGS:
            parser.add_argument(
                f"--{language}",
                action="append_const",
                const=language,
                dest="languages",
                help=f"{GENERATORS[language].label} code",
            )
        parser.add_argument(
            "--language",
            action="append",
            dest="languages",
            metavar="NAME",
            help="a registered language by name (repeatable)",
        )
        parser.add_argument(
            "--out",
            default="generated",
            metavar="DIR",
            help="output folder; each language writes to DIR/<language>/ (default: generated)",
        )
        parser.add_argument(
            "--watch", action="store_true", help="regenerate whenever a .proto file is saved, until Ctrl-C"
        )

    def handle(self, *args, **options):
        languages = _chosen_languages(options["all"], options["languages"] or [])
        paths = [Path(path) for path in options["paths"]] or [Path(settings.REGISTRY_SCHEMAS_DIR)]
        out = Path(options["out"])
        succeeded = self.generate_all(paths, languages, out)
        if options["watch"]:
            self.watch(paths, languages, out)
        elif not succeeded:
            sys.exit(EXIT_ERROR)

    def generate_all(self, paths: list[Path], languages: list[str], out: Path) -> bool:
        """Generate every language once; print what was written or why not; return True when all succeeded."""
        try:
            selection = select_sources(paths, _catalogue_folder_names())
        except SourceError as error:
            self.stderr.write(str(error))
            return False
        results = [self.generate_one(selection, language, out) for language in languages]
        return all(results)

    def generate_one(self, selection: SourceSelection, language: str, out: Path) -> bool:
        started = time.perf_counter()
        target = out / language
        try:
            written = generator_for(language).generate(selection.sources, target, roots=selection.roots)
        except CompilationFailed as failure:
            for error in failure.errors:
                self.stderr.write(error.as_text())
            return False
        except GenerationError as error:
            self.stderr.write(str(error))
            return False
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.stdout.write(
            f"{language}: wrote {len(written)} files for {len(selection.roots)} .proto file(s) to {target} "
            f"({elapsed_ms:.0f} ms)"
        )
        return True

    def watch(self, paths: list[Path], languages: list[str], out: Path) -> None:
        """Regenerate on every saved .proto file of the paths' tree until interrupted."""
        import watchfiles

        trees = sorted({str(find_source_root(path, _catalogue_folder_names())) for path in paths})
        self.stdout.write(f"Watching {', '.join(trees)} for .proto changes (Ctrl-C stops).")
        self.stdout.flush()
        try:
            for changes in watchfiles.watch(*trees, watch_filter=_is_proto_change):
                changed = sorted({Path(path).name for _, path in changes})
                self.stdout.write(f"Changed: {', '.join(changed)}")
                self.generate_all(paths, languages, out)
                self.stdout.flush()
        except KeyboardInterrupt:
            pass
        self.stdout.write("Stopped watching.")


def _chosen_languages(everything: bool, named: list[str]) -> list[str]:
    if everything:
        return list(GENERATORS)
    if not named:
        raise CommandError("Choose --all or at least one of --python, --typescript, --go (or --language NAME).")
    for name in named:
        try:
            generator_for(name)
        except GenerationError as error:
            raise CommandError(str(error)) from None
    return list(dict.fromkeys(named))


def _is_proto_change(change, path: str) -> bool:
    return path.endswith(".proto")


def _catalogue_folder_names() -> tuple[str, ...]:
    """Name the catalogue's folder, so a tree without a buf.yaml inside it still resolves imports from its top."""
    return (Path(settings.REGISTRY_SCHEMAS_DIR).name,)
