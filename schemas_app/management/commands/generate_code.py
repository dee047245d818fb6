"""`python manage.py generate_code --python|--go|--typescript|--all [PATH ...] [--out generated/] [--watch]`.

Local code generation without a server or a database: each PATH (a .proto file
or a folder of them; default the bundled catalogue) is compiled with the tree it
lives in and generated into OUT/<language>/. `--watch` regenerates whenever a
.proto file of that tree is saved, until Ctrl-C.

`--from-registry URL --subject NAME [--version N]` reads the subjects (and every
version they reference) from a registry's REST API instead, and builds the same
archive as POST /generate/{language}: same version, same bytes (`--zip` keeps it).
"""

import io
import sys
import time
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from codegen.archives import InputSet, build_archive, conflicting_imports
from codegen.generators import GENERATORS, GenerationError, generator_for
from codegen.sources import SourceError, SourceSelection, find_source_root, select_sources
from protoengine.cli import EXIT_ERROR
from protoengine.compiler import CompilationFailed
from protoengine.references import Ref, ReferenceCycle, resolve_references
from schemas_app.preparation import root_path_for
from schemas_app.remote import RemoteError, RemoteRegistry, add_credential_arguments

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
        parser.add_argument(
            "--all",
            action="store_true",
            help=f"every language whose tools are installed: {', '.join(sorted(GENERATORS))}",
        )
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
        parser.add_argument(
            "--from-registry",
            metavar="URL",
            help="read the --subject versions and everything they import from this registry instead of files",
        )
        parser.add_argument(
            "--subject", action="append", dest="subjects", metavar="NAME", help="a subject to generate (repeatable)"
        )
        parser.add_argument(
            "--subject-version", default="latest", metavar="N", help="version of the subjects (default: latest)"
        )
        parser.add_argument(
            "--zip",
            action="store_true",
            help="with --from-registry, also write OUT/<language>-<version>.zip, the API's archive byte for byte",
        )
        add_credential_arguments(parser)

    def handle(self, *args, **options):
        languages = _chosen_languages(options["all"], options["languages"] or [])
        if options["all"]:
            languages = self.installed(languages)
        paths = [Path(path) for path in options["paths"]] or [Path(settings.REGISTRY_SCHEMAS_DIR)]
        out = Path(options["out"])
        if options["from_registry"]:
            if not options["subjects"] or options["paths"] or options["watch"]:
                raise CommandError("--from-registry takes --subject NAME (repeatable), and neither paths nor --watch.")
            if not self.generate_from_registry(options, languages, out):
                sys.exit(1)
            return
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

    def installed(self, languages: list[str]) -> list[str]:
        """Return the languages whose tools are installed; say which were skipped and what would install them."""
        found = []
        for language in languages:
            try:
                generator_for(language).check_available()
            except GenerationError as missing:
                self.stderr.write(f"{language}: skipped. {missing}")
            else:
                found.append(language)
        return found

    def generate_from_registry(self, options: dict, languages: list[str], out: Path) -> bool:
        """Fetch the subjects and their references, then build each language's archive and unpack it into OUT."""
        client = RemoteRegistry.from_environment(options["from_registry"], token=options["token"], user=options["user"])
        try:
            inputs = registry_inputs(client, options["subjects"], options["subject_version"])
        except RemoteError as error:
            self.stderr.write(str(error))
            return False
        results = []
        for language in languages:
            try:
                archive = build_archive(generator_for(language), inputs)
            except CompilationFailed as failure:
                self.stderr.write("\n".join(error.as_text() for error in failure.errors))
                results.append(False)
                continue
            except GenerationError as error:
                self.stderr.write(str(error))
                results.append(False)
                continue
            target = out / language
            with zipfile.ZipFile(io.BytesIO(archive.zip_bytes)) as unpacked:
                unpacked.extractall(target)
            line = f"{language}: version {archive.version}, {archive.file_count} files to {target}"
            if options["zip"]:
                archive_path = out / f"{language}-{archive.version}.zip"
                archive_path.write_bytes(archive.zip_bytes)
                line += f" and {archive_path}"
            self.stdout.write(line)
            results.append(True)
        return all(results)

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


def registry_inputs(client: RemoteRegistry, subjects: list[str], version: str) -> InputSet:
    """Return the input set the API would pin for these subjects: their texts and every version they reference."""
    fetched: dict[tuple[str, object], dict] = {}

    def fetch_version(subject: str, number) -> dict:
        if (subject, number) not in fetched:
            fetched[subject, number] = client.version(subject, number)
        return fetched[subject, number]

    def fetch(reference: Ref) -> tuple[str, list[Ref]]:
        found = fetch_version(reference.subject, reference.version)
        return found["schema"], _refs(found)

    pairs = []
    for subject in subjects:
        found = fetch_version(subject, version)
        pairs.append((root_path_for(subject), found["schema"]))
        try:
            pairs.extend(resolve_references(_refs(found), fetch).items())
        except ReferenceCycle as cycle:
            raise RemoteError(f"{cycle} on the registry.") from None
    conflicts = conflicting_imports(pairs)
    if conflicts:
        raise RemoteError(
            f"The subjects import {', '.join(conflicts)} at different versions; generate them separately."
        )
    return InputSet(sources=dict(pairs), roots=tuple(sorted({root_path_for(subject) for subject in subjects})))


def _refs(version: dict) -> list[Ref]:
    return [Ref(ref["name"], ref["subject"], ref["version"]) for ref in version.get("references") or []]


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
