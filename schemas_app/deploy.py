"""Compare a local .proto tree with a remote registry and register what changed: the logic of `deploy_schemas`.

Subjects are import paths relative to the tree's root, as `load_schemas` names
them, and each file references the versions its imports have or get. The
bundled catalogue's shared folders go to the shared tenant's context
(`:.shared:common/money.proto`), where `load_schemas` puts them; references
still name the import path, which the registry finds in the caller's tenant,
else in a shared one. `plan_tree` is where that placement is decided, for
`deploy_schemas` and `validate_schemas --against` alike.

`plan_tree` says, per file in dependency order, what registering would do:
NEW, UNCHANGED, or the semantic version bump the registry will compute, with
the breaking changes that would make the registry refuse it. A file is
UNCHANGED when the remote latest version has the same references and the same
text (for a subject that normalises, the same normalised text, as the registry
would find it by meaning); metadata
is left out on purpose, so a file deployed again from a later commit keeps its
version. `deploy_tree` then registers the files that are not UNCHANGED.

Breaking changes come from the registry's compatibility endpoint when it can
see exactly what would be registered, that is when every import is unchanged.
When an import changes too, its new version does not exist yet, so the engine
checks here instead, against the remote versions that the subject's level reads
and under its rule set: the same check the registry runs on registration.

No Django here: the functions take a `RemoteRegistry`, so tests and other tools can call them.
"""

import subprocess
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from protoengine import canonical, folders
from protoengine.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from protoengine.compatibility import (
    DEFAULT_LEVEL,
    DEFAULT_RULE_SET,
    READ_ONLY_MODES,
    check_compatibility,
    is_transitive,
)
from protoengine.compiler import COMPILE_ERROR, CompiledFiles, compile_one, compile_sources, own_imports
from protoengine.findings import Finding
from protoengine.references import Ref, ReferenceCycle, resolve_references
from protoengine.semver import FIRST_VERSION, classify_change, next_version
from schemas_app.remote import RemoteError, RemoteRegistry

# The bundled catalogue's folders that every tenant reads and imports: they go to the shared tenant.
# schemaregistry/ is among them because common/user.proto imports its field options.
SHARED_FOLDERS = ("common/", "schemaregistry/")
# The shared tenant's slug (Tenant.SHARED_SLUG, which this Django-free module cannot import; a test keeps them equal).
SHARED_TENANT = "shared"

NEW = "NEW"
UNCHANGED = "UNCHANGED"
# How a summary names what happened to files, in the order it lists them.
OUTCOMES = ("registered", "new", "changed", "unchanged", "breaking", "failed")


@dataclass
class FilePlan:
    """What registering one file would do.

    `change` is NEW, UNCHANGED or a semver bump (MAJOR, MINOR, PATCH, NONE when
    only the references differ). `version` is the remote version the file keeps
    (UNCHANGED) or got (after `deploy_tree`); `findings` are the breaking changes
    that block it; `error` says why it cannot be registered at all.
    """

    path: str
    imports: tuple[str, ...]
    # The subject the file registers under: its import path, or that path in another context.
    subject: str = ""
    change: str | None = None
    version: int | None = None
    previous_semantic_version: str | None = None
    semantic_version: str | None = None
    config: Mapping = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    schema_id: int | None = None

    def __post_init__(self):
        self.subject = self.subject or self.path

    @property
    def blocked(self) -> bool:
        return bool(self.findings)

    def describe(self) -> str:
        """Return the file's line: what it would get (`trading/orders.proto: 1.2.0 -> 1.3.0 (MINOR)`), or got."""
        if self.error:
            return f"{self.path}: ERROR {self.error}"
        if self.schema_id is not None:
            return (
                f"{self.path}: registered version {self.version} ({self.semantic_version}), schema id {self.schema_id}"
            )
        if self.change == NEW:
            return f"{self.path}: NEW ({self.semantic_version})"
        if self.change == UNCHANGED:
            return f"{self.path}: UNCHANGED (version {self.version}, {self.semantic_version})"
        line = f"{self.path}: {self.previous_semantic_version} -> {self.semantic_version} ({self.change})"
        if self.blocked:
            line += (
                f", breaking under {self.config.get('compatibilityLevel')} with rules "
                f"{self.config.get('compatibilityRules')}"
            )
        return line


@dataclass(frozen=True)
class GitState:
    """The commit a tree was deployed from, and whether the tree had uncommitted changes."""

    commit: str
    dirty: bool

    def metadata(self) -> dict:
        """Return Confluent's schema metadata recording the commit."""
        return {"properties": {"git_commit": self.commit, "git_dirty": "true" if self.dirty else "false"}}

    def describe(self) -> str:
        return f"git commit {self.commit}" + (" with uncommitted changes" if self.dirty else "")


def git_state(folder: str | Path) -> GitState | None:
    """Return the checkout's HEAD commit and whether the folder differs from it; None outside a git checkout."""
    try:
        commit = _git(folder, "rev-parse", "--verify", "HEAD")
        status = _git(folder, "status", "--porcelain", "--untracked-files=normal", "--", ".")
    except (OSError, subprocess.CalledProcessError):
        return None
    return GitState(commit=commit, dirty=bool(status))


def _git(folder: str | Path, *arguments: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), *arguments], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


def read_sources(root: str | Path) -> tuple[dict[str, str], CompiledFiles]:
    """Return the tree's {import path: text} and its compiled files; CompilationFailed when it does not compile."""
    sources = folders.read_texts(root)
    if not sources:
        raise folders.UsageError(f"{root}: no .proto files.")
    return sources, compile_sources(sources)


def plan_tree(
    client: RemoteRegistry,
    root: str | Path,
    sources: Mapping[str, str],
    compiled: CompiledFiles,
    *,
    catalogue: str | Path | None,
) -> list[FilePlan]:
    """Return, in dependency order, what registering each compiled file of the tree at `root` would do.

    `catalogue` is the bundled catalogue's folder (REGISTRY_SCHEMAS_DIR): when `root` is that folder,
    its shared folders' files are planned under the shared tenant, where they are registered.
    """
    subjects = shared_subjects(sources) if is_bundled(root, catalogue) else {}
    planner = _Planner(client, sources, subjects)
    return [planner.plan(file.name, own_imports(file)) for file in compiled.subject_files]


def is_bundled(root: str | Path, catalogue: str | Path | None) -> bool:
    """Return True when `root` is the bundled catalogue's folder (None: there is none), however either is written."""
    return catalogue is not None and Path(root).resolve() == Path(catalogue).resolve()


def in_shared_folder(path: str, shared_folders: Collection[str] = SHARED_FOLDERS) -> bool:
    """Return True if the import path lies in one of the folders registered into the shared tenant."""
    return any(path.startswith(folder.rstrip("/") + "/") for folder in shared_folders)


def shared_subjects(sources: Mapping[str, str]) -> dict[str, str]:
    """Return {import path: subject in the shared tenant's context} for the files of the shared folders."""
    return {path: shared_subject(path) for path in sources if in_shared_folder(path)}


def shared_subject(path: str) -> str:
    """Return the subject naming the import path in the shared tenant (`:.shared:common/money.proto`)."""
    return f":.{SHARED_TENANT}:{path}"


def references(plans: Mapping[str, FilePlan], imports: Sequence[str]) -> list[dict]:
    """Return Confluent references for the imports, at the version each has (None while still to be registered)."""
    return [{"name": name, "subject": name, "version": plans[name].version} for name in imports]


class _Planner:
    """Plan files one by one, dependencies first, remembering remote versions already fetched."""

    def __init__(self, client: RemoteRegistry, sources: Mapping[str, str], subjects: Mapping[str, str]):
        self.client = client
        self.sources = sources
        self.subjects = subjects
        self.plans: dict[str, FilePlan] = {}
        self._fetched: dict[tuple[str, int], dict] = {}

    def plan(self, path: str, imports: tuple[str, ...]) -> FilePlan:
        waiting = [name for name in imports if self.plans[name].error]
        plan = FilePlan(path, imports, subject=self.subjects.get(path, path))
        if waiting:
            plan.error = f"not registered because {', '.join(waiting)} cannot be"
        else:
            self._compare(plan)
        self.plans[path] = plan
        return plan

    def _compare(self, plan: FilePlan) -> None:
        latest = self.client.latest_version(plan.subject)
        text, wanted = self.sources[plan.path], references(self.plans, plan.imports)
        if latest is None:
            plan.change, plan.semantic_version = NEW, FIRST_VERSION
        elif self._is_unchanged(plan, latest, text, wanted):
            plan.change, plan.version, plan.semantic_version = (
                UNCHANGED,
                latest["version"],
                latest.get("semanticVersion"),
            )
            return
        else:
            self._classify(plan, latest, text, wanted)
        mode = self.client.mode(plan.subject)
        if mode in READ_ONLY_MODES:
            plan.error = f"the subject is in {mode} mode"

    def _is_unchanged(self, plan: FilePlan, latest: dict, text: str, wanted: list[dict]) -> bool:
        if _reference_keys(latest.get("references") or []) != _reference_keys(wanted):
            return False
        if latest["schema"] == text:
            return True
        plan.config = self.client.config(plan.subject)
        if not plan.config.get("normalize"):
            return False
        # A normalising subject compares by meaning: comments and layout are not kept.
        remote = canonical.normalize(
            plan.path, latest["schema"], self._remote_dependencies(latest.get("references") or [])
        )
        return canonical.normalize(plan.path, text, self._local_dependencies(plan.imports)) == remote

    def _classify(self, plan: FilePlan, latest: dict, text: str, wanted: list[dict]) -> None:
        plan.config = plan.config or self.client.config(plan.subject)
        rule_set = plan.config.get("compatibilityRules", DEFAULT_RULE_SET)
        current = compile_one(plan.path, text, self._local_dependencies(plan.imports)).own_files
        plan.change = classify_change(self._compiled(latest, plan.path), current, rule_set=rule_set)
        plan.previous_semantic_version = latest.get("semanticVersion")
        plan.semantic_version = _next_semantic_version(plan.previous_semantic_version, plan.change)
        if all(reference["version"] is not None for reference in wanted):
            found = self.client.incompatibilities(plan.subject, text, wanted)
            plan.findings = [finding_from(item) for item in found]
        else:
            level = plan.config.get("compatibilityLevel", DEFAULT_LEVEL)
            previous = [
                self._compiled(version, plan.path)
                for version in self._versions_the_level_reads(plan.subject, latest, level)
            ]
            plan.findings = check_compatibility(current, previous, level=level, rule_set=rule_set)

    def _local_dependencies(self, imports: Sequence[str]) -> dict[str, str]:
        """Return the local texts of the imports and of what they import: all a compile of the file needs."""
        found: dict[str, str] = {}
        pending = list(imports)
        while pending:
            name = pending.pop()
            if name not in found:
                found[name] = self.sources[name]
                pending.extend(self.plans[name].imports)
        return found

    def _versions_the_level_reads(self, subject: str, latest: dict, level: str) -> list[dict]:
        if not is_transitive(level):
            return [latest]  # compatibility.versions_the_level_reads, without fetching what it would drop
        return [self._fetch(subject, number) for number in self.client.version_numbers(subject)]

    def _compiled(self, version: dict, path: str):
        """Compile a remote version of the file at `path` with the texts of the versions it references."""
        return compile_one(
            path, version["schema"], self._remote_dependencies(version.get("references") or [])
        ).own_files

    def _remote_dependencies(self, refs: Sequence[Mapping]) -> dict[str, str]:
        def fetch(reference: Ref) -> tuple[str, list[Ref]]:
            found = self._fetch(reference.subject, reference.version)
            return found["schema"], _refs(found.get("references") or [])

        try:
            return resolve_references(_refs(refs), fetch)
        except ReferenceCycle as cycle:
            raise RemoteError(
                f"Reference cycle through subject {cycle.subject!r} version {cycle.version} on the registry."
            ) from None

    def _fetch(self, subject: str, version: int) -> dict:
        key = (subject, version)
        if key not in self._fetched:
            self._fetched[key] = self.client.version(subject, version)
        return self._fetched[key]


def finding_line(finding: Finding) -> str:
    """Return `path:line:column: RULE_ID message`; compile errors have no rule id."""
    rule = "" if finding.rule == COMPILE_ERROR else f"{finding.rule} "
    return f"{finding.path}:{finding.line}:{finding.column}: {rule}{finding.message}"


def finding_from(item: Mapping) -> Finding:
    """Return the Finding of a finding dict from a registry answer (`findings`, or an error's `details`)."""
    return Finding(item["path"], item.get("line", 0), item.get("column", 0), item["rule"], item["message"])


def _refs(refs: Sequence[Mapping]) -> list[Ref]:
    return [Ref(ref["name"], ref["subject"], ref["version"]) for ref in refs]


def _reference_keys(refs: Sequence[Mapping]) -> list[tuple]:
    return sorted((ref["name"], ref["subject"], ref["version"] if ref["version"] is not None else -1) for ref in refs)


def _next_semantic_version(previous: str | None, bump: str) -> str | None:
    """Return the version after `previous`; None when the registry keeps no semantic versions (a Confluent registry)."""
    if previous is None:
        return None
    try:
        return next_version(previous, bump)
    except ValueError:
        return None


def exit_code(plans: Sequence[FilePlan]) -> int:
    """Return 1 when a file cannot be registered, 100 when a breaking change blocks one, else 0."""
    if any(plan.error for plan in plans):
        return EXIT_ERROR
    if any(plan.blocked for plan in plans):
        return EXIT_FINDINGS
    return EXIT_OK


def deploy_tree(
    client: RemoteRegistry, plans: Sequence[FilePlan], sources: Mapping[str, str], *, metadata: Mapping | None = None
) -> list[FilePlan]:
    """Register the planned files that changed, dependencies first; fill in the version each got.

    A refused registration (say another writer got in first with an
    incompatible version) is recorded on its plan, and the files importing it
    are not registered.
    """
    done: dict[str, FilePlan] = {}
    for plan in plans:
        done[plan.path] = plan
        if plan.change == UNCHANGED or plan.error:
            continue
        waiting = [name for name in plan.imports if done[name].error]
        if waiting:
            plan.error = f"not registered because {', '.join(waiting)} was not"
            continue
        try:
            answer = client.register(
                plan.subject, sources[plan.path], references(done, plan.imports), metadata=metadata
            )
        except RemoteError as error:
            plan.error = error.message
            plan.findings = [
                finding_from(item) for item in error.details or [] if isinstance(item, dict) and "rule" in item
            ]
            continue
        plan.version, plan.schema_id = answer["version"], answer["id"]
        plan.semantic_version = answer.get("semanticVersion")
    return list(plans)


@dataclass
class PrivateCopy:
    """A tenant's own subject of a shared file's name, which wins over the shared subject in that tenant.

    `refusals` say why the registry would keep it when asked to retire it (empty: it holds nothing the
    shared subject lacks). After `retire_private_copies`, `retired` holds the versions soft-deleted, or
    `kept` the registry's reasons for keeping it.
    """

    tenant: str
    subject: str
    versions: list[int]
    latest_equals_shared: bool
    refusals: list[str]
    retired: list[int] | None = None
    kept: list[str] | None = None

    def describe(self) -> str:
        """Return the copy's line: `default: common/money.proto versions 1, 2, latest same as shared: yes`."""
        line = (
            f"{self.tenant}: {self.subject} versions {', '.join(map(str, self.versions))}, latest same as shared: "
            f"{'yes' if self.latest_equals_shared else 'no'}"
        )
        if self.retired is not None:
            return f"{line}; RETIRED (versions {', '.join(map(str, self.retired))} soft-deleted)"
        if self.kept is not None:
            return f"{line}; KEPT: {'; '.join(self.kept)}"
        return f"{line}; " + (f"not retirable: {'; '.join(self.refusals)}" if self.refusals else "retirable")


def private_copies(client: RemoteRegistry, plans: Sequence[FilePlan]) -> list[PrivateCopy]:
    """Return the private copies of the subjects the plans register in the shared tenant, in the tenants read.

    They come importers first, so that retiring a copy never waits for a copy that references it.
    """
    order = {plan.path: index for index, plan in enumerate(plans) if plan.subject != plan.path}
    found = [
        PrivateCopy(
            tenant=item["tenant"],
            subject=item["subject"],
            versions=item["versions"],
            latest_equals_shared=item["latestEqualsShared"],
            refusals=item["refusals"],
        )
        for item in client.private_copies()
        if item["subject"] in order
    ]
    return sorted(found, key=lambda copy: (-order[copy.subject], copy.tenant))


def retire_private_copies(client: RemoteRegistry, copies: Sequence[PrivateCopy], *, force: bool = False) -> None:
    """Ask the registry to retire each copy (it checks again, under the subject's lock); note what it did."""
    for copy in copies:
        try:
            copy.retired = client.retire_private_copy(copy.tenant, copy.subject, force=force)
        except RemoteError as error:
            copy.kept = [str(reason) for reason in error.details or []] or [error.message]


def summary(plans: Sequence[FilePlan]) -> str:
    """Return one line counting the files by outcome: `4 files: 1 new, 2 changed, 1 unchanged`."""
    counts = Counter(_outcome(plan) for plan in plans)
    return f"{len(plans)} files: " + ", ".join(f"{counts[name]} {name}" for name in OUTCOMES if counts[name])


def _outcome(plan: FilePlan) -> str:
    if plan.error:
        return "failed"
    if plan.blocked:
        return "breaking"
    if plan.change == UNCHANGED:
        return "unchanged"
    if plan.schema_id is not None:
        return "registered"
    return "new" if plan.change == NEW else "changed"
