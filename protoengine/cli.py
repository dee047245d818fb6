"""The engine's command line, shaped like buf's: `breaking` and `lint` over folders of .proto files.

    python -m protoengine breaking CURRENT_DIR --against PREVIOUS_DIR
        [--category FILE] [--rule ID] [--except ID] [--error-format json]
    python -m protoengine lint DIR [--error-format json]

Every `*.proto` under a folder is read with its path relative to that folder as
its import path (hidden folders such as `.git` or `.venv` are skipped). Findings
go to `out` as buf prints them, `path:line:column:message`, or as one JSON
object per line; compile errors go to `err` in the same format. The exit code
is 0 when nothing is found, 100 when something is (buf's code), and 1 when a
folder does not compile or the command is misused.

No Django here: `python manage.py breaking|lint` calls these same functions.
"""

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TextIO

from protoengine import breaking, bufconfig, lint
from protoengine.compiler import CompilationFailed, CompiledFiles, compile_sources
from protoengine.findings import Finding
from protoengine.folders import UsageError, folder, read_folder

# The exit codes of every command that checks schemas (this CLI, lint, breaking, validate_schemas,
# deploy_schemas, generate_code): buf's, so CI scripts written for buf read them the same way.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_FINDINGS = 100
ERROR_FORMATS = ("text", "json")
CATEGORY_CHOICES = ("FILE", "PACKAGE", "WIRE_JSON", "WIRE")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand with the given arguments (sys.argv's when None) and return its exit code."""
    parser = build_parser()
    options = parser.parse_args(argv)
    if options.command == "breaking":
        return run_breaking(
            options.current_dir,
            options.against,
            categories=options.category,
            rules=options.rule,
            except_=options.except_,
            error_format=options.error_format,
        )
    return run_lint(options.directory, error_format=options.error_format)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m protoengine", description="Check .proto folders for breaking changes and lint findings."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add_breaking_arguments(
        commands.add_parser("breaking", help="Report changes in CURRENT_DIR that break PREVIOUS_DIR's consumers.")
    )
    add_lint_arguments(commands.add_parser("lint", help="Report lint findings in DIR."))
    return parser


def add_breaking_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the `breaking` arguments (shared with `python manage.py breaking`)."""
    parser.add_argument("current_dir", metavar="CURRENT_DIR", help="folder of the new .proto files")
    parser.add_argument("--against", required=True, metavar="PREVIOUS_DIR", help="folder of the previous .proto files")
    parser.add_argument(
        "--category",
        action="append",
        default=[],
        choices=CATEGORY_CHOICES,
        help="run this category's rules (repeatable)",
    )
    parser.add_argument("--rule", action="append", default=[], metavar="ID", help="run this rule (repeatable)")
    parser.add_argument(
        "--except",
        dest="except_",
        action="append",
        default=[],
        metavar="ID",
        help="skip this rule or category (repeatable)",
    )
    parser.epilog = (
        "Without --category, --rule or --except, the `breaking: use/except` of CURRENT_DIR/buf.yaml choose the rules "
        "(FILE when it has none); its `ignore`, `ignore_only` and `ignore_unstable_packages` always apply."
    )
    _add_error_format(parser)


def add_lint_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the `lint` arguments (shared with `python manage.py lint`)."""
    parser.add_argument("directory", metavar="DIR", help="folder of .proto files; its buf.yaml `lint:` section applies")
    _add_error_format(parser)


def _add_error_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--error-format",
        choices=ERROR_FORMATS,
        default="text",
        help="text (path:line:column:message) or json (one object per line)",
    )


def run_breaking(
    current_dir: str | Path,
    against_dir: str | Path,
    *,
    categories: Sequence[str] = (),
    rules: Sequence[str] = (),
    except_: Sequence[str] = (),
    error_format: str = "text",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Compare two folders with the breaking rules and print what breaks; return the exit code."""

    def check() -> list[Finding]:
        settings = bufconfig.breaking_settings(bufconfig.read_buf_yaml(folder(current_dir)))
        rule_ids = _breaking_rule_ids(settings, categories, rules, except_)
        previous, current = _compile_folder(against_dir), _compile_folder(current_dir)
        packages = bufconfig.packages_by_path(_own_files(previous), _own_files(current))
        path_filter = bufconfig.PathFilter(
            settings.ignore, packages, lambda name: breaking.resolve_rule_ids(use=(name,))
        )
        # The compiled sets, not their files: a set knows which well-known files are the folder's own copies.
        return path_filter.apply(breaking.check(previous or (), current or (), rule_ids))

    return _run(check, error_format, out or sys.stdout, err or sys.stderr)


def run_lint(
    directory: str | Path,
    *,
    error_format: str = "text",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Lint a folder with its buf.yaml's `lint:` settings and print the findings; return the exit code."""

    def check() -> list[Finding]:
        document = bufconfig.read_buf_yaml(folder(directory))
        config = lint.LintConfig.from_buf_yaml(document, module_path=bufconfig.root_module_path(document))
        compiled = _compile_folder(directory)
        if compiled is None:
            return []
        # The folder's own files, a copy of a well-known file included: buf lints every file of its module.
        return lint.lint(compiled, config, targets={file.name for file in compiled.own_files})

    return _run(check, error_format, out or sys.stdout, err or sys.stderr)


def _run(check: Callable[[], list[Finding]], error_format: str, out: TextIO, err: TextIO) -> int:
    """Run a check and print its findings; a bad folder, setting or rule name, or a compile error, exits 1."""
    try:
        findings = sorted(check())
    except (UsageError, ValueError) as error:
        err.write(f"{error}\n")
        return EXIT_ERROR
    except CompilationFailed as failure:
        write_findings(failure.errors, error_format, err)
        return EXIT_ERROR
    write_findings(findings, error_format, out)
    return EXIT_FINDINGS if findings else EXIT_OK


def _breaking_rule_ids(settings: bufconfig.BreakingSettings, categories, rules, except_) -> frozenset[str]:
    """Return the rules to run: the flags' when any is given, else the buf.yaml's."""
    if categories or rules or except_:
        use = (*categories, *rules) or bufconfig.DEFAULT_BREAKING_USE
        return breaking.resolve_rule_ids(use=use, except_=tuple(except_))
    return breaking.resolve_rule_ids(use=settings.use, except_=settings.except_)


def write_findings(findings: Iterable[Finding], error_format: str, stream: TextIO) -> None:
    """Print findings as buf does: `path:line:column:message` lines, or one JSON object per line."""
    for finding in findings:
        stream.write(
            (
                json.dumps(finding_json(finding), separators=(",", ":"))
                if error_format == "json"
                else finding_text(finding)
            )
            + "\n"
        )


def finding_text(finding: Finding) -> str:
    """Return buf's text line: `<input>` for a finding without a file, 1:1 for one without a place in it."""
    return f"{finding.path or '<input>'}:{finding.line or 1}:{finding.column or 1}:{finding.message}"


def finding_json(finding: Finding) -> dict:
    """Return buf's JSON shape of a finding; `type` is the rule id.

    Like buf, a finding without a file (a deleted file or package) has no `path`, one without a place in its
    file points at 1:1, and the end of the span is printed when known.
    """
    data = {"path": finding.path} if finding.path else {}
    data.update(start_line=finding.line or 1, start_column=finding.column or 1)
    if finding.end_line or not finding.line:
        data.update(end_line=finding.end_line or 1, end_column=finding.end_column or 1)
    data.update(type=finding.rule, message=finding.message)
    return data


def _compile_folder(directory: str | Path) -> CompiledFiles | None:
    """Compile every file of the folder; None for a folder without .proto files, which is no error."""
    sources = read_folder(directory)
    return compile_sources(sources) if sources else None


def _own_files(compiled: CompiledFiles | None) -> tuple:
    return compiled.own_files if compiled else ()
