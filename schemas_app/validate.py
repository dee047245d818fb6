"""Compile, lint and (against a remote registry) check files and folders: the logic of `validate_schemas`.

Each PATH is checked under an include root, the folder its import paths (and
registry subjects) are relative to: protoengine.folders.find_source_root's rule
(a buf.yaml or buf.work.yaml above it, else where its imports resolve), the one
generate_code follows too.
Lint uses the root's buf.yaml `lint:` settings, as `python manage.py lint` does.
Findings carry the path as it can be opened from the working directory.
No Django here.
"""

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from protoengine import bufconfig, cli, folders, lint
from protoengine.compiler import CompilationFailed, compile_sources
from protoengine.findings import Finding
from schemas_app.deploy import plan_tree
from schemas_app.remote import RemoteError, RemoteRegistry


@dataclass
class Validation:
    """What checking some paths found: compile errors, lint and compatibility findings, and other errors."""

    compile_errors: list[Finding] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """Return 1 for a compile or other error, 100 for findings, else 0 (as buf and `lint` do)."""
        if self.compile_errors or self.errors:
            return cli.EXIT_ERROR
        return cli.EXIT_FINDINGS if self.findings else cli.EXIT_OK


def validate_paths(
    paths: Sequence[str | Path], *, against: RemoteRegistry | None = None, catalogue: str | Path | None = None
) -> Validation:
    """Compile and lint the files and folders, and check them against a remote registry when one is given.

    `catalogue` is the bundled catalogue's folder: checked against a registry, its shared files are compared
    with the shared tenant's subjects, where `deploy_schemas` registers them (deploy.plan_tree decides).
    """
    result = Validation()
    try:
        targets = resolve_targets(paths)
    except folders.UsageError as error:
        result.errors.append(str(error))
        return result
    for root, import_paths in targets.items():
        _validate_root(root, import_paths, against, catalogue, result)
    return result


def resolve_targets(paths: Sequence[str | Path]) -> dict[Path, list[str]]:
    """Return {include root: import paths to check} for files and folders; UsageError for a missing or non-.proto."""
    targets: dict[Path, list[str]] = {}
    for given in paths:
        path = Path(given).resolve()
        if path.is_dir():
            files = [path / name for name in folders.read_folder(path)]
        elif path.is_file() and path.suffix == ".proto":
            files = [path]
        else:
            raise folders.UsageError(f"{given}: not a .proto file or a folder.")
        if not files:
            raise folders.UsageError(f"{given}: no .proto files.")
        root = find_root(path)
        chosen = targets.setdefault(root, [])
        chosen.extend(name for name in (file.relative_to(root).as_posix() for file in files) if name not in chosen)
    return targets


def find_root(path: Path) -> Path:
    """Return the include root of a file or folder (protoengine.folders.find_source_root, without root names)."""
    return folders.find_source_root(path)


def _validate_root(
    root: Path,
    import_paths: list[str],
    against: RemoteRegistry | None,
    catalogue: str | Path | None,
    result: Validation,
) -> None:
    raw = folders.read_folder(root)
    try:
        compiled = compile_sources(raw, roots=import_paths)
        document = bufconfig.read_buf_yaml(root)
        config = lint.LintConfig.from_buf_yaml(document, module_path=bufconfig.root_module_path(document))
    except CompilationFailed as failure:
        result.compile_errors.extend(_shown(root, failure.errors))
        return
    except ValueError as error:
        result.errors.append(f"{_display(root / bufconfig.FILE_NAME)}: {error}")
        return
    findings = set(lint.lint(compiled, config, targets=set(import_paths)))
    if against is not None:
        sources = {file.name: raw[file.name].decode("utf-8") for file in compiled.own_files}
        try:
            plans = plan_tree(against, root, sources, compiled, catalogue=catalogue)
        except (RemoteError, CompilationFailed) as error:
            result.errors.append(str(error))
            return
        for plan in plans:
            if plan.path in import_paths:
                findings.update(plan.findings)
                if plan.error:
                    result.errors.append(plan.describe())
    result.findings.extend(_shown(root, sorted(findings)))


def _shown(root: Path, findings: Sequence[Finding]) -> list[Finding]:
    """Return the findings with their import paths turned into paths under the root."""
    return [
        dataclasses.replace(finding, path=_display(root / finding.path)) if finding.path else finding
        for finding in findings
    ]


def _display(path: Path) -> str:
    """Return the path relative to the working directory when it lies under it, else absolute."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return os.fspath(path)
