"""People browse the registry's pages in a real Chromium: catalogue, search, schema docs, diff and the audit view."""

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import call_command

from schemas_app.models import SubjectVersion, Tenant
from schemas_app.selectors import schema_references
from schemas_app.services import SYSTEM_USERNAME, subject_version_register, system_account
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SUBJECT = "trading/market_data.proto"


@pytest.fixture
def catalogue_with_two_versions():
    call_command("load_schemas", verbosity=0)
    first = SubjectVersion.objects.select_related("schema").get(subject__name=SUBJECT, version=1)
    changed = first.schema.text.replace("// Market data: ticks", "// Market data (revised): ticks", 1)
    subject_version_register(
        tenant=Tenant.objects.get(slug=Tenant.DEFAULT_SLUG),
        subject_name=SUBJECT,
        schema=changed,
        references=schema_references(first.schema),
        acting_user=system_account(),
    )


def screenshot(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=False)


def test_a_reader_finds_tickdata_reads_its_documentation_and_diffs_two_versions(
    page, live_server, owner, catalogue_with_two_versions, tmp_path
):
    log_in(page, live_server, "owner", "owner-password")
    page.fill("#q", "TickData")
    page.click(".search button")
    links = page.locator("a.subject-link").all_inner_texts()
    assert SUBJECT in links
    screenshot(page, tmp_path, "catalogue-search")

    page.click(f"a.subject-link:text-is('{SUBJECT}')")
    page.wait_for_selector("ol.source")
    assert page.locator("ol.source li#L1 span").count() > 0  # highlighted tokens
    assert page.locator("ol.source span.c1, ol.source span.cm").count() > 0  # comments carry Pygments' classes
    field_row = page.locator("article[id='trading.v1.TickData'] table.fields tr", has_text="timestamp_ms")
    assert field_row.count() == 1 and "int64" in field_row.inner_text()
    screenshot(page, tmp_path, "subject-page")

    page.click("text=Diff with the previous version")
    page.wait_for_selector("table.diff")
    changed = page.locator("table.diff tr[data-changed=true]")
    assert changed.count() == 1 and "revised" in changed.inner_text()
    assert "PATCH" in page.inner_text(".bump")
    screenshot(page, tmp_path, "diff")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/ui/subjects/{SUBJECT}/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    screenshot(page, tmp_path, "subject-phone")


def test_an_auditor_filters_the_audit_trail_by_actor_and_downloads_csv(
    page, live_server, django_user_model, catalogue_with_two_versions, tmp_path
):
    auditor = django_user_model.objects.create_user("auditor", password="auditor-password")
    auditor.user_permissions.add(Permission.objects.get(codename="read_audit", content_type__model="tenant"))
    log_in(page, live_server, "auditor", "auditor-password")
    page.goto(f"{live_server.url}/ui/audit/")
    page.fill("#actor", SYSTEM_USERNAME)
    page.click(".filters button")
    page.wait_for_url("**actor=*")
    actors = set(page.locator("td.actor").all_inner_texts())
    assert actors == {SYSTEM_USERNAME}
    screenshot(page, tmp_path, "audit")
    with page.expect_download() as download_info:
        page.click("#export-csv")
    path = download_info.value.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text())))
    assert rows and {row["actor"] for row in rows} == {SYSTEM_USERNAME}
    assert any(SUBJECT in row["object"] for row in rows)
    assert settings.LOGIN_URL == "/accounts/login/"
