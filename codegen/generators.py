"""Generate code from .proto files with protoc and its plugins, one small class per target language.

This module imports nothing from Django: the `generate_code` command, tests and
the code generation jobs all call `generate()` or a `Generator` directly.

The texts are compiled first by `protoengine.compiler` (which checks
paths, imports and syntax and reports errors with file, line and column); its
descriptor set, comments included, is then handed to grpcio-tools' protoc with
`--descriptor_set_in`, and protoc runs the language's built-in generator or
plugin. Output goes to a scratch folder first, so a failed run leaves an earlier
output untouched.

grpcio-tools' protoc has only Python built in (`--python_out`, `--pyi_out`,
`--grpc_python_out`); Go and TypeScript are plugin executables, and protoc's other
built-in languages (java, kotlin, csharp, cpp, ruby, php, objc) run Debian's
`protoc` (package protobuf-compiler) as a separate process on the same descriptor set.
Docs are rendered here, in Python, from the descriptors and their comments.
"""

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import ClassVar

from google.protobuf.descriptor_pb2 import FileDescriptorProto, FileDescriptorSet

from protoengine.compiler import compile_sources, run_protoc

# A plugin may print a whole generated file with its error; a message keeps this much of it.
MAX_MESSAGE_CHARS = 2000
# The npm project whose node_modules/.bin holds the TypeScript plugin (`npm ci` there installs it).
NODE_DIR = Path(__file__).resolve().parent / "node"


class GenerationError(Exception):
    """Code could not be generated; the message says why and what to do."""


class UnknownLanguage(GenerationError):
    """No generator is registered under that name."""


class GeneratorUnavailable(GenerationError):
    """A plugin the language needs is not installed; the message names the package that brings it."""


class GenerationFailed(GenerationError):
    """protoc or a plugin refused the input; the message holds what they printed."""


@dataclass(frozen=True)
class Plugin:
    """A protoc plugin executable: protoc-gen-NAME, and how to install it when it is missing.

    `package` names what provides it (shown by GET /generate/languages); `command`
    overrides the executable's name for tools that are not protoc-gen-NAME (Debian's protoc).
    """

    name: str
    install_hint: str
    package: str = ""
    command: str = ""

    @property
    def executable(self) -> str:
        return self.command or f"protoc-gen-{self.name}"


# Debian's protoc brings the built-in generators that grpcio-tools' protoc leaves out.
SYSTEM_PROTOC = Plugin(
    "protoc", "apt-get install protobuf-compiler (Debian)", package="protobuf-compiler (Debian)", command="protoc"
)


class Generator:
    """One target language: which protoc outputs to ask for, through which plugins.

    A subclass sets `name`, `outputs` (protoc's `--NAME_out` flags) and `plugins`,
    and may override `options()` (the `--NAME_opt` values), `find_plugin()`,
    `install_hint()`, `check_available()` and `output_files()`. `generate()` holds the algorithm.
    """

    name: ClassVar[str] = ""
    # What a person would call the language in a message.
    label: ClassVar[str] = ""
    outputs: ClassVar[tuple[str, ...]] = ()
    plugins: ClassVar[tuple[Plugin, ...]] = ()

    def __init__(self, search_path: str | None = None):
        # Folders to look for plugins in, os.pathsep-separated; None means $PATH.
        self.search_path = search_path

    def find_plugin(self, plugin: Plugin) -> Path | None:
        """Return the plugin's executable, or None when it is not installed."""
        found = shutil.which(plugin.executable, path=self.search_path)
        return Path(found) if found else None

    def check_available(self) -> dict[str, Path]:
        """Return each plugin's executable by name; raise GeneratorUnavailable naming what to install."""
        found = {}
        for plugin in self.plugins:
            executable = self.find_plugin(plugin)
            if executable is None:
                raise GeneratorUnavailable(
                    f"{self.label} generation needs {plugin.executable}, which is not installed: "
                    f"{self.install_hint(plugin)}."
                )
            found[plugin.name] = executable
        return found

    def install_hint(self, plugin: Plugin) -> str:
        """Return how to install a missing plugin."""
        return plugin.install_hint

    def options(self, output: str, files: Sequence[FileDescriptorProto]) -> list[str]:
        """Return the `--OUTPUT_opt` values for one output flag (none by default)."""
        return []

    def protoc_arguments(
        self, plugins: Mapping[str, Path], files: Sequence[FileDescriptorProto], out_dir: Path
    ) -> list[str]:
        """Return protoc's arguments that select the plugins, outputs and options (not the inputs)."""
        arguments = [
            f"--plugin={plugin.executable}={plugins[plugin.name]}" for plugin in self.plugins if plugin.command == ""
        ]
        for output in self.outputs:
            arguments.append(f"--{output}_out={out_dir}")
            arguments.extend(f"--{output}_opt={option}" for option in self.options(output, files))
        return arguments

    def plugin_versions(self) -> dict[str, str]:
        """Return each tool's version by name (part of an archive's version, shown by GET /generate/languages)."""
        versions = {"grpcio-tools": _distribution_version("grpcio-tools")}
        for plugin in self.plugins:
            executable = self.find_plugin(plugin)
            versions[plugin.name] = _executable_version(str(executable)) if executable else "missing"
        return versions

    def run_protoc(self, plugins: Mapping[str, Path], arguments: list[str], workdir: str) -> tuple[int, str]:
        """Run protoc with `arguments` (argv, "protoc" first); grpcio-tools' protoc in-process by default."""
        return run_protoc(arguments, workdir)

    def output_files(self, directory: Path) -> list[Path]:
        """Return the files one run wrote under `directory`, relative to it and sorted."""
        return sorted(path.relative_to(directory) for path in directory.rglob("*") if path.is_file())

    def generate(
        self, sources: Mapping[str, str | bytes], out_dir: Path, *, roots: Sequence[str] | None = None
    ) -> list[Path]:
        """Generate code for `roots` (default: every source) and the files they import; return the files written.

        Raises CompilationFailed for invalid input, GeneratorUnavailable when a plugin
        is missing and GenerationFailed when protoc or a plugin fails.
        """
        plugins = self.check_available()
        compiled = compile_sources(sources, roots)
        files = compiled.own_files
        with tempfile.TemporaryDirectory(prefix="codegen-") as workdir:
            scratch = Path(workdir) / "out"
            scratch.mkdir()
            descriptor_set = Path(workdir) / "input.pb"
            descriptor_set.write_bytes(FileDescriptorSet(file=compiled.files).SerializeToString())
            arguments = [
                "protoc",
                f"--descriptor_set_in={descriptor_set}",
                *self.protoc_arguments(plugins, files, scratch),
                *(f.name for f in files),
            ]
            status, messages = self.run_protoc(plugins, arguments, workdir)
            if status != 0:
                raise GenerationFailed(
                    f"{self.label} generation failed (protoc exit status {status}): "
                    f"{_shortened(messages.strip()) or 'no message'}"
                )
            self.finish(scratch, compiled.files)
            return _move_into(scratch, self.output_files(scratch), Path(out_dir))

    def finish(self, scratch: Path, files: Sequence[FileDescriptorProto]) -> None:
        """Add or change files after protoc ran (nothing by default)."""

    def archive_extras(self, version: str) -> dict[str, bytes]:
        """Return files an archive holds beside the generated code, such as packaging metadata (none by default)."""
        return {}


class PythonGenerator(Generator):
    """Python messages, type stubs and gRPC stubs: protoc's built-in generators from grpcio-tools.

    Every folder gets an `__init__.py`, and an archive holds a pyproject.toml, so
    `pip install ARCHIVE.zip` installs the folders as packages whose imports resolve.
    """

    name = "python"
    label = "Python"
    outputs = ("python", "pyi", "grpc_python")
    distribution = "schema-registry-generated"

    def plugin_versions(self) -> dict[str, str]:
        return {"grpcio-tools": _distribution_version("grpcio-tools"), "protobuf": _distribution_version("protobuf")}

    def finish(self, scratch: Path, files: Sequence[FileDescriptorProto]) -> None:
        for folder in sorted({path.parent for path in scratch.rglob("*.py")}):
            while folder != scratch and not (folder / "__init__.py").exists():
                (folder / "__init__.py").write_text("")
                folder = folder.parent

    def archive_extras(self, version: str) -> dict[str, bytes]:
        protobuf = _distribution_version("protobuf")
        grpcio = _distribution_version("grpcio")
        pyproject = f"""[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{self.distribution}"
version = "0+{version[:16]}"
description = "Code generated by the schema registry (archive version {version})."
requires-python = ">=3.9"
dependencies = ["protobuf>={protobuf}", "grpcio>={grpcio}"]

[tool.setuptools.packages.find]
where = ["."]

[tool.setuptools.package-data]
"*" = ["*.pyi"]
"""
        return {"pyproject.toml": pyproject.encode()}


class GoGenerator(Generator):
    """Go messages and gRPC stubs with protoc-gen-go and protoc-gen-go-grpc (Debian packages of the same names).

    Files are laid out like their .proto sources (trading/orders.proto gives
    trading/orders.pb.go). A file without `option go_package` gets an import path
    made from its folder and a package name made from its proto package, so any
    file generates, where protoc-gen-go alone would refuse it.
    """

    name = "go"
    label = "Go"
    outputs = ("go", "go-grpc")
    plugins = (
        Plugin(
            "go",
            "apt-get install protoc-gen-go (Debian), or go install google.golang.org/protobuf/cmd/protoc-gen-go@latest",
            package="protoc-gen-go (Debian)",
        ),
        Plugin(
            "go-grpc",
            "apt-get install protoc-gen-go-grpc (Debian), or go install "
            "google.golang.org/grpc/cmd/protoc-gen-go-grpc@latest",
            package="protoc-gen-go-grpc (Debian)",
        ),
    )
    # Import path prefix of files that do not name their own Go package.
    fallback_module = "generated"

    def options(self, output: str, files: Sequence[FileDescriptorProto]) -> list[str]:
        return [
            "paths=source_relative",
            *(f"M{file.name}={self.fallback_import_path(file)}" for file in files if not file.options.go_package),
        ]

    def fallback_import_path(self, file: FileDescriptorProto) -> str:
        """Return "IMPORT_PATH;PACKAGE" for a file without go_package: generated/trading;tradingv1."""
        folder = os.path.dirname(file.name)
        package = "".join(part for part in file.package.split(".") if part) or Path(file.name).stem
        import_path = f"{self.fallback_module}/{folder}" if folder else self.fallback_module
        return f"{import_path};{_go_identifier(package)}"


class TypeScriptGenerator(Generator):
    """TypeScript messages and service clients with ts-proto (`npm ci` in codegen/node installs it).

    The generated code imports `@bufbuild/protobuf/wire`, and `rxjs` for
    streaming RPCs: the project that uses it installs those. The catalogue's
    output type-checks with `tsc --strict` once they are installed.
    """

    name = "typescript"
    label = "TypeScript"
    outputs = ("ts_proto",)
    plugins = (
        Plugin("ts_proto", "npm ci in the folder of the package.json that lists ts-proto", package="ts-proto (npm)"),
    )

    def __init__(self, search_path: str | None = None, node_dir: Path = NODE_DIR):
        super().__init__(search_path)
        self.node_dir = Path(node_dir)

    def install_hint(self, plugin: Plugin) -> str:
        return f"run `npm ci` in {self.node_dir} (it installs ts-proto), with Node.js on PATH"

    def find_plugin(self, plugin: Plugin) -> Path | None:
        executable = self.node_dir / "node_modules" / ".bin" / plugin.executable
        # The plugin is a Node.js script, so node must be installed too.
        if not executable.is_file() or shutil.which("node", path=self.search_path) is None:
            return None
        return executable

    def plugin_versions(self) -> dict[str, str]:
        package = self.node_dir / "node_modules" / "ts-proto" / "package.json"
        version = json.loads(package.read_text())["version"] if package.is_file() else "missing"
        return {"grpcio-tools": _distribution_version("grpcio-tools"), "ts_proto": version}


class BuiltinGenerator(Generator):
    """One of protoc's own generators (`--NAME_out`), run by Debian's protoc on the compiled descriptor set."""

    plugins = (SYSTEM_PROTOC,)

    def run_protoc(self, plugins: Mapping[str, Path], arguments: list[str], workdir: str) -> tuple[int, str]:
        run = subprocess.run(
            [str(plugins["protoc"]), *arguments[1:]], cwd=workdir, capture_output=True, text=True, timeout=300
        )
        return run.returncode, run.stderr


class JavaGenerator(BuiltinGenerator):
    """Java messages; they compile against protobuf-java of the same version as protoc (Debian's libprotobuf-java)."""

    name, label, outputs = "java", "Java", ("java",)


class KotlinGenerator(BuiltinGenerator):
    """Kotlin DSL builders, with the Java classes they wrap."""

    name, label, outputs = "kotlin", "Kotlin", ("java", "kotlin")


class CSharpGenerator(BuiltinGenerator):
    name, label, outputs = "csharp", "C#", ("csharp",)


class CppGenerator(BuiltinGenerator):
    name, label, outputs = "cpp", "C++", ("cpp",)


class RubyGenerator(BuiltinGenerator):
    name, label, outputs = "ruby", "Ruby", ("ruby",)


class PhpGenerator(BuiltinGenerator):
    name, label, outputs = "php", "PHP", ("php",)


class ObjectiveCGenerator(BuiltinGenerator):
    name, label, outputs = "objc", "Objective-C", ("objc",)


class DocsGenerator(Generator):
    """Markdown and HTML reference documentation, rendered here from the descriptors and their comments."""

    name, label = "docs", "Docs"

    def plugin_versions(self) -> dict[str, str]:
        from codegen import docs

        return {"docs": docs.FORMAT_VERSION, "grpcio-tools": _distribution_version("grpcio-tools")}

    def generate(
        self, sources: Mapping[str, str | bytes], out_dir: Path, *, roots: Sequence[str] | None = None
    ) -> list[Path]:
        from codegen import docs

        compiled = compile_sources(sources, roots)
        with tempfile.TemporaryDirectory(prefix="codegen-") as workdir:
            scratch = Path(workdir)
            for name, text in docs.render(compiled.own_files).items():
                target = scratch / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            return _move_into(scratch, self.output_files(scratch), Path(out_dir))


# Every language `generate()` and the `generate_code` command know, by name.
GENERATORS: dict[str, type[Generator]] = {
    generator.name: generator
    for generator in (
        PythonGenerator,
        TypeScriptGenerator,
        GoGenerator,
        JavaGenerator,
        KotlinGenerator,
        CSharpGenerator,
        CppGenerator,
        RubyGenerator,
        PhpGenerator,
        ObjectiveCGenerator,
        DocsGenerator,
    )
}


def generator_for(language: str) -> Generator:
    """Return a generator for a registered language name; raise UnknownLanguage otherwise."""
    try:
        return GENERATORS[language]()
    except KeyError:
        raise UnknownLanguage(
            f'Unknown language "{language}"; choose one of {", ".join(sorted(GENERATORS))}.'
        ) from None


def generate(
    sources: Mapping[str, str | bytes], language: str, out_dir: Path, *, roots: Sequence[str] | None = None
) -> list[Path]:
    """Generate `language` code for the sources (import path -> text) into `out_dir`; return the files written."""
    return generator_for(language).generate(sources, out_dir, roots=roots)


def _move_into(scratch: Path, relative_paths: Iterable[Path], out_dir: Path) -> list[Path]:
    written = []
    for relative in relative_paths:
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(scratch / relative, target)
        written.append(target)
    return written


@cache
def _distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"


@cache
def _executable_version(executable: str) -> str:
    """Return what `EXECUTABLE --version` prints (one process per executable and interpreter)."""
    try:
        run = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return "unknown"
    return (run.stdout or run.stderr).strip() or "unknown"


def _go_identifier(name: str) -> str:
    """Return `name` with anything a Go package name cannot hold replaced by "_"."""
    cleaned = "".join(char if char.isalnum() or char == "_" else "_" for char in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"_{cleaned}"


def _shortened(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + " [...]"
