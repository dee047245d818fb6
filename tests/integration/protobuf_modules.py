"""Generate Python `_pb2` modules from the bundled `schemas/` tree at test time, and import them.

Nothing generated is ever committed: protoc (from grpcio-tools) writes into a temporary
folder that goes on `sys.path` for as long as the modules are needed. The generated files
register themselves in protobuf's process-wide default descriptor pool, so generate them
once per test session; a second, different file of the same name would collide there.

A generated top-level package must not share its name with one already imported (the Django
project's `registry`, say): the catalogue keeps its options in `schemaregistry/` for that reason,
and `imported_catalogue` refuses a catalogue that would shadow a package.
"""

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from protoengine.compiler import include_dirs

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"


class ProtocFailed(RuntimeError):
    """protoc refused the catalogue; the message holds its exit status."""


def proto_files(source_dir: Path) -> list[str]:
    """Return the import paths of every .proto file under `source_dir`, sorted."""
    return sorted(path.relative_to(source_dir).as_posix() for path in source_dir.rglob("*.proto"))


def module_name(import_path: str) -> str:
    """Return the Python module protoc generates for an import path: a/b_c.proto -> a.b_c_pb2."""
    return import_path.removesuffix(".proto").replace("/", ".") + "_pb2"


def generate_modules(source_dir: Path, output_dir: Path) -> list[str]:
    """Run protoc over every .proto under `source_dir` (messages and gRPC stubs); return the import paths generated."""
    from grpc_tools import protoc

    paths = proto_files(source_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    arguments = [
        "protoc",
        f"--proto_path={source_dir}",
        *(f"--proto_path={folder}" for folder in include_dirs()),
        f"--python_out={output_dir}",
        f"--grpc_python_out={output_dir}",
        *paths,
    ]
    status = protoc.main(arguments)
    if status != 0:
        raise ProtocFailed(f"protoc exited with status {status} generating Python modules from {source_dir}")
    return paths


class GeneratedModules:
    """The generated modules of one catalogue, importable while `imported_catalogue` is open."""

    def __init__(self, directory: Path, import_paths: list[str]):
        self.directory = directory
        self.import_paths = import_paths

    def module(self, import_path: str) -> ModuleType:
        """Return the imported `_pb2` module of a .proto import path."""
        return importlib.import_module(module_name(import_path))

    def grpc_module(self, import_path: str) -> ModuleType:
        """Return the imported `_pb2_grpc` module (service stubs and servicers) of a .proto import path."""
        return importlib.import_module(module_name(import_path) + "_grpc")

    def message(self, import_path: str, name: str) -> type:
        """Return the message class `name` (a top-level message) declared in `import_path`."""
        return getattr(self.module(import_path), name)

    def top_level_packages(self) -> set[str]:
        return {path.split("/")[0] for path in self.import_paths if "/" in path}


@contextmanager
def imported_catalogue(output_dir: Path, source_dir: Path = SCHEMAS_DIR) -> Iterator[GeneratedModules]:
    """Generate the catalogue's modules into `output_dir` and make them importable until exit."""
    modules = GeneratedModules(output_dir, generate_modules(source_dir, output_dir))
    shadowed = sorted(name for name in modules.top_level_packages() if name in sys.modules)
    if shadowed:
        raise ProtocFailed(
            f"generated packages {shadowed} would shadow imported packages of the same name; rename their folders"
        )
    sys.path.insert(0, str(output_dir))
    importlib.invalidate_caches()
    try:
        yield modules
    finally:
        sys.path.remove(str(output_dir))
        _forget_modules_from(output_dir)
        importlib.invalidate_caches()


def _forget_modules_from(directory: Path) -> None:
    """Drop every imported module whose file lies under `directory` (the default pool keeps the descriptors)."""
    root = str(directory)
    for name, module in list(sys.modules.items()):
        location = getattr(module, "__file__", None) or ""
        namespace_paths = list(getattr(module, "__path__", None) or []) if not location else []
        if location.startswith(root) or (
            namespace_paths and all(str(path).startswith(root) for path in namespace_paths)
        ):
            del sys.modules[name]
