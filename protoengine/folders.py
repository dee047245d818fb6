"""Read a folder of .proto files into the {import path: content} mapping the compiler takes."""

from pathlib import Path

from protoengine.compiler import decode_sources


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
