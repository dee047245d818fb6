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


def test_a_version_page_shows_its_schema_text_and_semantic_version(page, live_server, owner, catalogue):
    from schemas_app.models import SubjectVersion

    version = SubjectVersion.objects.get(subject__name="trading/market_data.proto", version=1)
    sign_in(page, live_server, "owner", "owner-password")
    page.goto(f"{live_server.url}/admin/schemas_app/subjectversion/{version.pk}/change/")
    body = page.inner_text("#content")
    assert "message TickData" in body and "1.0.0" in body
    assert "Lint findings" in body
