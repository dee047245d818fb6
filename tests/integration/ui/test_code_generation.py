"""The subject page's code section: who may generate, the job page without JavaScript, downloads and tenants."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import storages
from django.test import Client

from schemas_app.models import Artifact, GenerationJob, Tenant, TenantBinding
from schemas_app.services import subject_version_register, system_account

pytestmark = pytest.mark.django_db

SUBJECT = "acme/tick.proto"
TICK = """syntax = "proto3";
package acme.v1;

message Tick {
  int64 timestamp_ms = 1;
  double price = 2;
}
"""
SUBJECT_PAGE = f"/ui/subjects/{SUBJECT}/"
GENERATE = f"/ui/subjects/{SUBJECT}/generate/"
PYTHON = {"language": "python", "version": "1", "tenant": Tenant.DEFAULT_SLUG}
# What a browser sends; API clients asking for anything else get errors as JSON.
HTML = "text/html,application/xhtml+xml,*/*;q=0.8"


@pytest.fixture(autouse=True)
def _empty_archive_storage():
    import shutil

    yield
    shutil.rmtree(storages["codegen"].location, ignore_errors=True)


@pytest.fixture
def tick():
    tenant = Tenant.objects.get_or_create(slug=Tenant.DEFAULT_SLUG, defaults={"name": "Default tenant"})[0]
    subject_version_register(tenant=tenant, subject_name=SUBJECT, schema=TICK, acting_user=system_account())


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ci_browser(generator):
    """A CI pipeline's account in a browser session: it reads, and holds the codegen role (a model permission)."""
    return client_of(generator)


@pytest.fixture
def reader(writer):
    """The writer reads and registers in the default tenant but holds no codegen role."""
    return client_of(writer)


def generate_forms(page: str) -> list[str]:
    return re.findall(r'<form method="post" action="[^"]*/generate/" class="generate"', page)


def test_a_codegen_user_sees_a_generate_button_for_each_available_language(ci_browser, tick):
    page = ci_browser.get(SUBJECT_PAGE).content.decode()

    assert "Generate Python" in page and "Generate TypeScript" in page
    assert len(generate_forms(page)) >= 3
    assert 'name="csrfmiddlewaretoken"' in page
    assert "codegen.js" in page


def test_without_javascript_the_post_leads_to_a_job_page_that_refreshes_until_the_job_ends(
    ci_browser, tick, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the job stays queued: no worker took it yet
        started = ci_browser.post(GENERATE, PYTHON)
    assert started.status_code == 302
    job = GenerationJob.objects.get()
    assert started["Location"] == f"/ui/jobs/{job.pk}/"

    waiting = ci_browser.get(started["Location"]).content.decode()
    assert '<meta http-equiv="refresh"' in waiting and "<progress" in waiting and "Queued" in waiting
    assert 'class="download"' not in waiting
    assert f'href="/ui/subjects/{SUBJECT}/#code"' in waiting

    from schemas_app.codegen_jobs import generation_run

    generation_run(job_id=job.pk)
    done = ci_browser.get(started["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in done
    assert f'href="/generated/python/{GenerationJob.objects.get().version}"' in done


def test_the_pages_script_gets_the_jobs_urls_as_json(ci_browser, tick, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        started = ci_browser.post(GENERATE, PYTHON, HTTP_ACCEPT="application/json")

    assert started.status_code == 202
    body = started.json()
    assert body["page_url"] == f"/ui/jobs/{body['job_id']}/"
    assert ci_browser.get(body["status_url"]).json()["state"] == "succeeded"
    assert ci_browser.get(body["download_url"]).status_code == 200


def test_a_post_without_the_csrf_token_is_refused(tick, django_user_model):
    user = django_user_model.objects.create_superuser("root", password="root-password")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)

    assert strict.post(GENERATE, PYTHON).status_code == 403
    assert not GenerationJob.objects.exists()


def test_without_the_codegen_role_there_is_no_button_the_post_is_refused_and_stored_archives_download(
    ci_browser, reader, tick, django_capture_on_commit_callbacks
):
    page = reader.get(SUBJECT_PAGE).content.decode()
    assert generate_forms(page) == []
    assert "needs the codegen role" in page
    assert "not generated yet" in page

    refused = reader.post(GENERATE, PYTHON, HTTP_ACCEPT=HTML)
    assert refused.status_code == 403 and b"codegen role" in refused.content
    assert reader.post(GENERATE, PYTHON, HTTP_ACCEPT="application/json").json()["error_code"] == 40301
    assert not GenerationJob.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        ci_browser.post(GENERATE, PYTHON)
    artifact = Artifact.objects.get()
    page = reader.get(SUBJECT_PAGE).content.decode()
    assert f'href="/generated/python/{artifact.version}"' in page
    assert reader.get(f"/generated/python/{artifact.version}").status_code == 200


def test_another_tenants_subject_and_job_answer_404(
    ci_browser, tick, django_user_model, django_capture_on_commit_callbacks
):
    globex = Tenant.objects.create(slug="globex", name="Globex")
    stranger = django_user_model.objects.create_user("stranger", password="x")
    TenantBinding.objects.create(user=stranger, tenant=globex)
    stranger.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="schemas_app", content_type__model="tenant", codename="start_codegen"
        )
    )
    outsider = client_of(stranger)
    with django_capture_on_commit_callbacks(execute=True):
        job_page = ci_browser.post(GENERATE, PYTHON)["Location"]

    assert outsider.get(SUBJECT_PAGE).status_code == 404
    assert outsider.post(GENERATE, PYTHON).status_code == 404
    assert outsider.post(GENERATE, {**PYTHON, "tenant": "globex"}).status_code == 404
    assert outsider.get(job_page).status_code == 404
    assert GenerationJob.objects.count() == 1


def test_an_anonymous_post_is_sent_to_the_login_page(client, tick):
    response = client.post(GENERATE, PYTHON)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not GenerationJob.objects.exists()


def test_an_unknown_language_is_refused_with_its_name_escaped(ci_browser, tick):
    response = ci_browser.post(GENERATE, {**PYTHON, "language": "<script>alert(1)</script>"}, HTTP_ACCEPT=HTML)

    assert response.status_code == 404
    body = response.content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_failed_job_shows_protocs_message_escaped(ci_browser, tick, django_user_model):
    user = django_user_model.objects.get(username="ci-bot")
    job = GenerationJob.objects.create(
        tenant=Tenant.objects.get(slug=Tenant.DEFAULT_SLUG),
        language="python",
        version="2" * 64,
        requested_by=user,
        sources={"acme/bad.proto": 'syntax = "proto3";\nmessage Bad { strin <b>name</b> = 1; }\n'},
        roots=["acme/bad.proto"],
    )
    from schemas_app.codegen_jobs import generation_run

    generation_run(job_id=job.pk)
    body = ci_browser.get(f"/ui/jobs/{job.pk}/").content.decode()

    assert 'class="job-error"' in body and "acme/bad.proto:2:" in body
    assert "<b>name" not in body
