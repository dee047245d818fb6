"""Run the configured lint rules over compiled files and turn what they find into Findings."""

import threading
import weakref
from collections.abc import Collection, Mapping, Sequence
from itertools import repeat

from google.protobuf.descriptor_pb2 import FileDescriptorProto

from protoengine.collector import without_cycle_collection
from protoengine.compiler import CompiledFiles, compile_sources, is_well_known
from protoengine.findings import IN_ORDER, Finding
from protoengine.lint.catalog import LINT_RULES
from protoengine.lint.comments import IGNORE_MARK, ignored_rules
from protoengine.lint.config import LintConfig
from protoengine.lint.model import LintFile, LintRule, Problem, elements_of, problems
from protoengine.locations import FILE_EDITION, FILE_PACKAGE, FILE_SYNTAX
from protoengine.model import model_of

# A comment on the syntax, edition or package statement speaks for the whole file.
FILE_STATEMENTS = ((FILE_SYNTAX,), (FILE_EDITION,), (FILE_PACKAGE,))
# Where a finding points when buf has no location for it (the file as a whole, an unset option): the file's start.
FILE_START = (1, 1, 1, 1)
# The LintFiles of each live compiled set that was linted, by the set's id and file name (see _kept_lint_files).
_KEPT: dict[int, dict[str, LintFile]] = {}
# Reentrant: a collection started inside the lock may free another set, whose finalizer takes it too.
_KEPT_LOCK = threading.RLock()


@without_cycle_collection
def lint(
    files: Sequence[FileDescriptorProto], config: LintConfig | None = None, *, targets: Collection[str] | None = None
) -> list[Finding]:
    """Lint compiled files and return the findings sorted by path, line and column.

    `files` is a sequence of files or a compiled set (whose model is then shared, and which keeps
    the elements lint reads of its files for its next runs).
    It may include dependencies and well-known types: they resolve imports and
    custom options. Findings are reported for `targets` (import paths; by default
    every file but the well-known types), and only targets take part in rules
    that compare files, as in buf. A target may be a tree's own copy of a
    well-known file: buf lints those too.
    """
    config = config or LintConfig()
    model = model_of(files)  # a compiled set lends its model: workspace tables and position finders
    chosen = [
        file for file in model.files if (not is_well_known(file.name) if targets is None else file.name in targets)
    ]
    kept = _kept_lint_files(files, model, chosen) if isinstance(files, CompiledFiles) else None
    if kept is not None:
        return _findings(kept, config)
    # A set's first run, or files handed without their set: the elements are this run's own, emptied when it ends.
    lint_files = [LintFile(file, model.workspace, finder=model.finder(file)) for file in chosen]
    try:
        return _findings(lint_files, config)
    finally:
        for lint_file in lint_files:
            lint_file.release()


def _findings(lint_files: list[LintFile], config: LintConfig) -> list[Finding]:
    findings: set[Finding] = set()
    for rule in [LINT_RULES[rule_id] for rule_id in sorted(config.rule_ids)]:
        for problem in _run(rule, lint_files, config):
            finding = _finding(rule, problem, config)
            if finding is not None:
                findings.add(finding)
    return sorted(findings, key=IN_ORDER)


def _kept_lint_files(compiled: CompiledFiles, model, chosen: list[FileDescriptorProto]) -> list[LintFile] | None:
    """Return the LintFiles of the chosen files of a compiled set linted before, kept while the set lives; None
    on the set's first run.

    The same texts compiled again give the same set (compiler._SET_CACHE), so a set linted again, or with
    other targets, walks none of its files again. Only from its second run on: elements kept past a run
    are walked by the cycle collector's passes until they are old, a cost a set linted once (nearly every
    registration's) would pay for nothing. The elements refer to their file and the file lists them:
    when the set is freed they are emptied (LintFile.release), so reference counting frees them then
    rather than the cycle collector. The set's model lends workspace tables and position finders.
    """
    kept = _KEPT.get(id(compiled))
    if kept is None:
        with _KEPT_LOCK:
            if id(compiled) not in _KEPT:
                _KEPT[id(compiled)] = {}
                forget = weakref.finalize(compiled, _forget_lint_files, id(compiled))
                forget.atexit = False  # a process that ends frees everything anyway
        return None
    lint_files = []
    for file in chosen:
        lint_file = kept.get(file.name)
        if lint_file is None:
            lint_file = kept.setdefault(file.name, LintFile(file, model.workspace, finder=model.finder(file)))
        lint_files.append(lint_file)
    return lint_files


def _forget_lint_files(key: int) -> None:
    """Empty the LintFiles of a compiled set that was freed (its id may be reused from now on)."""
    with _KEPT_LOCK:
        kept = _KEPT.pop(key, {})
    for lint_file in kept.values():
        lint_file.release()


def lint_sources(sources: Mapping[str, str | bytes], config: LintConfig | None = None) -> list[Finding]:
    """Compile `{import path: text}` and lint every given file; raises CompilationFailed on compile errors."""
    compiled = compile_sources(sources)
    return lint(compiled, config, targets=set(sources))


def _run(rule: LintRule, files: list[LintFile], config: LintConfig):
    if rule.scope == "files":
        yield from problems(rule.check(files, config))
        return
    for file in files:
        if config.ignores(rule.id, file.name) or (rule.applies is not None and not rule.applies(file)):
            continue
        if rule.names_pass is not None and rule.names_pass(file.field_names, config):
            elements = file.extensions  # every message field passes by its name: none is built as an element
        else:
            elements = elements_of(file, rule.scope)
        # The check is called on every element by map, in C: a large schema's field rules see thousands. A result
        # that is false (None, or an empty list of problems) holds no problem, so filter drops it unread.
        for result in filter(None, map(rule.check, elements, repeat(config))):
            yield from problems(result)


def _finding(rule: LintRule, problem: Problem, config: LintConfig) -> Finding | None:
    file = problem.element.file
    if config.ignores(rule.id, file.name):
        return None
    if config.allow_comment_ignores and _silenced(rule.id, problem):
        return None
    # Like buf, a finding points at the location of exactly its path, or at the file when there is none.
    line, column, end_line, end_column = file.index.exact_span(problem.source_path)
    if line == 0:
        line, column, end_line, end_column = FILE_START
    return Finding(file.name, line, column, rule.id, problem.message, end_line=end_line, end_column=end_column)


def _silenced(rule_id: str, problem: Problem) -> bool:
    """Return True when a `// lint:ignore RULE_ID` comment applies: on the element or anything enclosing it
    (a message's directive covers its nested enums' values, as in buf), or for file rules on the file's lines."""
    element = problem.element
    index = element.file.index
    if not index.mentions(IGNORE_MARK):
        return False  # no comment of the file holds a directive: no need to look up each enclosing one
    paths = {*_enclosing(problem.source_path), *_enclosing(element.path)}
    if element.parent is not None:
        paths.update(_enclosing(element.parent.path))
    if element.kind == "file":
        paths.update(FILE_STATEMENTS)
    return any(rule_id in ignored_rules(index.comment(path)) for path in paths)


def _enclosing(path: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Return the path and every shorter path that starts it (the declarations around it)."""
    return [path[:length] for length in range(len(path), 0, -1)]
