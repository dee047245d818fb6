"""A CI pipeline's account generates Python code from the subject page in a real Chromium, on a real Celery worker."""

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission

from schemas_app import selectors, services
from schemas_app.models import GenerationJob
from schemas_app.tree import tree_register
from tests.browser.conftest import log_in
from tests.integration.celery_workers import Broker, Worker
from tests.integration.codegen.helpers import ORDERS, ORDERS_INPUTS, catalogue_sources

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Screenshots land here for people and CI to look at; var/ is never committed.
ARTIFACTS = Path(settings.VAR_DIR) / "test-artifacts" / "subject-codegen"


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    """A `celery worker` process on this run's own queue; the live server's requests queue their jobs there."""
    broker = Broker()
    with broker.sending():
        worker = Worker(broker.environment(), "codegen-browser")
        yield worker
        worker.stop()


@pytest.fixture
def orders():
    """trading/orders.proto with the common/ files it imports, registered in the default tenant."""
    sources = {path: text for path, text in catalogue_sources().items() if path in ORDERS_INPUTS}
    results = tree_register(tenant=selectors.default_tenant(), sources=sources, acting_user=services.system_account())
    assert not [result.error for result in results if result.error]


@pytest.fixture
def ci_pipeline(django_user_model):
    user = django_user_model.objects.create_user("ci-pipeline", password="ci-password")
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="schemas_app", content_type__model="tenant", codename="start_codegen"
        )
    )
    return user


def test_a_ci_pipeline_generates_python_from_the_subject_page_and_downloads_the_archive(
    page, live_server, worker, orders, ci_pipeline
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live_server, "ci-pipeline", "ci-password")
    subject_page = f"{live_server.url}/ui/subjects/{ORDERS}/"
    page.goto(subject_page)
    row = page.locator("tr#code-python")
    assert "not generated yet" in row.inner_text()

    row.get_by_role("button", name="Generate Python").click()
    bar = page.locator("#code-job progress")
    bar.wait_for()
    first_state = page.inner_text("#code-job .job-state")
    page.locator("#code").evaluate("section => section.scrollIntoView()")
    page.screenshot(path=str(ARTIFACTS / "1-progress.png"), full_page=False)

    download_link = page.locator("#code-job a.download")
    download_link.wait_for(timeout=90_000)
    assert page.url == subject_page  # the script followed the job; the page never changed
    assert bar.evaluate("bar => bar.value === bar.max")
    assert "succeeded" in page.inner_text("#code-job .job-state"), first_state
    page.screenshot(path=str(ARTIFACTS / "2-download-link.png"), full_page=False)

    with page.expect_download() as download_info:
        download_link.click()
    archive = Path(download_info.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        names = set(opened.namelist())
    assert "trading/orders_pb2.py" in names and "common/money_pb2.py" in names
    job = GenerationJob.objects.get()
    assert job.state == "succeeded" and job.attempts == 1
    assert first_state.startswith("Python: "), first_state


def test_without_javascript_the_button_leads_to_a_job_page_that_refreshes_until_the_download_link(
    browser, live_server, worker, orders, ci_pipeline
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, "ci-pipeline", "ci-password")
        page.goto(f"{live_server.url}/ui/subjects/{ORDERS}/")
        page.locator("tr#code-python").get_by_role("button", name="Generate Python").click()
        page.wait_for_url("**/ui/jobs/*/")
        assert page.locator("progress").count() == 1
        page.screenshot(path=str(ARTIFACTS / "3-job-page-without-javascript.png"), full_page=False)

        download_link = page.locator("a.download")
        download_link.wait_for(timeout=90_000)  # the page reloads itself until the job is done
        assert page.locator('meta[http-equiv="refresh"]').count() == 0
        page.screenshot(path=str(ARTIFACTS / "4-job-done-without-javascript.png"), full_page=False)
        with page.expect_download() as download_info:
            download_link.click()
        with zipfile.ZipFile(Path(download_info.value.path())) as opened:
            assert "trading/orders_pb2.py" in opened.namelist()
    finally:
        context.close()
