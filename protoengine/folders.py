"""Read a folder of .proto files into the {import path: content} mapping the compiler takes, and find the
folder that import paths start from (the one source-root rule of `validate_schemas` and `generate_code`)."""

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from protoengine.compiler import decode_sources, is_well_known

# A folder holding one of these is the root that import paths are relative to (buf's module root).
ROOT_MARKERS = ("buf.yaml", "buf.work.yaml")
_IMPORT = re.compile(r'^\s*import\s+(?:public\s+|weak\s+|option\s+)?"(?P<name>[^"]+)"\s*;', re.MULTILINE)


class UsageError(Exception):
    """The command cannot run as asked; the message says why."""


def read_folder(directory: str | Path) -> dict[str, bytes]:
    """Return every .proto under the folder keyed by its path relative to it, with "/" separators."""
    root = folder(directory)
    sources = {}
    for path in sorted(root.rglob("*.proto")):
        relative = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts[:-1]):
            sources[relative.as_posix()] = path.read_bytes()
    return sources


def read_texts(directory: str | Path) -> dict[str, str]:
    """Return every .proto under the folder as text; CompilationFailed for a file that is not UTF-8."""
    return decode_sources(read_folder(directory))


def folder(directory: str | Path) -> Path:
    """Return the folder as a Path; UsageError when it is not one."""
    path = Path(directory)
    if not path.is_dir():
        raise UsageError(f"{directory}: not a folder.")
    return path


def find_source_root(path: Path, root_names: Sequence[str] = ()) -> Path:
    """Return the folder import paths start from, for a file or folder given on a command line.

    1. the nearest folder at or above `path` holding a buf.yaml (or buf.work.yaml), looking no
       higher than the top of the git checkout (the folder holding `.git`);
    2. else the nearest one named in `root_names` (generate_code passes its catalogue's folder name);
    3. else a folder is its own root, and a file's root is the nearest folder at or above its own
       from which every file it imports exists;
    4. failing that, the file's own folder (the compiler then names the import it cannot find).
    The path is kept as given (relative stays relative), so findings can name it the same way.
    """
    start = path if path.is_dir() else path.parent
    for candidate in _ancestors(start):
        if any((candidate / marker).is_file() for marker in ROOT_MARKERS):
            return candidate
    for candidate in _ancestors(start):
        if candidate.name in root_names:
            return candidate
    if path.is_dir():
        return path
    imports = [
        name for name in _IMPORT.findall(path.read_text(encoding="utf-8", errors="replace")) if not is_well_known(name)
    ]
    for candidate in _ancestors(start):
        if all((candidate / name).is_file() for name in imports):
            return candidate
    return start


def _ancestors(start: Path) -> Iterator[Path]:
    """Yield the folder and those above it, up to the top of its git checkout."""
    for folder in (start, *start.parents):
        yield folder
        if (folder / ".git").exists():
            return
