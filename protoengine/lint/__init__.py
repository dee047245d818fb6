"""Lint .proto schemas: buf's MINIMAL/BASIC/STANDARD/COMMENTS/UNARY_RPC rules plus our GOVERNANCE rules.

    from protoengine.lint import LintConfig, lint_sources

    findings = lint_sources({"trading/v1/orders.proto": text}, LintConfig().with_except(["SERVICE_SUFFIX"]))

`LINT_RULES` maps each rule id to its row (purpose, categories, check). A
`// lint:ignore RULE_ID` (or buf's `// buf:lint:ignore RULE_ID`) comment on an
element, on its message/enum/service, or for file rules on the syntax or
package statement, silences that rule there.
"""

from protoengine.lint.catalog import CATEGORIES, LINT_RULES, rules_of_category
from protoengine.lint.config import LintConfig
from protoengine.lint.engine import lint, lint_sources
from protoengine.lint.model import LintRule

__all__ = ["CATEGORIES", "LINT_RULES", "LintConfig", "LintRule", "lint", "lint_sources", "rules_of_category"]
