"""Find the .proto files that command-line paths name, with the tree their imports resolve against."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from protoengine import folders
from protoengine.folders import read_folder


class SourceError(Exception):
    """A path names no .proto file, or paths lie in different trees."""


@dataclass(frozen=True)
class SourceSelection:
    """The files to work on (`roots`, import paths) and every text of their tree (`sources`)."""

    root: Path
    sources: dict[str, bytes]
    roots: tuple[str, ...]


def find_source_root(path: Path, root_names: Sequence[str] = ()) -> Path:
    """Return the folder import paths start from (protoengine.folders.find_source_root, on the resolved path)."""
    return folders.find_source_root(Path(path).resolve(), root_names)


def select_sources(paths: Sequence[Path], root_names: Sequence[str] = ()) -> SourceSelection:
    """Return the .proto files under `paths` (files or folders) as roots, with all texts of their common tree."""
    if not paths:
        raise SourceError("No path given.")
    trees = {find_source_root(path, root_names) for path in paths}
    if len(trees) > 1:
        raise SourceError(
            f"The paths lie in different source trees ({', '.join(sorted(map(str, trees)))}); generate each tree on "
            "its own."
        )
    root = trees.pop()
    sources = read_folder(root)
    roots = sorted({name for path in paths for name in _import_paths_under(Path(path).resolve(), root, sources)})
    if not roots:
        raise SourceError(f"No .proto file under {', '.join(map(str, paths))}.")
    return SourceSelection(root=root, sources=sources, roots=tuple(roots))


def _import_paths_under(path: Path, root: Path, sources: dict[str, bytes]) -> list[str]:
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder.")
    if path.is_file():
        if path.suffix != ".proto":
            raise SourceError(f"{path}: not a .proto file.")
        return [path.relative_to(root).as_posix()]
    prefix = "" if path == root else path.relative_to(root).as_posix() + "/"
    return [name for name in sources if name.startswith(prefix)]
