"""LintConfig: categories, settings, and reading buf.yaml's lint section in its v1 and v2 layouts."""

from pathlib import Path

import pytest
import yaml

from protoengine.lint import CATEGORIES, LINT_RULES, LintConfig, lint_sources, rules_of_category
from tests.unit.protoengine.lint.helpers import proto3, run

GOVERNANCE_RULES = {"MESSAGE_TENANT_ID", "FIELD_PII_ANNOTATED", "FIELD_DEPRECATED_MARKED"}
CATALOGUE_BUF_YAML = Path(__file__).resolve().parents[4] / "schemas" / "buf.yaml"


def test_the_categories_nest_as_in_buf():
    minimal, basic, standard = (set(rules_of_category(name)) for name in ("MINIMAL", "BASIC", "STANDARD"))
    assert minimal == {
        "DIRECTORY_SAME_PACKAGE",
        "PACKAGE_DEFINED",
        "PACKAGE_DIRECTORY_MATCH",
        "PACKAGE_NO_IMPORT_CYCLE",
        "PACKAGE_SAME_DIRECTORY",
    }
    assert minimal < basic < standard
    assert standard - basic == {
        "ENUM_VALUE_PREFIX",
        "ENUM_ZERO_VALUE_SUFFIX",
        "FILE_LOWER_SNAKE_CASE",
        "PACKAGE_VERSION_SUFFIX",
        "RPC_REQUEST_RESPONSE_UNIQUE",
        "RPC_REQUEST_STANDARD_NAME",
        "RPC_RESPONSE_STANDARD_NAME",
        "SERVICE_SUFFIX",
    }
    assert set(rules_of_category("DEFAULT")) == standard
    # buf 1.75 keeps IMPORT_NO_WEAK only as a deprecated id in no category.
    assert (
        LINT_RULES["IMPORT_NO_WEAK"].categories == ()
        and "IMPORT_NO_WEAK" in LintConfig(use=["IMPORT_NO_WEAK"]).rule_ids
    )
    assert set(rules_of_category("GOVERNANCE")) == GOVERNANCE_RULES
    assert set(rules_of_category("UNARY_RPC")) == {"RPC_NO_CLIENT_STREAMING", "RPC_NO_SERVER_STREAMING"}
    assert len(rules_of_category("COMMENTS")) == 7 and len(rules_of_category("PACKAGE_AFFINITY")) == 7
    assert all(set(rule.categories) <= set(CATEGORIES) for rule in LINT_RULES.values())


def test_the_default_is_standard_plus_governance():
    assert LintConfig().rule_ids == set(rules_of_category("STANDARD")) | GOVERNANCE_RULES


def test_it_refuses_unknown_rule_ids_and_bare_strings_at_construction():
    with pytest.raises(ValueError, match='Unknown lint rule or category "FIELD_LOWER_CASE" in "except"'):
        LintConfig(except_=["FIELD_LOWER_CASE"])
    with pytest.raises(ValueError, match="not the single string"):
        LintConfig(use="STANDARD")
    with pytest.raises(ValueError, match='"NOPE" in "ignore_only"'):
        LintConfig(ignore_only={"NOPE": ["a"]})
    assert LintConfig(use=["STANDARD", "PROTOVALIDATE"]).rule_ids == LintConfig(use=["STANDARD"]).rule_ids


def test_it_reads_a_v1_buf_yaml():
    config = LintConfig.from_buf_yaml(
        {
            "version": "v1",
            "lint": {
                "use": ["DEFAULT"],
                "except": ["ENUM_VALUE_PREFIX"],
                "ignore": ["vendor/"],
                "ignore_only": {"FIELD_LOWER_SNAKE_CASE": ["legacy"]},
                "allow_comment_ignores": True,
                "enum_zero_value_suffix": "_NONE",
                "service_suffix": "API",
                "rpc_allow_same_request_response": True,
                "rpc_allow_google_protobuf_empty_requests": True,
            },
        }
    )
    # buf 1.75's v1 STANDARD has neither FIELD_NOT_REQUIRED nor PACKAGE_NO_IMPORT_CYCLE.
    v1_standard = set(rules_of_category("STANDARD")) - {"FIELD_NOT_REQUIRED", "PACKAGE_NO_IMPORT_CYCLE"}
    assert config.rule_ids == v1_standard - {"ENUM_VALUE_PREFIX"} | GOVERNANCE_RULES
    assert config.ignore == ("vendor",) and config.ignore_only == (("FIELD_LOWER_SNAKE_CASE", ("legacy",)),)
    assert (config.enum_zero_value_suffix, config.service_suffix) == ("_NONE", "API")
    assert (
        config.allow_comment_ignores
        and config.rpc_allow_same_request_response
        and config.rpc_allow_google_protobuf_empty_requests
    )
    assert config.ignores("FIELD_LOWER_SNAKE_CASE", "legacy/a.proto") and not config.ignores(
        "FIELD_NOT_REQUIRED", "legacy/a.proto"
    )


def test_comment_ignores_are_opt_in_before_v2_and_opt_out_from_v2():
    assert not LintConfig.from_buf_yaml({"version": "v1", "lint": {}}).allow_comment_ignores
    assert not LintConfig.from_buf_yaml({"version": "v1beta1"}).allow_comment_ignores
    assert LintConfig.from_buf_yaml({"version": "v2", "lint": {}}).allow_comment_ignores
    assert not LintConfig.from_buf_yaml(
        {"version": "v2", "lint": {"disallow_comment_ignores": True}}
    ).allow_comment_ignores


def test_a_v2_module_lint_section_replaces_the_workspace_one_and_its_paths_become_module_relative():
    data = {
        "version": "v2",
        "modules": [
            {"path": "proto", "lint": {"use": ["MINIMAL"], "ignore": ["proto/legacy", "other/x.proto"]}},
            {"path": "vendor"},
        ],
        "lint": {"use": ["STANDARD"], "except": ["SERVICE_SUFFIX"]},
    }
    module = LintConfig.from_buf_yaml(data, module_path="proto")
    assert module.rule_ids == set(rules_of_category("MINIMAL")) | GOVERNANCE_RULES
    assert module.ignore == ("legacy", "other/x.proto")
    assert "SERVICE_SUFFIX" not in LintConfig.from_buf_yaml(data, module_path="vendor").rule_ids
    assert "SERVICE_SUFFIX" not in LintConfig.from_buf_yaml(data).rule_ids


def test_governance_rules_run_under_any_use_list():
    assert (
        LintConfig.from_buf_yaml({"version": "v2", "lint": {"use": ["STANDARD", "COMMENTS"]}}).rule_ids
        == LintConfig(use=["STANDARD", "GOVERNANCE", "COMMENTS"]).rule_ids
    )
    assert LintConfig.from_buf_yaml({"version": "v1", "lint": {"use": ["DEFAULT"]}}).rule_ids >= GOVERNANCE_RULES
    assert (
        LintConfig.from_buf_yaml({"version": "v2", "lint": {"use": ["BASIC"]}}).rule_ids
        == set(rules_of_category("BASIC")) | GOVERNANCE_RULES
    )
    assert (
        LintConfig.from_buf_yaml({"version": "v2", "lint": {"use": ["MINIMAL"]}}).rule_ids
        == set(rules_of_category("MINIMAL")) | GOVERNANCE_RULES
    )
    assert LintConfig.from_buf_yaml({"use": ["FIELD_LOWER_SNAKE_CASE"]}).rule_ids == {"FIELD_LOWER_SNAKE_CASE"} | (
        GOVERNANCE_RULES
    )
    assert LintConfig.from_buf_yaml({"use": ["MESSAGE_TENANT_ID"]}).rule_ids == GOVERNANCE_RULES
    assert LintConfig(use=["BASIC"]).rule_ids >= GOVERNANCE_RULES
    assert LintConfig.from_buf_yaml({"version": "v2", "lint": {"disable_builtin": True}}).rule_ids == GOVERNANCE_RULES


def test_a_v1_buf_yaml_s_categories_leave_out_what_buf_1_75_leaves_out_of_them():
    v1_basic = LintConfig.from_buf_yaml({"version": "v1", "lint": {"use": ["BASIC"]}}).rule_ids
    assert not {"FIELD_NOT_REQUIRED", "PACKAGE_NO_IMPORT_CYCLE"} & v1_basic
    assert v1_basic | {"FIELD_NOT_REQUIRED", "PACKAGE_NO_IMPORT_CYCLE"} == set(rules_of_category("BASIC")) | (
        GOVERNANCE_RULES
    )
    named = LintConfig.from_buf_yaml({"version": "v1", "lint": {"use": ["MINIMAL", "PACKAGE_NO_IMPORT_CYCLE"]}})
    assert "PACKAGE_NO_IMPORT_CYCLE" in named.rule_ids
    assert "FIELD_NOT_REQUIRED" in LintConfig.from_buf_yaml({"version": "v2", "lint": {"use": ["BASIC"]}}).rule_ids


def test_governance_rules_stop_only_when_except_names_them():
    assert not GOVERNANCE_RULES & LintConfig.from_buf_yaml({"use": ["STANDARD"], "except": ["GOVERNANCE"]}).rule_ids
    assert LintConfig.from_buf_yaml({"use": ["BASIC"], "except": ["MESSAGE_TENANT_ID"]}).rule_ids == set(
        rules_of_category("BASIC")
    ) | {"FIELD_PII_ANNOTATED", "FIELD_DEPRECATED_MARKED"}
    assert LintConfig.from_buf_yaml(
        {"version": "v2", "lint": {"except": ["SERVICE_SUFFIX"]}}
    ).rule_ids == LintConfig().rule_ids - {"SERVICE_SUFFIX"}
    assert not GOVERNANCE_RULES & LintConfig(use=["MINIMAL"]).with_except(["GOVERNANCE"]).rule_ids


def test_a_narrower_use_still_reports_governance_findings():
    text = proto3("trading.v1", "message Order {", "  string email = 1;", "}")
    findings = lint_sources({"trading/v1/order.proto": text}, LintConfig.from_buf_yaml({"use": ["MINIMAL"]}))
    assert [f.rule for f in findings] == ["FIELD_PII_ANNOTATED"]
    quiet = LintConfig.from_buf_yaml({"use": ["MINIMAL"], "except": ["FIELD_PII_ANNOTATED"]})
    assert lint_sources({"trading/v1/order.proto": text}, quiet) == []


def test_our_own_settings_may_sit_in_the_lint_section():
    config = LintConfig.from_buf_yaml(
        {
            "tenant_packages": ["desk"],
            "person_words": ["pilot"],
            "personal_field_tokens": ["salary"],
            "non_personal_field_phrases": [],
        }
    )
    assert config.tenant_packages == ("desk",) and config.personal_fields.match("pilot_name", None) == "pilot_name"


@pytest.mark.parametrize(
    ("data", "module_path", "message"),
    [
        ({"version": "v1", "lint": {"excepts": []}}, None, "Unknown key"),
        ({"version": "v1", "lint": {"disallow_comment_ignores": True}}, None, "Unknown key"),
        ({"version": "v3"}, None, "unknown version"),
        ({"version": "v1"}, "proto", "module_path is for v2"),
        ({"version": "v2", "modules": [{"path": "proto"}]}, "api", 'No module with path "api"'),
        ({"version": "v2", "lint": {"use": ["STANDARD", "TYPO"]}}, None, '"TYPO" in "use"'),
    ],
)
def test_it_explains_what_is_wrong_with_a_buf_yaml(data, module_path, message):
    with pytest.raises(ValueError, match=message):
        LintConfig.from_buf_yaml(data, module_path=module_path)


def test_the_catalogue_buf_yaml_reads():
    assert LintConfig.from_buf_yaml(yaml.safe_load(CATALOGUE_BUF_YAML.read_text())).rule_ids >= GOVERNANCE_RULES


def test_settings_change_what_the_rules_accept():
    zero = {"a/v1/a.proto": proto3("a.v1", "enum Level {", "  LEVEL_NONE = 0;", "}")}
    assert run("ENUM_ZERO_VALUE_SUFFIX", zero, LintConfig(enum_zero_value_suffix="_NONE")) == []
    service = {"a/v1/a.proto": proto3("a.v1", "service OrderAPI {}")}
    assert run("SERVICE_SUFFIX", service, LintConfig(service_suffix="API")) == []


def test_google_protobuf_empty_may_be_allowed_as_request_and_response():
    sources = {
        "a/v1/a.proto": proto3(
            "a.v1",
            'import "google/protobuf/empty.proto";',
            "service PingService {",
            "  rpc Ping(google.protobuf.Empty) returns (google.protobuf.Empty);",
            "  rpc Pong(google.protobuf.Empty) returns (google.protobuf.Empty);",
            "}",
        )
    }
    rules = ["RPC_REQUEST_STANDARD_NAME", "RPC_RESPONSE_STANDARD_NAME", "RPC_REQUEST_RESPONSE_UNIQUE"]
    strict = run(rules, sources)
    assert {f.rule for f in strict} == set(rules)
    requests_only = run(rules, sources, LintConfig(rpc_allow_google_protobuf_empty_requests=True))
    assert {f.message for f in requests_only if f.rule == "RPC_REQUEST_RESPONSE_UNIQUE"} == {
        'RPC "Ping" has the same type "google.protobuf.Empty" for the request and response.',
        'RPC "Pong" has the same type "google.protobuf.Empty" for the request and response.',
        '"google.protobuf.Empty" is used as the response for multiple RPCs.',
    }
    assert "RPC_REQUEST_STANDARD_NAME" not in {f.rule for f in requests_only}
    both = LintConfig(rpc_allow_google_protobuf_empty_requests=True, rpc_allow_google_protobuf_empty_responses=True)
    assert run(rules, sources, both) == []
