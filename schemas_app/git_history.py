"""A git repository of every registered version, so history can be cloned and read with any git tool.

Each version is one commit on `main`: the file at its import path, authored by whoever registered it
(at the time it was registered), with the subject, version and semantic version as the message. The
repository is bare and written as git writes it (`git_objects`: a pack per batch of commits, main moved last) under a
file lock, so concurrent writers queue.
Each commit also records, in its trailers, which versions the history holds (a watermark of version ids and
the ids below it still awaited), so the next commit first writes whatever an interrupted writer left out.
`export_git` rebuilds it from the database and yields the same tree.
"""

import atexit
import bisect
import fcntl
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, close_old_connections, connections
from django.db.models import Q

from protoengine.lru import LruCache
from schemas_app import git_objects
from schemas_app.git_objects import GitNeeded
from schemas_app.models import SubjectVersion, Tenant
from schemas_app.preparation import root_path_for

logger = logging.getLogger(__name__)

BRANCH = "refs/heads/main"
# Versions `export_git` commits per pack: few packs to write, and a bounded batch of objects held in memory.
EXPORT_BATCH = 500
COMMITTER = ("Schema Registry", "registry@localhost")


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


def commit_versions(repository: Path, versions: list[tuple[SubjectVersion, _Mark]]) -> list[str]:
    """Commit versions one on top of the other on main, each with its mark; return the commit ids.

    The objects are written here, as one pack, without starting git (each git process costs milliseconds, and a
    server process's writer thread does this when no Celery worker does); git's own plumbing makes the commit
    whenever the repository holds something this writer does not read (packed references, an identity git
    would rewrite), and makes the same commit.
    """
    ensure_repository(repository)
    commits = _commit(repository, [_change_of(version, mark) for version, mark in versions])
    for commit, (_, mark) in zip(commits, versions, strict=True):
        _marks_of_commits.put(commit, mark)
    if git_objects.pack_count(repository) >= git_objects.PACKS_BEFORE_REPACK:
        _roll_up_packs(repository)
    return commits


def _roll_up_packs(repository: Path) -> None:
    """Let git merge the small packs (each batch of commits wrote one) so readers search few; the history keeps."""
    try:
        _git(repository, "repack", "-d", "-q", "--geometric=2")
    except (OSError, subprocess.CalledProcessError):
        logger.exception("Could not repack %s; the commits are written", repository)


def _commit(repository: Path, changes: list[_Change]) -> list[str]:
    """Commit the changes in order: as many as it can at a time by the writer here, each other one by git."""
    commits, batch = [], _Batch(repository)
    for change in changes:
        try:
            commits.append(batch.commit(change))
        except GitNeeded:
            batch.write()  # what came before lands first
            commits.append(_commit_with_git(repository, change))
            batch = _Batch(repository)
    batch.write()
    return commits


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


# Names and addresses git writes as given: no characters it trims from the ends or drops inside.
_PLAIN_IDENTITY = re.compile(r"[A-Za-z0-9_@+\-](?:[A-Za-z0-9_@+.\- ]*[A-Za-z0-9_@+\-])?")
_TREE, _FILE = b"40000", b"100644"


class _Batch:
    """Commits written one on top of the other, their objects kept until `write` stores them as one pack and moves
    main to the last one."""

    def __init__(self, repository: Path):
        self.repository = repository
        self.objects: dict[str, tuple[str, bytes]] = {}
        self.head: str | None = None

    def commit(self, change: _Change) -> str:
        """Add the blob, the trees along its path and the commit; return the commit's id."""
        if not all(_PLAIN_IDENTITY.fullmatch(part) for part in change.author):
            raise GitNeeded
        parent = self.head if self.head is not None else _loose_ref(self.repository)
        parent_tree = _commit_tree_of(self, parent) if parent else None
        blob = self.add("blob", change.text.encode())
        tree = _tree_with(self, parent_tree, change.path.split("/"), blob)
        stamp = f"{int(change.when.timestamp())} {_utc_offset(change.when)}"
        lines = [f"tree {tree}", *([f"parent {parent}"] if parent else [])]
        lines.append(f"author {change.author[0]} <{change.author[1]}> {stamp}")
        lines.append(f"committer {COMMITTER[0]} <{COMMITTER[1]}> {stamp}")
        self.head = self.add("commit", ("\n".join(lines) + "\n\n" + change.message).encode())
        _trees_of_commits.put(self.head, tree)
        return self.head

    def add(self, kind: str, body: bytes) -> str:
        added = git_objects.object_id(kind, body)
        self.objects[added] = (kind, body)
        return added

    def read(self, wanted: str, kind: str) -> bytes:
        """Return an object's body: one of this batch's, not written yet, or one in the repository."""
        added = self.objects.get(wanted)
        if added is not None:
            if added[0] != kind:
                raise GitNeeded
            return added[1]
        return git_objects.read_object(self.repository, wanted, kind)

    def write(self) -> None:
        """Store the objects, then point main at the last commit (the objects are there before main names them)."""
        if self.head is None:
            return
        git_objects.write_pack(self.repository, self.objects)
        _move_ref(self.repository, self.head)
        self.objects, self.head = {}, None


def _utc_offset(when: datetime) -> str:
    minutes = int(when.utcoffset().total_seconds() // 60) if when.utcoffset() else 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _commit_tree_of(batch: _Batch, commit: str) -> str:
    tree = _trees_of_commits.get(commit)
    if tree is None:
        first_line = batch.read(commit, "commit").split(b"\n", 1)[0]
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


def _tree(batch: _Batch, tree: str) -> _Tree:
    """Return a tree's entries, in git's order, from this process when it read or wrote the tree already."""
    parsed = _parsed_trees.get(tree)
    if parsed is None:
        body, keys, lines, at = batch.read(tree, "tree"), [], [], 0
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


def _tree_with(batch: _Batch, tree: str | None, parts: list[str], blob: str) -> str:
    """Add to the batch `tree` (None: an empty one) with the file at `parts` set to `blob`; return the new tree's id."""
    entries = _tree(batch, tree) if tree else _Tree()
    name = parts[0].encode()
    index, mode, current = entries.find(name) or (None, None, None)
    if len(parts) == 1:
        if mode not in (None, _FILE):
            raise GitNeeded  # a folder of that name: git refuses the path
        key, line = name, _FILE + b" " + name + b"\0" + bytes.fromhex(blob)
    else:
        if mode not in (None, _TREE):
            raise GitNeeded  # a file of that name
        subtree = _tree_with(batch, current.hex() if current else None, parts[1:], blob)
        key, line = name + b"/", _TREE + b" " + name + b"\0" + bytes.fromhex(subtree)
    # git's order: by name, a folder's name compared as if it ended with "/"; a replaced entry keeps its place.
    updated = entries.with_line(key, line, replacing=index)
    written = batch.add("tree", b"".join(updated.lines))
    _parsed_trees.put(written, updated)
    return written


def _loose_ref(repository: Path) -> str:
    """Return main's commit id ("" before the first commit) when main is a plain file and no packed ref hides it."""
    if (repository / "reftable").exists():
        raise GitNeeded
    try:
        return (repository / BRANCH).read_text().strip()
    except FileNotFoundError:
        pass
    packed = repository / "packed-refs"
    if packed.exists() and BRANCH.encode() in packed.read_bytes():
        raise GitNeeded
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
    return record_loaded_versions(repository, [version])


def _versions():
    # The primary: a replica may not have the newest versions yet, and a version missed there would be skipped.
    return SubjectVersion.objects.using(DEFAULT_DB_ALIAS).select_related("subject__tenant", "schema", "created_by")


def record_loaded_versions(repository: Path, versions: list[SubjectVersion]) -> str | None:
    """Commit versions whose subjects (with their tenants), schemas and authors are loaded, with any version the
    history lacks before them (one whose own writer was killed), in id order; return the last commit written.

    None when nothing was (later versions' writers wrote these already) or git or the database failed.
    """
    try:
        with _locked(repository):
            ensure_repository(repository)
            first = min(versions, key=_id)
            mark = _head_mark(repository) or _start_mark(repository, first)
            written = _write_lacking(repository, mark, in_hand=versions)
            return written[-1] if written else None
    except (OSError, subprocess.CalledProcessError, DatabaseError):
        # The history's mark still lacks these versions, so the next commit (or a catch-up) writes them.
        names = ", ".join(f"{version.subject.name} version {version.version}" for version in versions)
        logger.exception("Could not commit %s to %s", names, repository)
        return None


def write_soon(repository: Path, version: SubjectVersion) -> None:
    """Have this process commit a registered version (its rows loaded) shortly, with the others registered meanwhile.

    Without a broker each server process writes its own versions. Versions registered in a burst wait until it
    pauses for LULL_SECONDS (LONGEST_WAIT_SECONDS at most) and are written together, as one pack: a commit's
    dearest part on some disks is creating its files, and one pack holds a whole burst.
    """
    _waiting.add(repository, version)


def write_waiting() -> None:
    """Commit now the versions this process has waiting (`write_soon`), once a write under way has ended: before the
    process exits, or to read the history it wrote."""
    with _waiting.writing:
        for repository, versions in _waiting.take().items():
            record_loaded_versions(repository, versions)


LULL_SECONDS = 0.05
LONGEST_WAIT_SECONDS = 0.5
# The writer closes its database connection once nothing has come for this long.
IDLE_SECONDS = 1.0


class _Waiting:
    """Versions waiting for this process's history writer, a thread started with the first of them."""

    def __init__(self):
        self._lock = threading.Lock()
        self.writing = threading.Lock()  # held while versions taken are written, so waiting ones are never overtaken
        self._versions: dict[Path, list[SubjectVersion]] = {}
        self._first_at = self._last_at = 0.0
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None

    def add(self, repository: Path, version: SubjectVersion) -> None:
        with self._lock:
            now = time.monotonic()
            if not self._versions:
                self._first_at = now
            self._versions.setdefault(repository, []).append(version)
            self._last_at = now
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write_in_lulls, name="git-history-writer", daemon=True)
                self._writer.start()
        self._wake.set()

    def take(self) -> dict[Path, list[SubjectVersion]]:
        with self._lock:
            taken, self._versions = self._versions, {}
        return taken

    def _write_in_lulls(self) -> None:
        while True:
            if not self._wake.wait(timeout=IDLE_SECONDS):
                connections.close_all()  # a quiet process holds no connection for its writer
                self._wake.wait()
            self._wake.clear()
            while (wait := self._wait()) > 0:
                time.sleep(wait)
            try:
                write_waiting()
            except Exception:  # the mark still lacks them: the next commit, or a catch-up, writes them
                logger.exception("The git history writer failed")
            finally:
                # This thread's own connection (opened to read lacking versions) is kept while registrations go on,
                # as a request's is (until DATABASE_CONN_MAX_AGE or an error), so a burst's writes do not each
                # connect again.
                close_old_connections()

    def _wait(self) -> float:
        with self._lock:
            if not self._versions:
                return 0.0
            return min(self._last_at + LULL_SECONDS, self._first_at + LONGEST_WAIT_SECONDS) - time.monotonic()


_waiting = _Waiting()
atexit.register(write_waiting)  # a worker stopping writes what it has waiting; one killed leaves it to a catch-up


def _start_mark(repository: Path, version: SubjectVersion) -> _Mark:
    """Return the mark to count from in a history that records none.

    A history without a commit holds nothing yet: its first commit writes every version before its own first, as
    the registrations that commit at the same time write theirs in any order (counted from the first commit, a
    lower id still on its way was taken for written). One written before marks were starts counting here:
    `export_git` writes the versions before it.
    """
    try:
        started = bool(_loose_ref(repository))
    except GitNeeded:
        started = bool(_current_commit(repository))
    return _Mark(through=version.pk - 1) if started else _Mark(through=0)


def catch_up_history() -> int:
    """Commit the versions REGISTRY_GIT_HISTORY_DIR lacks (see `catch_up`), after this process's waiting ones; return
    how many the catch-up wrote (0 when git history is off)."""
    repository = history_dir()
    if repository is None:
        return 0
    write_waiting()
    return catch_up(repository)


def catch_up(repository: Path) -> int:
    """Commit, in order, every version the history lacks (their writers were killed or failed); return how many.

    A history whose head records no mark (empty, or written before marks were) is left to `export_git`.
    """
    with _locked(repository):
        mark = _head_mark(repository)
        return 0 if mark is None else len(_write_lacking(repository, mark, in_hand=None))


def _write_lacking(repository: Path, mark: _Mark, in_hand: list[SubjectVersion] | None) -> list[str]:
    """Commit the versions `mark` says the history lacks up to the last of those in hand (None: every one there is),
    with those in hand; return the commits.

    On the usual path the versions in hand follow the mark's last one and nothing is read from the database.
    """
    versions = sorted((version for version in in_hand or () if not mark.holds(version.pk)), key=_id)
    if in_hand is not None and not versions:
        return []  # later versions' writers wrote them already
    following = list(range(mark.through + 1, mark.through + 1 + len(versions)))
    pending = frozenset()
    if in_hand is None or mark.awaiting or [version.pk for version in versions] != following:
        lacking, mark = _lacking(mark, versions[-1] if versions else None)
        by_id = {version.pk: version for version in [*lacking, *versions]}  # those in hand, loaded, where both are
        versions = sorted(by_id.values(), key=_id)
        pending = mark.awaiting
    pending |= {version.pk for version in versions}
    marked = []
    for version in versions:
        pending -= {version.pk}
        mark = mark.after_writing(version.pk, pending)
        marked.append((version, mark))
    return commit_versions(repository, marked) if marked else []


def _id(version: SubjectVersion) -> int:
    return version.pk


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
        body = git_objects.read_object(repository, head, "commit").decode()
    except GitNeeded:
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
        count, batch = 0, []
        for version in _versions().order_by("pk").iterator():
            batch.append((version, _Mark(through=version.pk)))
            if len(batch) == EXPORT_BATCH:
                count += len(commit_versions(repository, batch))
                batch = []
        count += len(commit_versions(repository, batch)) if batch else 0
    return count


def tree_of(repository: Path) -> str:
    return _git(repository, "rev-parse", f"{BRANCH}^{{tree}}")
