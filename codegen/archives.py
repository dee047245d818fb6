"""Reproducible archives of generated code, and the version that names them.

An archive's version is the SHA-256 (hex) of a JSON document holding: the layout
version of this module, the language, the versions of protoc and the plugins that
generate it (`Generator.plugin_versions()`), the protoc outputs it asks for, the import
paths generated (`roots`) and, for every input file (the roots and everything they
import, down to the leaves), its import path and the SHA-256 of its text. Subject
names and registry version numbers are not part of it: the same texts give the same
archive, whether they came from the API or from `generate_code --from-registry`.

The bytes are reproducible too: members are sorted by path, every timestamp is
1980-01-01 (zip) or 0 (tar and gzip), owners and modes are fixed. Like
generators.py, this module imports nothing from Django.
"""

import gzip
import hashlib
import io
import json
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codegen.generators import Generator

# Bump when the archive's layout or the version's recipe changes, so old and new never share a version.
LAYOUT_VERSION = "1"
MANIFEST_NAME = "generation.json"
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644


@dataclass(frozen=True)
class InputSet:
    """What one generation reads: every text by import path, and the import paths to generate."""

    sources: Mapping[str, str]
    roots: tuple[str, ...]

    def digests(self) -> dict[str, str]:
        return {path: hashlib.sha256(self.sources[path].encode("utf-8")).hexdigest() for path in sorted(self.sources)}


@dataclass(frozen=True)
class Archive:
    """Generated code of one input set in one language, as a zip and a tar.gz of the same members."""

    version: str
    zip_bytes: bytes
    tar_bytes: bytes
    file_count: int


def version_document(generator: Generator, inputs: InputSet) -> dict:
    """Return what an archive's version is the hash of (also stored in the archive as generation.json)."""
    return {
        "layout": LAYOUT_VERSION,
        "language": generator.name,
        "tools": generator.plugin_versions(),
        "outputs": list(generator.outputs),
        "roots": sorted(inputs.roots),
        "inputs": inputs.digests(),
    }


def archive_version(generator: Generator, inputs: InputSet) -> str:
    """Return the content hash that names the archive of these inputs in this language."""
    return _version_of(version_document(generator, inputs))


def build_archive(
    generator: Generator, inputs: InputSet, *, on_progress: Callable[[int, int], None] | None = None
) -> Archive:
    """Generate the code and pack it; `on_progress(done, total)` is called as files are packed.

    Raises what `Generator.generate` raises (CompilationFailed, GeneratorUnavailable, GenerationFailed).
    """
    document = version_document(generator, inputs)
    version = _version_of(document)
    with tempfile.TemporaryDirectory(prefix="codegen-archive-") as workdir:
        out = Path(workdir)
        written = generator.generate(inputs.sources, out, roots=sorted(inputs.roots))
        members = {path.relative_to(out).as_posix(): path.read_bytes() for path in written}
    members.update(generator.archive_extras(version))
    members[MANIFEST_NAME] = (json.dumps({"version": version, **document}, indent=2, sort_keys=True) + "\n").encode()
    return pack(members, version=version, on_progress=on_progress)


def pack(
    members: Mapping[str, bytes], *, version: str, on_progress: Callable[[int, int], None] | None = None
) -> Archive:
    """Return the zip and tar.gz of `members` (path -> bytes) with fixed order, times and modes."""
    names = sorted(members)
    zip_buffer, tar_buffer = io.BytesIO(), io.BytesIO()
    with (
        zipfile.ZipFile(zip_buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive,
        gzip.GzipFile(filename="", mode="wb", fileobj=tar_buffer, mtime=0, compresslevel=6) as gzipped,
        tarfile.open(fileobj=gzipped, mode="w", format=tarfile.PAX_FORMAT) as tarball,
    ):
        for done, name in enumerate(names, start=1):
            data = members[name]
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below is read as Unix permissions everywhere
            info.external_attr = (0o100000 | FILE_MODE) << 16
            archive.writestr(info, data)
            member = tarfile.TarInfo(name)
            member.size, member.mode, member.mtime = len(data), FILE_MODE, 0
            member.uid = member.gid = 0
            member.uname = member.gname = ""
            tarball.addfile(member, io.BytesIO(data))
            if on_progress is not None:
                on_progress(done, len(names))
    return Archive(
        version=version, zip_bytes=zip_buffer.getvalue(), tar_bytes=tar_buffer.getvalue(), file_count=len(names)
    )


def conflicting_imports(pinned: Sequence[tuple[str, str]]) -> list[str]:
    """Return import paths that the (path, text) pairs give two different texts (they cannot share one protoc run)."""
    seen: dict[str, str] = {}
    conflicts = set()
    for path, text in pinned:
        if seen.setdefault(path, text) != text:
            conflicts.add(path)
    return sorted(conflicts)


def _version_of(document: dict) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
