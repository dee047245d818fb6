"""The git history's own writer makes, object for object, the commits git's plumbing makes, and lets git commit
whenever the repository holds what it does not read."""

import subprocess
from datetime import UTC, datetime, timedelta, timezone

import pytest

from schemas_app import git_history
from schemas_app.git_history import (
    _Change,
    _commit,
    _commit_loose,
    _commit_with_git,
    _GitNeeded,
    _Mark,
    _mark_in,
    ensure_repository,
)

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


@pytest.fixture
def repositories(tmp_path):
    ours, gits = tmp_path / "ours.git", tmp_path / "gits.git"
    ensure_repository(ours)
    ensure_repository(gits)
    return ours, gits


def test_each_commit_is_the_one_gits_plumbing_makes(repositories):
    ours, gits = repositories
    for number, (path, text) in enumerate(CHANGES, start=1):
        assert _commit_loose(ours, change(number, path, text)) == _commit_with_git(gits, change(number, path, text))
    git(ours, "fsck", "--strict")
    assert git(ours, "show", "main:trading/ticks.proto").endswith("a, second version")
    assert git(ours, "rev-list", "--count", "main") == str(len(CHANGES))


def test_a_date_outside_utc_is_written_with_its_offset(repositories):
    ours, gits = repositories
    when = datetime(2026, 11, 30, 16, 19, 53, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert _commit_loose(ours, change(1, "a.proto", "a", when=when)) == _commit_with_git(
        gits, change(1, "a.proto", "a", when=when)
    )


def test_an_identity_git_would_rewrite_is_left_to_git(repositories):
    ours, gits = repositories
    trailing_dot = ("writer.", "writer@example.org.")
    with pytest.raises(_GitNeeded):
        _commit_loose(ours, change(1, "a.proto", "a", author=trailing_dot))
    assert _commit(ours, change(1, "a.proto", "a", author=trailing_dot)) == _commit_with_git(
        gits, change(1, "a.proto", "a", author=trailing_dot)
    )


def test_a_packed_repository_is_committed_to_by_git_and_then_by_the_writer_again(repositories):
    ours, gits = repositories
    for number, (path, text) in enumerate(CHANGES[:3], start=1):
        _commit(ours, change(number, path, text))
        _commit_with_git(gits, change(number, path, text))
    git(ours, "gc", "--quiet")  # packs every object and main itself
    assert not (ours / git_history.BRANCH).exists()

    with pytest.raises(_GitNeeded):
        _commit_loose(ours, change(4, *CHANGES[3]))
    for number, (path, text) in enumerate(CHANGES[3:], start=4):
        assert _commit(ours, change(number, path, text)) == _commit_with_git(gits, change(number, path, text))
    git(ours, "fsck", "--strict")


def test_commits_made_by_another_writer_in_between_are_read_from_the_repository(repositories):
    """The writer keeps the trees it wrote; a commit git made meanwhile (another process's) is read from disk."""
    ours, gits = repositories
    for number, (path, text) in enumerate(CHANGES, start=1):
        write = _commit_with_git if number % 2 == 0 else _commit_loose
        assert write(ours, change(number, path, text)) == _commit_with_git(gits, change(number, path, text))
    git(ours, "fsck", "--strict")


def test_a_commits_mark_is_read_back_from_its_message():
    """A writer in another process reads which versions the history holds from main's commit message."""
    marks = [_Mark(through=42), _Mark(through=42, awaiting=frozenset({39, 40}), horizon=1234)]
    for mark in marks:
        assert _mark_in(f"ticks-value version 2 (1.1.0)\n\n{mark.trailers()}") == mark
    assert _mark_in("ticks-value version 2 (1.1.0)\n") is None  # written before marks were
