"""A platform admin works through the review queue in a real browser: highlighted diff, findings, approve."""

from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.browser.conftest import sign_in
from tests.integration.api.helpers import TICK_V1, TICK_V2_CHANGES_TYPE, put, register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Screenshots land here for people and CI to look at; var/ is never committed.
ARTIFACTS = Path(settings.VAR_DIR) / "test-artifacts" / "review-console"


@pytest.fixture
def pending_review(writer):
    author = APIClient()
    author.force_authenticate(writer)
    assert put(author, "/config", {"noticeHours": 0}).status_code == 200
    register(author, "ticks-value", TICK_V1)
    response = register(author, "ticks-value", TICK_V2_CHANGES_TYPE)
    assert response.status_code == 202
    return response.json()["review_id"]


def test_a_platform_admin_opens_the_queue_reads_the_diff_and_findings_and_approves(
    page, live_server, owner, pending_review
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, live_server, "owner", "owner-password")
    page.goto(f"{live_server.url}/admin/schemas_app/changerequest/")
    first_row = page.locator("#result_list tbody tr").first
    assert "Pending" in first_row.inner_text() and "ticks-value" in first_row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "1-queue.png"), full_page=True)

    first_row.locator("th a").click()
    page.wait_for_selector("table.side-by-side")
    changed = page.locator("table.side-by-side tr.changed")
    assert changed.count() == 1
    assert "double" in changed.locator("td.old").inner_text() and "float" in changed.locator("td.new").inner_text()
    # Pygments marks keywords and types with its own classes inside the highlighted table.
    assert page.locator("table.side-by-side td.code span.kt").count() > 0
    findings = page.inner_text(".field-compatibility_report")
    assert "FIELD_WIRE_JSON_COMPATIBLE_TYPE" in findings and "ticks-value.proto:6:3" in findings
    assert "2.0.0" in page.inner_text(".field-semantic_version")
    page.screenshot(path=str(ARTIFACTS / "2-review.png"), full_page=True)

    page.click("#approve-button")
    page.wait_for_selector(".messagelist")
    assert "approved and registered" in page.inner_text(".messagelist")
    assert "Approved" in page.inner_text(".field-status")
    page.screenshot(path=str(ARTIFACTS / "3-approved.png"), full_page=True)

    from schemas_app.models import SubjectVersion

    assert list(SubjectVersion.objects.filter(subject__name="ticks-value").values_list("version", flat=True)) == [1, 2]
