"""Git's object store, read and written without starting git: loose objects and packs holding whole objects.

The git history writes each batch of commits as one pack (a `.pack` and its `.idx`) instead of one loose file per
object: a commit's blob, the trees along its path and the commit itself were five to seven new files, and creating
a file is the dearest thing a commit does on some disks (ext4 without a journal checks every recently freed inode
before it hands one out: a millisecond of CPU per file was measured). Objects are stored whole, never as deltas,
so a reader finds any of them with the `.idx` and one zlib stream. What this module does not read (deltas that
`git repack` made, a pack over 2 GB) raises `GitNeeded`, and the caller lets git's plumbing do the work.
"""

import bisect
import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from protoengine.lru import LruCache

# zlib's best speed, the level git gives loose objects (core.looseCompression): zlib's default level took most of a
# commit's time on the root folder's tree, rewritten by every commit. Ids hash the uncompressed content.
COMPRESSION = 1
# Pack entry types (git's OBJ_COMMIT, OBJ_TREE, OBJ_BLOB); the delta types (6, 7) are read by git alone.
TYPE_CODES = {"commit": 1, "tree": 2, "blob": 3}
IDX_SIGNATURE = b"\377tOc"
# Beyond git's own gc.autoPackLimit the writer asks git to roll the small packs up (`repack --geometric`), so the
# number of packs a reader searches stays small however many commits were written one pack each.
PACKS_BEFORE_REPACK = 50


class GitNeeded(Exception):
    """The repository holds something this module does not read: let git's plumbing do it."""


def object_id(kind: str, body: bytes) -> str:
    """Return git's name of an object: the SHA-1 of "<kind> <size>\\0<body>"."""
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body).hexdigest()


def read_object(repository: Path, wanted: str, kind: str) -> bytes:
    """Return an object's body, loose or packed; raise GitNeeded when it is neither here nor readable by us."""
    try:
        raw = zlib.decompress(_loose_path(repository, wanted).read_bytes())
    except FileNotFoundError:
        return _packed_object(repository, wanted, kind)
    header, _, body = raw.partition(b"\0")
    if header.split(b" ")[0] != kind.encode():
        raise GitNeeded
    return body


def _loose_path(repository: Path, wanted: str) -> Path:
    return repository / "objects" / wanted[:2] / wanted[2:]


def write_pack(repository: Path, objects: dict[str, tuple[str, bytes]]) -> None:
    """Store objects (id to kind and body) as one new pack and its index, the index last, as git does."""
    if not objects:
        return
    pack, entries = _pack_bytes(objects)
    checksum = pack[-20:]
    folder = repository / "objects" / "pack"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"pack-{checksum.hex()}"
    # git takes a pack for present once its index is: the pack is in place before its index appears.
    _write_file(folder / f"{name}.pack", pack)
    _write_file(folder / f"{name}.idx", _index_bytes(entries, checksum))


def pack_count(repository: Path) -> int:
    try:
        return sum(1 for name in os.listdir(repository / "objects" / "pack") if name.endswith(".idx"))
    except FileNotFoundError:
        return 0


def _write_file(path: Path, content: bytes) -> None:
    scratch = path.with_name(f"tmp_{os.getpid()}_{path.name}")
    scratch.write_bytes(content)
    scratch.chmod(0o444)
    os.replace(scratch, path)


def _pack_bytes(objects: dict[str, tuple[str, bytes]]) -> tuple[bytes, list[tuple[bytes, int, int]]]:
    """Return a version 2 pack of whole objects and, per object, its binary id, offset and CRC-32."""
    chunks = [b"PACK" + struct.pack(">II", 2, len(objects))]
    offset, entries = len(chunks[0]), []
    for wanted, (kind, body) in objects.items():
        data = _entry_header(TYPE_CODES[kind], len(body)) + zlib.compress(body, COMPRESSION)
        entries.append((bytes.fromhex(wanted), offset, zlib.crc32(data)))
        chunks.append(data)
        offset += len(data)
    content = b"".join(chunks)
    return content + hashlib.sha1(content).digest(), entries


def _entry_header(type_code: int, size: int) -> bytes:
    """An entry's type and size: 3 bits of type and 4 of size in the first byte, then 7 bits a byte, low first."""
    header = [(type_code << 4) | (size & 0x0F)]
    size >>= 4
    while size:
        header[-1] |= 0x80
        header.append(size & 0x7F)
        size >>= 7
    return bytes(header)


def _index_bytes(entries: list[tuple[bytes, int, int]], pack_checksum: bytes) -> bytes:
    """Return a version 2 index: a fan-out table by first byte, then ids, CRC-32s and offsets in id order."""
    entries = sorted(entries)
    fanout, first_bytes = [], [entry[0][0] for entry in entries]
    for byte in range(256):
        fanout.append(bisect.bisect_right(first_bytes, byte))
    parts = [
        IDX_SIGNATURE + struct.pack(">I", 2),
        struct.pack(">256I", *fanout),
        b"".join(entry[0] for entry in entries),
        struct.pack(f">{len(entries)}I", *(entry[2] for entry in entries)),
        struct.pack(f">{len(entries)}I", *(entry[1] for entry in entries)),
        pack_checksum,
    ]
    content = b"".join(parts)
    return content + hashlib.sha1(content).digest()


@dataclass(frozen=True)
class _PackIndex:
    """A pack's ids in order with each one's offset, and where each entry ends (the next offset)."""

    ids: tuple[bytes, ...]
    offsets: tuple[int, ...]
    ends: dict[int, int]

    def find(self, wanted: bytes) -> tuple[int, int] | None:
        index = bisect.bisect_left(self.ids, wanted)
        if index < len(self.ids) and self.ids[index] == wanted:
            offset = self.offsets[index]
            return offset, self.ends[offset]
        return None


# Packs never change once written, so each process parses an index once (keyed by the pack's name, its checksum).
_indexes = LruCache(256)


def _packed_object(repository: Path, wanted: str, kind: str) -> bytes:
    folder = repository / "objects" / "pack"
    try:
        names = [name for name in os.listdir(folder) if name.endswith(".idx")]
    except FileNotFoundError:
        raise GitNeeded from None
    binary = bytes.fromhex(wanted)
    for name in names:
        found = _index(folder, name).find(binary)
        body = _entry_body(folder / name.replace(".idx", ".pack"), *found, kind) if found else None
        if body is not None:
            return body
    raise GitNeeded  # nowhere we read it: only as a delta, say, which git reads


def _index(folder: Path, name: str) -> _PackIndex:
    parsed = _indexes.get(name)
    if parsed is None:
        parsed = _parsed_index((folder / name).read_bytes(), os.path.getsize(folder / name.replace(".idx", ".pack")))
        _indexes.put(name, parsed)
    return parsed


def _parsed_index(data: bytes, pack_size: int) -> _PackIndex:
    if data[:8] != IDX_SIGNATURE + struct.pack(">I", 2):
        raise GitNeeded  # an index version this reader does not know
    count = struct.unpack_from(">I", data, 8 + 255 * 4)[0]
    ids_at = 8 + 256 * 4
    offsets_at = ids_at + 24 * count  # after the ids (20 bytes each) and the CRC-32s (4 each)
    ids = tuple(data[ids_at + 20 * position : ids_at + 20 * (position + 1)] for position in range(count))
    offsets = struct.unpack_from(f">{count}I", data, offsets_at)
    if any(offset & 0x80000000 for offset in offsets):
        raise GitNeeded  # a pack over 2 GB, whose offsets are in another table
    ordered = sorted(offsets)
    ends = dict(zip(ordered, [*ordered[1:], pack_size - 20], strict=True))
    return _PackIndex(ids, offsets, ends)


def _entry_body(pack: Path, offset: int, end: int, kind: str) -> bytes | None:
    """Return the entry's body; None when it is a delta (git's repack makes them) or not of the kind asked for."""
    with open(pack, "rb") as handle:
        entry = os.pread(handle.fileno(), end - offset, offset)
    if (entry[0] >> 4) & 0x07 != TYPE_CODES[kind]:
        return None
    at = 1
    while entry[at - 1] & 0x80:  # the size's further bytes
        at += 1
    return zlib.decompress(entry[at:])
