"""Governance rules: tenant ids on tenant packages, PII annotations on personal fields, deprecation markers."""

import pytest

from protoengine.lint import LintConfig
from protoengine.lint.governance import PersonalFields
from tests.unit.protoengine.lint.helpers import OPTIONS_PATH, OPTIONS_TEXT, places, proto3, run

PATH = "a/v1/a.proto"
DEFAULTS = LintConfig()


def personal(field_name, message_name="Record", config=DEFAULTS):
    return config.personal_fields.match(field_name, message_name)


@pytest.mark.parametrize(
    ("field_name", "message_name", "reason"),
    [
        ("email", "Record", "email"),
        ("contact_email", "Record", "email"),
        ("emails", "Record", "email"),
        ("phone_number", "Record", "phone"),
        ("home_address", "Record", "address"),
        ("ip_address", "Session", "address"),
        ("addresses", "Record", "address"),
        ("first_name", "Record", "first_name"),
        ("date_of_birth", "Record", "date_of_birth"),
        ("birth_date", "Record", "birth_date"),
        ("tax_id", "Record", "tax_id"),
        ("iban", "Payout", "iban"),
        ("ssn", "Record", "ssn"),
        ("passport_number", "Record", "passport"),
        ("credit_card_number", "Record", "credit_card"),
        ("user_name", "Record", "user_name"),
        ("owner_name", "Portfolio", "owner_name"),
        ("contactEmail", "Record", "email"),
        ("name", "User", "name"),
        ("display_name", "CustomerProfile", "display_name"),
        ("names", "Trader", "name"),
    ],
)
def test_it_recognises_personal_field_names_by_their_words(field_name, message_name, reason):
    assert personal(field_name, message_name) == reason


@pytest.mark.parametrize(
    ("field_name", "message_name"),
    [
        ("symbol", "TickData"),
        ("model_name", "Prediction"),
        ("file_name", "Report"),
        ("hostname", "Node"),
        ("server_address", "Config"),
        ("bind_address", "Config"),
        ("name", "Strategy"),
        ("display_name", "Model"),
        ("user_id", "Order"),
        ("tenant_id", "Order"),
        ("emailer_count", "Stats"),
        ("named_entity", "Feature"),
    ],
)
def test_it_leaves_impersonal_field_names_alone(field_name, message_name):
    assert personal(field_name, message_name) is None


def test_the_word_lists_come_from_the_configuration():
    config = LintConfig(personal_field_tokens=("salary",), person_words=("pilot",))
    assert personal("base_salary", config=config) == "salary"
    assert personal("email", config=config) is None
    assert personal("pilot_name", config=config) == "pilot_name"
    assert PersonalFields(("home_address",), (), ()).match("home_address", None) == "home_address"


def pii_sources(field_line, *more_lines):
    text = proto3("a.v1", f'import "{OPTIONS_PATH}";', "message User {", field_line, *more_lines, "}")
    return {OPTIONS_PATH: OPTIONS_TEXT, PATH: text}


def test_it_asks_a_personal_field_for_both_options():
    [finding] = run(
        "FIELD_PII_ANNOTATED", pii_sources("  string email = 1;", "  string tenant_id = 2 [(registry.v1.pii) = false];")
    )
    assert (finding.path, finding.line, finding.column) == (PATH, 5, 10)
    assert (
        finding.message
        == 'Field "email" on message "User" looks personal ("email") and should set (registry.v1.pii) = true and a '
        "(registry.v1.classification)."
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            "[(registry.v1.pii) = false, (registry.v1.classification) = DATA_CLASSIFICATION_CONFIDENTIAL]",
            'Field "email" on message "User" looks personal ("email") and should set (registry.v1.pii) = true and a '
            "(registry.v1.classification).",
        ),
        (
            "[(registry.v1.pii) = true]",
            'Field "email" on message "User" sets (registry.v1.pii) = true and should also set a '
            "(registry.v1.classification) other than DATA_CLASSIFICATION_UNSPECIFIED.",
        ),
        (
            "[(registry.v1.pii) = true, (registry.v1.classification) = DATA_CLASSIFICATION_UNSPECIFIED]",
            'Field "email" on message "User" sets (registry.v1.pii) = true and should also set a '
            "(registry.v1.classification) other than DATA_CLASSIFICATION_UNSPECIFIED.",
        ),
    ],
)
def test_it_wants_pii_true_and_a_real_classification(options, message):
    assert [f.message for f in run("FIELD_PII_ANNOTATED", pii_sources(f"  string email = 1 {options};"))] == [message]


def test_it_accepts_annotated_fields_and_ignores_booleans_about_personal_data():
    sources = pii_sources(
        "  repeated string emails = 1 [(registry.v1.pii) = true, (registry.v1.classification) = "
        "DATA_CLASSIFICATION_RESTRICTED];",
        "  bool email_verified = 2;",
        "  map<string, string> labels = 3;",
    )
    assert run("FIELD_PII_ANNOTATED", sources) == []


def tenant_file(*lines, package="trading.v1"):
    return {"trading/v1/a.proto": proto3(package, *lines)}


def test_a_tenant_id_of_the_wrong_type_is_pointed_at_by_its_type():
    [finding] = run("MESSAGE_TENANT_ID", tenant_file("message Order {", "  int64 tenant_id = 1;", "}"))
    assert (finding.line, finding.column) == (4, 3)
    assert finding.message == 'Field "tenant_id" on message "Order" should be a singular string.'
    [repeated] = run("MESSAGE_TENANT_ID", tenant_file("message Order {", "  repeated string tenant_id = 1;", "}"))
    assert repeated.message == 'Field "tenant_id" on message "Order" should be a singular string.'


def test_a_missing_tenant_id_is_reported_on_the_message_name():
    [finding] = run("MESSAGE_TENANT_ID", tenant_file("message Order {}", package="ai.models.v1"))
    assert finding.message == 'Message "Order" in package "ai.models.v1" should have a field "string tenant_id".'


@pytest.mark.parametrize("package", ["tradingdesk.v1", "common.v1", "market.trading.v1"])
def test_tenant_packages_match_whole_leading_components(package):
    assert run("MESSAGE_TENANT_ID", tenant_file("message Order {}", package=package)) == []


def test_the_engine_asks_no_package_for_a_tenant_id_unless_told_which():
    assert run("MESSAGE_TENANT_ID", tenant_file("message Order {}"), LintConfig()) == []


def test_tenant_packages_are_configurable():
    config = LintConfig(tenant_packages=["common"])
    assert places(run("MESSAGE_TENANT_ID", tenant_file("message Money {}", package="common.v1"), config)) == [
        ("MESSAGE_TENANT_ID", "trading/v1/a.proto", 3, 9)
    ]
    assert run("MESSAGE_TENANT_ID", tenant_file("message Order {}"), config) == []


@pytest.mark.parametrize(
    "comment",
    [
        "  // Deprecated: use handle.",
        "  // DEPRECATED. Use handle.",
        "  // The old nickname.\n  // @deprecated since 2024.",
        "  /* deprecated: kept for old clients */",
    ],
)
def test_deprecation_comments_ask_for_the_deprecated_option(comment):
    sources = {PATH: proto3("a.v1", "message User {", comment, "  string nick = 1;", "}")}
    [finding] = run("FIELD_DEPRECATED_MARKED", sources)
    assert (
        finding.message
        == 'Field "nick" on message "User" is documented as deprecated and should be marked [deprecated = true].'
    )


def test_a_trailing_deprecation_comment_counts_and_a_passing_mention_does_not():
    sources = {
        PATH: proto3(
            "a.v1",
            "message User {",
            "  string nick = 1; // Deprecated: use handle.",
            "  // Replaces the deprecated nick field.",
            "  string handle = 2;",
            "}",
        )
    }
    assert places(run("FIELD_DEPRECATED_MARKED", sources)) == [("FIELD_DEPRECATED_MARKED", PATH, 4, 10)]
