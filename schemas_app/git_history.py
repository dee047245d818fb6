"""A git repository of every registered version, so history can be cloned and read with any git tool.

Each version is one commit on `main`: the file at its import path, authored by whoever registered it
(at the time it was registered), with the subject, version and semantic version as the message. The
repository is bare and written with git's plumbing under a file lock, so concurrent writers queue.
Each commit also records, in its trailers, which versions the history holds (a watermark of version ids and
the ids below it still awaited), so the next commit first writes whatever an interrupted writer left out.
`export_git` rebuilds it from the database and yields the same tree.
"""

import bisect
import fcntl
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Q

from protoengine.lru import LruCache
from schemas_app.models import SubjectVersion, Tenant
from schemas_app.preparation import root_path_for

logger = logging.getLogger(__name__)

BRANCH = "refs/heads/main"
COMMITTER = ("Schema Registry", "registry@localhost")
# git's own level for loose objects (core.looseCompression defaults to 1, best speed): zlib's default level took
# most of a commit's time on the root folder's tree, rewritten by every commit. Ids hash the uncompressed content.
LOOSE_COMPRESSION = 1


def history_dir() -> Path | None:
    """Return the repository's folder, or None when git history is switched off."""
    configured = settings.REGISTRY_GIT_HISTORY_DIR
    return Path(configured) if configured else None


def file_path(version: SubjectVersion) -> str:
    """Return the path of a version's file: its import path, under tenants/<slug>/ outside the default tenant."""
    path = root_path_for(version.subject.name)
    tenant = version.subject.tenant
    return path if tenant.slug == Tenant.DEFAULT_SLUG else f"tenants/{tenant.slug}/{path}"


def _git(repository: Path, *arguments: str, stdin: str | None = None, env: dict | None = None) -> str:
    completed = subprocess.run(
        ["git", "--git-dir", str(repository), *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return completed.stdout.strip()


def ensure_repository(repository: Path) -> None:
    if not (repository / "HEAD").exists():
        repository.mkdir(parents=True, exist_ok=True)
        _git(repository, "init", "--quiet", "--bare", "--initial-branch=main")


@contextmanager
def _locked(repository: Path):
    repository.parent.mkdir(parents=True, exist_ok=True)
    with open(repository.parent / f".{repository.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass(frozen=True)
class _Change:
    """One version as a commit: its file, who registered it and when, and the message."""

    path: str
    text: str
    author: tuple[str, str]
    when: datetime
    message: str


@dataclass(frozen=True)
class _Mark:
    """Which versions the history holds: every id up to `through` but the `awaiting` ones.

    An id is awaited when no row had it as a later version was committed: its registration's transaction had not
    committed yet (its own commit comes later and writes it), or it was rolled back or purged. `horizon` is the
    first database transaction id not yet started then: once every transaction before it has ended, an awaited id
    that still has no row never gets one.
    """

    through: int
    awaiting: frozenset[int] = frozenset()
    horizon: int = 0

    def holds(self, version_id: int) -> bool:
        return version_id <= self.through and version_id not in self.awaiting

    def after_writing(self, version_id: int, pending: frozenset[int]) -> "_Mark":
        """Return the mark once `version_id` is written and `pending` (ids still to write or to wait for) are not."""
        through = max(self.through, version_id)
        awaiting = frozenset(other for other in pending if other <= through)
        return _Mark(through, awaiting, self.horizon if awaiting else 0)

    def trailers(self) -> str:
        lines = [f"Registry-Through: {self.through}"]
        if self.awaiting:
            ids = " ".join(str(awaited) for awaited in sorted(self.awaiting))
            lines.append(f"Registry-Awaiting: {ids} (transactions before {self.horizon})")
        return "\n".join(lines) + "\n"


_THROUGH = re.compile(r"^Registry-Through: (\d+)$", re.MULTILINE)
_AWAITING = re.compile(r"^Registry-Awaiting: ([\d ]+) \(transactions before (\d+)\)$", re.MULTILINE)


def _mark_in(message: str) -> _Mark | None:
    """Return the mark a commit's message records; None for a commit written before marks were."""
    through = _THROUGH.search(message)
    if through is None:
        return None
    awaiting = _AWAITING.search(message)
    if awaiting is None:
        return _Mark(int(through.group(1)))
    return _Mark(int(through.group(1)), frozenset(map(int, awaiting.group(1).split())), int(awaiting.group(2)))


def _change_of(version: SubjectVersion, mark: _Mark) -> _Change:
    author = version.created_by
    name = author.get_username() if author else "anonymous"
    email = author.email if author and author.email else f"{name}@registry"
    return _Change(
        path=file_path(version),
        text=version.schema.text,
        author=(name, email),
        when=version.created_at,
        message=f"{version.subject.name} version {version.version} ({version.semantic_version})\n\n{mark.trailers()}",
    )


def commit_version(repository: Path, version: SubjectVersion, mark: _Mark) -> str:
    """Commit one version's file on top of main; return the commit id.

    The objects are written here, without starting git (each git process costs milliseconds, and the server
    process does this before its next request when no Celery worker runs it); git's own plumbing makes the commit
    whenever the repository holds something this writer does not read (packed objects or references,
    an identity git would rewrite), and makes the same commit.
    """
    ensure_repository(repository)
    commit = _commit(repository, _change_of(version, mark))
    _marks_of_commits.put(commit, mark)
    return commit


def _commit(repository: Path, change: _Change) -> str:
    try:
        return _commit_loose(repository, change)
    except _GitNeeded:
        return _commit_with_git(repository, change)


def _commit_with_git(repository: Path, change: _Change) -> str:
    parent = _current_commit(repository)
    blob = _git(repository, "hash-object", "-w", "--stdin", stdin=change.text)
    with tempfile.TemporaryDirectory() as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        if parent:
            _git(repository, "read-tree", parent, env=index)
        _git(repository, "update-index", "--add", "--cacheinfo", f"100644,{blob},{change.path}", env=index)
        tree = _git(repository, "write-tree", env=index)
    when = change.when.isoformat()
    identity = {
        "GIT_AUTHOR_NAME": change.author[0],
        "GIT_AUTHOR_EMAIL": change.author[1],
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_NAME": COMMITTER[0],
        "GIT_COMMITTER_EMAIL": COMMITTER[1],
        "GIT_COMMITTER_DATE": when,
    }
    arguments = ["commit-tree", tree, *(["-p", parent] if parent else [])]
    commit = _git(repository, *arguments, stdin=change.message, env=identity)
    _git(repository, "update-ref", BRANCH, commit, *([parent] if parent else []))
    return commit


def _current_commit(repository: Path) -> str:
    """Return main's commit id, or "" in a repository with no commit yet."""
    found = subprocess.run(
        ["git", "--git-dir", str(repository), "rev-parse", "--verify", "--quiet", BRANCH],
        capture_output=True,
        text=True,
    )
    return found.stdout.strip() if found.returncode == 0 else ""


class _GitNeeded(Exception):
    """The repository holds something the loose-object writer does not read: let git's plumbing commit."""


# Names and addresses git writes as given: no characters it trims from the ends or drops inside.
_PLAIN_IDENTITY = re.compile(r"[A-Za-z0-9_@+\-](?:[A-Za-z0-9_@+.\- ]*[A-Za-z0-9_@+\-])?")
_TREE, _FILE = b"40000", b"100644"


def _commit_loose(repository: Path, change: _Change) -> str:
    """Write the blob, the trees along its path and the commit as loose objects, then move main to it."""
    if not all(_PLAIN_IDENTITY.fullmatch(part) for part in change.author):
        raise _GitNeeded
    parent = _loose_ref(repository)
    parent_tree = _commit_tree_of(repository, parent) if parent else None
    blob = _write_object(repository, "blob", change.text.encode())
    tree = _tree_with(repository, parent_tree, change.path.split("/"), blob)
    stamp = f"{int(change.when.timestamp())} {_utc_offset(change.when)}"
    lines = [f"tree {tree}", *([f"parent {parent}"] if parent else [])]
    lines.append(f"author {change.author[0]} <{change.author[1]}> {stamp}")
    lines.append(f"committer {COMMITTER[0]} <{COMMITTER[1]}> {stamp}")
    commit = _write_object(repository, "commit", ("\n".join(lines) + "\n\n" + change.message).encode())
    _trees_of_commits.put(commit, tree)
    _move_ref(repository, commit)
    return commit


def _utc_offset(when: datetime) -> str:
    minutes = int(when.utcoffset().total_seconds() // 60) if when.utcoffset() else 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _object_path(repository: Path, object_id: str) -> Path:
    return repository / "objects" / object_id[:2] / object_id[2:]


def _write_object(repository: Path, kind: str, body: bytes) -> str:
    """Store an object as git does (zlib over "<kind> <size>\\0<body>", named by its SHA-1); return its id."""
    raw = f"{kind} {len(body)}\0".encode() + body
    object_id = hashlib.sha1(raw).hexdigest()  # git names objects by SHA-1
    path = _object_path(repository, object_id)
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        scratch = path.parent / f"tmp_obj_{os.getpid()}_{object_id}"
        scratch.write_bytes(zlib.compress(raw, LOOSE_COMPRESSION))
        scratch.chmod(0o444)
        os.replace(scratch, path)
    return object_id


def _read_object(repository: Path, object_id: str, kind: str) -> bytes:
    try:
        raw = zlib.decompress(_object_path(repository, object_id).read_bytes())
    except FileNotFoundError:
        raise _GitNeeded from None  # packed
    header, _, body = raw.partition(b"\0")
    if header.split(b" ")[0] != kind.encode():
        raise _GitNeeded
    return body


def _commit_tree_of(repository: Path, commit: str) -> str:
    tree = _trees_of_commits.get(commit)
    if tree is None:
        first_line = _read_object(repository, commit, "commit").split(b"\n", 1)[0]
        tree = first_line.removeprefix(b"tree ").decode()
    return tree


@dataclass(frozen=True)
class _Tree:
    """A tree's entries in git's order: each one's sort key (a folder's name ends with "/") and its encoded line."""

    keys: tuple[bytes, ...] = ()
    lines: tuple[bytes, ...] = ()

    def find(self, name: bytes) -> tuple[int, bytes, bytes] | None:
        """Return the index, mode and binary object id of the entry called `name`; None when there is none."""
        for key in (name, name + b"/"):
            index = bisect.bisect_left(self.keys, key)
            if index < len(self.keys) and self.keys[index] == key:
                line = self.lines[index]
                return index, line[: line.index(b" ")], line[-20:]
        return None

    def with_line(self, key: bytes, line: bytes, replacing: int | None) -> "_Tree":
        if replacing is not None:
            return _Tree(self.keys, (*self.lines[:replacing], line, *self.lines[replacing + 1 :]))
        index = bisect.bisect_left(self.keys, key)
        return _Tree((*self.keys[:index], key, *self.keys[index:]), (*self.lines[:index], line, *self.lines[index:]))


# Objects never change, so what was read or written of them is kept by id: each commit then reads and sorts
# nothing. Without it every registration parsed and sorted the whole root folder (one entry per subject).
_trees_of_commits = LruCache(64)
_marks_of_commits = LruCache(64)
_parsed_trees = LruCache(64)


def _tree(repository: Path, tree: str) -> _Tree:
    """Return a tree's entries, in git's order, from this process when it read or wrote the tree already."""
    parsed = _parsed_trees.get(tree)
    if parsed is None:
        body, keys, lines, at = _read_object(repository, tree, "tree"), [], [], 0
        while at < len(body):
            space = body.index(b" ", at)
            end = body.index(b"\0", space)
            name = body[space + 1 : end]
            keys.append(name + b"/" if body[at:space] == _TREE else name)
            lines.append(body[at : end + 21])
            at = end + 21
        parsed = _Tree(tuple(keys), tuple(lines))
        _parsed_trees.put(tree, parsed)
    return parsed


def _tree_with(repository: Path, tree: str | None, parts: list[str], blob: str) -> str:
    """Write `tree` (None: an empty one) with the file at `parts` set to `blob`; return the new tree's id."""
    entries = _tree(repository, tree) if tree else _Tree()
    name = parts[0].encode()
    index, mode, current = entries.find(name) or (None, None, None)
    if len(parts) == 1:
        if mode not in (None, _FILE):
            raise _GitNeeded  # a folder of that name: git refuses the path
        key, line = name, _FILE + b" " + name + b"\0" + bytes.fromhex(blob)
    else:
        if mode not in (None, _TREE):
            raise _GitNeeded  # a file of that name
        subtree = _tree_with(repository, current.hex() if current else None, parts[1:], blob)
        key, line = name + b"/", _TREE + b" " + name + b"\0" + bytes.fromhex(subtree)
    # git's order: by name, a folder's name compared as if it ended with "/"; a replaced entry keeps its place.
    updated = entries.with_line(key, line, replacing=index)
    written = _write_object(repository, "tree", b"".join(updated.lines))
    _parsed_trees.put(written, updated)
    return written


def _loose_ref(repository: Path) -> str:
    """Return main's commit id ("" before the first commit) when main is a plain file and no packed ref hides it."""
    if (repository / "reftable").exists():
        raise _GitNeeded
    try:
        return (repository / BRANCH).read_text().strip()
    except FileNotFoundError:
        pass
    packed = repository / "packed-refs"
    if packed.exists() and BRANCH.encode() in packed.read_bytes():
        raise _GitNeeded
    return ""


def _move_ref(repository: Path, commit: str) -> None:
    """Point main at the commit the way git does: write a lock file beside the ref, then rename it over."""
    ref = repository / BRANCH
    ref.parent.mkdir(parents=True, exist_ok=True)
    lock = ref.with_name(ref.name + ".lock")
    descriptor = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(commit + "\n")
    os.replace(lock, ref)


def record_version(version_id: int) -> str | None:
    """Commit a registered version to the history repository (after its transaction committed)."""
    repository = history_dir()
    if repository is None:
        return None
    version = _versions().filter(pk=version_id).first()
    if version is None:
        return None
    return record_loaded_version(repository, version)


def _versions():
    # The primary: a replica may not have the newest versions yet, and a version missed there would be skipped.
    return SubjectVersion.objects.using(DEFAULT_DB_ALIAS).select_related("subject__tenant", "schema", "created_by")


def record_loaded_version(repository: Path, version: SubjectVersion) -> str | None:
    """Commit a version whose subject (with its tenant), schema and author are loaded, after any version the history
    lacks before it (one whose own writer was killed); return the last commit written.

    None when nothing was (a later version's writer wrote this one already) or git or the database failed.
    """
    try:
        with _locked(repository):
            ensure_repository(repository)
            mark = _head_mark(repository) or _start_mark(repository, version)
            written = _write_lacking(repository, mark, newest=version)
            return written[-1] if written else None
    except (OSError, subprocess.CalledProcessError, DatabaseError):
        # The history's mark still lacks this version, so the next commit (or a catch-up) writes it.
        logger.exception("Could not commit %s version %s to %s", version.subject.name, version.version, repository)
        return None


def _start_mark(repository: Path, version: SubjectVersion) -> _Mark:
    """Return the mark to count from in a history that records none.

    A history without a commit holds nothing yet: its first commit writes every version before its own first, as
    the registrations that commit at the same time write theirs in any order (counted from the first commit, a
    lower id still on its way was taken for written). One written before marks were starts counting here:
    `export_git` writes the versions before it.
    """
    try:
        started = bool(_loose_ref(repository))
    except _GitNeeded:
        started = bool(_current_commit(repository))
    return _Mark(through=version.pk - 1) if started else _Mark(through=0)


def catch_up_history() -> int:
    """Commit the versions REGISTRY_GIT_HISTORY_DIR lacks (see `catch_up`); 0 when git history is off."""
    repository = history_dir()
    return catch_up(repository) if repository is not None else 0


def catch_up(repository: Path) -> int:
    """Commit, in order, every version the history lacks (their writers were killed or failed); return how many.

    A history whose head records no mark (empty, or written before marks were) is left to `export_git`.
    """
    with _locked(repository):
        mark = _head_mark(repository)
        return 0 if mark is None else len(_write_lacking(repository, mark, newest=None))


def _write_lacking(repository: Path, mark: _Mark, newest: SubjectVersion | None) -> list[str]:
    """Commit the versions `mark` says the history lacks, then `newest` (when given and lacking); return the commits.

    On the usual path `newest` is the next id after the mark and nothing is read from the database.
    """
    if newest is not None and mark.holds(newest.pk):
        return []  # a later version's writer wrote it already
    versions = [newest] if newest is not None else []
    pending = frozenset()
    if newest is None or mark.awaiting or newest.pk > mark.through + 1:
        lacking, mark = _lacking(mark, newest)
        versions = sorted([*lacking, *versions], key=lambda version: version.pk)
        pending = mark.awaiting
    pending |= {version.pk for version in versions}
    written = []
    for version in versions:
        pending -= {version.pk}
        mark = mark.after_writing(version.pk, pending)
        written.append(commit_version(repository, version, mark))
    return written


def _lacking(mark: _Mark, newest: SubjectVersion | None) -> tuple[list[SubjectVersion], _Mark]:
    """Return the committed versions the history lacks below `newest` (all of them: None), and the mark that awaits
    the ids below them with no row yet (`newest` not written yet: its own id is neither)."""
    running = _running_transactions()  # read before the rows: a transaction it does not list has ended by then
    newest_id = newest.pk if newest is not None else None
    awaited = mark.awaiting - {newest_id}
    later = Q(pk__gt=mark.through) & (Q(pk__lt=newest_id) if newest_id is not None else Q())
    found = list(_versions().filter(Q(pk__in=awaited) | later).order_by("pk"))
    found_ids = {version.pk for version in found}
    top = newest_id - 1 if newest_id is not None else max(found_ids, default=mark.through)
    still = awaited - found_ids
    if still and (running is None or running[0] >= mark.horizon):
        still = frozenset()  # every transaction that could have inserted them has ended without
    horizon = mark.horizon
    gaps = frozenset(range(mark.through + 1, top + 1)) - found_ids
    if gaps and running is not None and running[0] < running[1]:
        still, horizon = still | gaps, running[1]
    return found, _Mark(mark.through, still, horizon if still else 0)


def _running_transactions() -> tuple[int, int] | None:
    """Return the first transaction id still running and the first not started (equal: none runs) on PostgreSQL.

    None where write transactions take turns (SQLite): a row below a committed one can no longer come. A
    registration's transaction has its transaction id (it locked or inserted its subject) before it takes its
    version's id, so while it runs it is listed.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint FROM pg_current_snapshot() s"
        )
        return cursor.fetchone()


def _head_mark(repository: Path) -> _Mark | None:
    """Return the mark main's commit records; None for an empty history or one written before marks were."""
    try:
        head = _loose_ref(repository)
        mark = _marks_of_commits.get(head) if head else None
        if not head or mark is not None:
            return mark
        body = _read_object(repository, head, "commit").decode()
    except _GitNeeded:
        head = _current_commit(repository)
        if not head:
            return None
        body = _git(repository, "cat-file", "commit", head)
    mark = _mark_in(body.partition("\n\n")[2])  # the message, after the headers
    if mark is not None:
        _marks_of_commits.put(head, mark)
    return mark


def export(repository: Path) -> int:
    """Rebuild a repository from the database, one commit per version in registration order; return the count."""
    with _locked(repository):
        if repository.exists():
            shutil.rmtree(repository)
        count = 0
        for version in _versions().order_by("pk").iterator():
            commit_version(repository, version, _Mark(through=version.pk))
            count += 1
    return count


def tree_of(repository: Path) -> str:
    return _git(repository, "rev-parse", f"{BRANCH}^{{tree}}")
