"""Reviewers see the whole bundled catalogue in the browser, with each version's schema and lint report."""

from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(settings):
    call_command("load_schemas", verbosity=0)
    root = Path(settings.REGISTRY_SCHEMAS_DIR)
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*.proto"))


def test_every_catalogue_file_is_listed_in_the_admin(page, live_server, owner, catalogue, tmp_path):
    sign_in(page, live_server, "owner", "owner-password")
    page.goto(f"{live_server.url}/admin/schemas_app/subject/?all=")
    listed = page.locator("#result_list tbody th a").all_inner_texts()
    assert sorted(listed) == catalogue
    page.screenshot(path=str(tmp_path / "admin-subjects.png"), full_page=True)


LINTED = """syntax = "proto3";

package trading.v1;

// A quote with a field name that breaks the naming rule.
message LintedQuote {
  string tenant_id = 1;
  string clientName = 2;
}
"""


def test_a_version_page_shows_its_schema_text_semantic_version_and_lint_findings(page, live_server, owner, catalogue):
    from schemas_app import selectors, services

    registration = services.subject_version_register(
        tenant=selectors.default_tenant(), subject_name="trading/linted.proto", schema=LINTED, acting_user=owner
    )
    version = registration.subject_version
    [finding] = [f for f in version.lint_findings if f["rule"] == "FIELD_LOWER_SNAKE_CASE"]
    sign_in(page, live_server, "owner", "owner-password")
    page.goto(f"{live_server.url}/admin/schemas_app/subjectversion/{version.pk}/change/")

    assert page.inner_text(".field-schema_text pre").strip() == LINTED.strip()
    assert page.inner_text(".field-semantic_version .readonly") == "1.0.0"
    report = page.inner_text(".field-lint_report table")
    assert "FIELD_LOWER_SNAKE_CASE" in report
    assert f"trading/linted.proto:{finding['line']}:{finding['column']}" in report
