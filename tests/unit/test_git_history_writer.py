"""The git history's own writer makes, object for object, the commits git's plumbing makes, stores them as packs git
reads, and lets git commit whenever the repository holds what it does not read."""

import subprocess
from datetime import UTC, datetime, timedelta, timezone

import pytest

from schemas_app import git_history, git_objects
from schemas_app.git_history import _Batch, _Change, _commit, _commit_with_git, _Mark, _mark_in, ensure_repository
from schemas_app.git_objects import GitNeeded

WHEN = datetime(2026, 11, 30, 10, 49, 53, 923456, tzinfo=UTC)
# Paths that share folders, replace a file, sort a folder beside a file of the same stem, and nest a tenant's files.
CHANGES = [
    ("trading/ticks.proto", "a"),
    ("trading/orders.proto", "b"),
    ("trading.proto", "c"),
    ("trading/v1/quotes.proto", "d"),
    ("trading/ticks.proto", "a, second version"),
    ("tenants/acme/trading/ticks.proto", "e"),
    ("a-b.proto", "f"),
]


def git(repository, *arguments) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repository), *arguments], capture_output=True, text=True, check=True
    ).stdout.strip()


def change(number: int, path: str, text: str, author=("writer", "writer@example.org"), when=WHEN) -> _Change:
    return _Change(
        path=path,
        text=f'syntax = "proto3";\n// {text}\n',
        author=author,
        when=when + timedelta(seconds=number),
        message=f"{path} version {number} (1.{number}.0)\n",
    )


def written_here(repository, change: _Change) -> str:
    """Commit one change by the writer here alone (no falling back on git); return the commit."""
    batch = _Batch(repository)
    commit = batch.commit(change)
    batch.write()
    return commit


def cat_file(repository, kind: str, wanted: str) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(repository), "cat-file", kind, wanted], capture_output=True, check=True
    ).stdout


def packs(repository) -> list[str]:
    return sorted(path.name for path in (repository / "objects" / "pack").glob("*.idx"))


@pytest.fixture
def repositories(tmp_path):
    ours, gits = tmp_path / "ours.git", tmp_path / "gits.git"
    ensure_repository(ours)
    ensure_repository(gits)
    return ours, gits


def test_each_commit_is_the_one_gits_plumbing_makes(repositories):
    ours, gits = repositories
    for number, (path, text) in enumerate(CHANGES, start=1):
        assert written_here(ours, change(number, path, text)) == _commit_with_git(gits, change(number, path, text))
    git(ours, "fsck", "--strict")
    assert git(ours, "show", "main:trading/ticks.proto").endswith("a, second version")
    assert git(ours, "rev-list", "--count", "main") == str(len(CHANGES))


def test_a_date_outside_utc_is_written_with_its_offset(repositories):
    ours, gits = repositories
    when = datetime(2026, 11, 30, 16, 19, 53, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert written_here(ours, change(1, "a.proto", "a", when=when)) == _commit_with_git(
        gits, change(1, "a.proto", "a", when=when)
    )


def test_an_identity_git_would_rewrite_is_left_to_git(repositories):
    ours, gits = repositories
    trailing_dot = ("writer.", "writer@example.org.")
    with pytest.raises(GitNeeded):
        written_here(ours, change(1, "a.proto", "a", author=trailing_dot))
    assert _commit(ours, [change(1, "a.proto", "a", author=trailing_dot)]) == [
        _commit_with_git(gits, change(1, "a.proto", "a", author=trailing_dot))
    ]


def test_a_packed_repository_is_committed_to_by_git_and_then_by_the_writer_again(repositories):
    ours, gits = repositories
    for number, (path, text) in enumerate(CHANGES[:3], start=1):
        _commit(ours, [change(number, path, text)])
        _commit_with_git(gits, change(number, path, text))
    git(ours, "gc", "--quiet")  # packs every object and main itself
    assert not (ours / git_history.BRANCH).exists()

    with pytest.raises(GitNeeded):
        written_here(ours, change(4, *CHANGES[3]))
    for number, (path, text) in enumerate(CHANGES[3:], start=4):
        assert _commit(ours, [change(number, path, text)]) == [_commit_with_git(gits, change(number, path, text))]
    git(ours, "fsck", "--strict")


def test_commits_made_by_another_writer_in_between_are_read_from_the_repository(repositories):
    """The writer keeps the trees it wrote; a commit git made meanwhile (another process's) is read from disk."""
    ours, gits = repositories
    for number, (path, text) in enumerate(CHANGES, start=1):
        write = _commit_with_git if number % 2 == 0 else written_here
        assert write(ours, change(number, path, text)) == _commit_with_git(gits, change(number, path, text))
    git(ours, "fsck", "--strict")


def test_a_commits_mark_is_read_back_from_its_message():
    """A writer in another process reads which versions the history holds from main's commit message."""
    marks = [_Mark(through=42), _Mark(through=42, awaiting=frozenset({39, 40}), horizon=1234)]
    for mark in marks:
        assert _mark_in(f"ticks-value version 2 (1.1.0)\n\n{mark.trailers()}") == mark
    assert _mark_in("ticks-value version 2 (1.1.0)\n") is None  # written before marks were


def test_a_batch_of_commits_is_one_pack_git_reads_and_main_names_its_last(repositories):
    ours, gits = repositories
    changes = [change(number, path, text) for number, (path, text) in enumerate(CHANGES, start=1)]
    commits = _commit(ours, changes)
    assert commits == [_commit_with_git(gits, each) for each in changes]
    assert len(packs(ours)) == 1
    assert not list((ours / "objects").glob("??/*"))  # nothing loose
    git(ours, "verify-pack", str(ours / "objects" / "pack" / packs(ours)[0]))
    git(ours, "fsck", "--strict")
    assert git(ours, "rev-parse", "main") == commits[-1]
    assert git(ours, "rev-list", "--count", "main") == str(len(CHANGES))


def test_each_object_of_a_pack_is_read_back_as_git_reads_it(repositories):
    ours, _ = repositories
    commits = _commit(ours, [change(number, path, text) for number, (path, text) in enumerate(CHANGES, start=1)])
    git_objects._indexes.clear()  # as another process would, with nothing parsed yet
    for commit in commits:
        assert git_objects.read_object(ours, commit, "commit") == cat_file(ours, "commit", commit)
    tree = git(ours, "rev-parse", "main:trading")
    assert git_objects.read_object(ours, tree, "tree") == cat_file(ours, "tree", tree)
    with pytest.raises(GitNeeded):  # the kind asked for is part of the answer
        git_objects.read_object(ours, tree, "blob")
    with pytest.raises(GitNeeded):
        git_objects.read_object(ours, "0" * 40, "blob")


def test_after_gits_repack_made_deltas_the_writer_still_commits_what_git_would(repositories):
    ours, gits = repositories
    for number, (path, text) in enumerate(CHANGES[:4], start=1):
        _commit(ours, [change(number, path, text)])
        _commit_with_git(gits, change(number, path, text))
    git(ours, "repack", "-a", "-d", "-q", "-f", "--depth=50", "--window=250")  # deltas; main stays a loose ref
    git_history._trees_of_commits.clear()
    git_history._parsed_trees.clear()
    for number, (path, text) in enumerate(CHANGES[4:], start=5):
        assert _commit(ours, [change(number, path, text)]) == [_commit_with_git(gits, change(number, path, text))]
    git(ours, "fsck", "--strict")


def test_packs_are_rolled_up_by_git_once_they_are_many(repositories, monkeypatch):
    ours, _ = repositories
    monkeypatch.setattr(git_objects, "PACKS_BEFORE_REPACK", 4)
    versions = []
    for number in range(1, 9):
        batch = _Batch(ours)
        versions.append(batch.commit(change(number, f"v/{number}.proto", str(number))))
        batch.write()
        if git_objects.pack_count(ours) >= git_objects.PACKS_BEFORE_REPACK:
            git_history._roll_up_packs(ours)
        assert git_objects.pack_count(ours) < git_objects.PACKS_BEFORE_REPACK
    git(ours, "fsck", "--strict")
    assert git(ours, "rev-list", "main").split() == versions[::-1]


@pytest.mark.parametrize("size", [0, 1, 15, 16, 127, 128, 2047, 2048, 262_143, 262_144, 1_000_000])
def test_a_pack_holds_objects_of_any_size_as_git_reads_them(repositories, size):
    """An entry's size is written 4 bits, then 7 at a time: every boundary, read back by git and by the reader."""
    ours, _ = repositories
    body = bytes(index % 251 for index in range(size))
    blob = git_objects.object_id("blob", body)
    git_objects.write_pack(ours, {blob: ("blob", body)})
    git(ours, "verify-pack", str(ours / "objects" / "pack" / packs(ours)[0]))
    assert cat_file(ours, "blob", blob) == body
    git_objects._indexes.clear()
    assert git_objects.read_object(ours, blob, "blob") == body
