"""Small builders shared by the lint tests."""

from dataclasses import replace
from pathlib import Path

from protoengine.lint import LintConfig, lint_sources
from protoengine.lint.governance import GOVERNANCE_RULES

OPTIONS_PATH = "schemaregistry/options.proto"
OPTIONS_TEXT = (Path(__file__).resolve().parents[4] / "schemas" / OPTIONS_PATH).read_text()
# The engine names no tenant packages; these tests use the bundled catalogue's, as the registry passes them in.
TENANT_PACKAGES = ("trading", "ai", "system")


def proto3(package: str, *lines: str) -> str:
    """Return a proto3 file: line 1 is the syntax, line 2 the package, then `lines` from line 3."""
    return "\n".join(['syntax = "proto3";', f"package {package};", *lines]) + "\n"


def run(rule_ids, sources, config: LintConfig | None = None):
    """Lint with only the given rules switched on and return the findings.

    The governance rules run whatever `use` says, so those not asked for are named in `except`.
    """
    if isinstance(rule_ids, str):
        rule_ids = [rule_ids]
    config = config or LintConfig(tenant_packages=TENANT_PACKAGES)
    others = tuple(rule.id for rule in GOVERNANCE_RULES if rule.id not in rule_ids)
    return lint_sources(sources, replace(config, use=tuple(rule_ids), except_=config.except_ + others))


def places(findings):
    """Return (rule, path, line, column) of each finding."""
    return [(f.rule, f.path, f.line, f.column) for f in findings]
