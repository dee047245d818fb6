"""A git repository of every registered version, so history can be cloned and read with any git tool.

Each version is one commit on `main`: the file at its import path, authored by whoever registered it
(at the time it was registered), with the subject, version and semantic version as the message. The
repository is bare and written with git's plumbing under a file lock, so concurrent writers queue.
`export_git` rebuilds it from the database and yields the same tree.
"""

import fcntl
import logging
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from schemas_app.models import SubjectVersion, Tenant
from schemas_app.preparation import root_path_for

logger = logging.getLogger(__name__)

BRANCH = "refs/heads/main"
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


def commit_version(repository: Path, version: SubjectVersion) -> str:
    """Commit one version's file on top of main; return the commit id."""
    ensure_repository(repository)
    parent = _current_commit(repository)
    blob = _git(repository, "hash-object", "-w", "--stdin", stdin=version.schema.text)
    with tempfile.TemporaryDirectory() as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        if parent:
            _git(repository, "read-tree", parent, env=index)
        _git(repository, "update-index", "--add", "--cacheinfo", f"100644,{blob},{file_path(version)}", env=index)
        tree = _git(repository, "write-tree", env=index)
    author = version.created_by
    name = author.get_username() if author else "anonymous"
    email = author.email if author and author.email else f"{name}@registry"
    when = version.created_at.isoformat()
    identity = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_NAME": COMMITTER[0],
        "GIT_COMMITTER_EMAIL": COMMITTER[1],
        "GIT_COMMITTER_DATE": when,
    }
    message = f"{version.subject.name} version {version.version} ({version.semantic_version})\n"
    arguments = ["commit-tree", tree, *(["-p", parent] if parent else [])]
    commit = _git(repository, *arguments, stdin=message, env=identity)
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


def record_version(version_id: int) -> str | None:
    """Commit a registered version to the history repository (after its transaction committed)."""
    repository = history_dir()
    if repository is None:
        return None
    version = (
        SubjectVersion.objects.select_related("subject__tenant", "schema", "created_by").filter(pk=version_id).first()
    )
    if version is None:
        return None
    try:
        with _locked(repository):
            return commit_version(repository, version)
    except (OSError, subprocess.CalledProcessError):
        # The database is the record; `export_git` rebuilds the history from it.
        logger.exception("Could not commit %s version %s to %s", version.subject.name, version.version, repository)
        return None


def export(repository: Path) -> int:
    """Rebuild a repository from the database, one commit per version in registration order; return the count."""
    versions = SubjectVersion.objects.select_related("subject__tenant", "schema", "created_by").order_by("pk")
    with _locked(repository):
        if repository.exists():
            shutil.rmtree(repository)
        count = 0
        for version in versions.iterator():
            commit_version(repository, version)
            count += 1
    return count


def tree_of(repository: Path) -> str:
    return _git(repository, "rev-parse", f"{BRANCH}^{{tree}}")
