"""The code generation API with tasks run in-process (the quick start's mode): answers, cache, permissions, retention.

The same flows against a real Celery worker are in test_worker.py.
"""

import io
import tarfile
from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from schemas_app import access
from schemas_app import codegen_jobs as services
from schemas_app.models import Artifact, GenerationJob, Tenant, TenantBinding
from tests.integration.codegen.helpers import ORDERS, ORDERS_INPUTS, body_of, zip_names


def generate(ci, run_on_commit, language="python", **body):
    return run_on_commit(lambda: ci.post(f"/generate/{language}", body or {"subject": ORDERS}, format="json"))


def test_it_lists_every_language_with_its_tools_and_whether_it_is_available(ci):
    languages = {entry["language"]: entry for entry in ci.get("/generate/languages").json()["languages"]}

    assert set(languages) >= {"python", "typescript", "go", "java", "kotlin", "csharp", "cpp", "ruby", "php", "objc"}
    assert "docs" in languages
    assert languages["python"]["available"] is True
    assert languages["python"]["tools"]["grpcio-tools"]
    assert languages["java"]["packages"] == ["protobuf-compiler (Debian)"]


def test_a_first_request_answers_202_and_the_job_produces_a_downloadable_zip(ci, catalogue, run_on_commit):
    response = generate(ci, run_on_commit)

    assert response.status_code == 202, response.json()
    started = response.json()
    assert set(started) >= {"job_id", "status_url", "download_url"}
    job = ci.get(started["status_url"]).json()
    assert job["state"] == "succeeded"
    assert job["progress"]["done"] == job["progress"]["total"] > 0
    assert job["size"] > 0 and job["timings"]["run_seconds"] is not None
    download = ci.get(started["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    names = zip_names(body_of(download))
    assert {"trading/orders_pb2.py", "trading/orders_pb2.pyi", "trading/orders_pb2_grpc.py"} <= names
    assert {"common/money_pb2.py", "common/timestamp_pb2.py", "common/__init__.py", "trading/__init__.py"} <= names
    assert {"pyproject.toml", "generation.json"} <= names


def test_the_same_input_again_answers_200_at_once_from_the_cache(ci, catalogue, run_on_commit):
    first = generate(ci, run_on_commit).json()

    again = generate(ci, run_on_commit)

    assert again.status_code == 200
    assert again.json()["download_url"] == first["download_url"]
    assert again.json()["cached"] is True
    assert Artifact.objects.count() == 1


def test_a_tarball_holds_the_same_files_as_the_zip(ci, catalogue, run_on_commit):
    started = generate(ci, run_on_commit).json()

    tarball = body_of(ci.get(started["download_url"] + "?format=tar.gz"))

    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        assert set(archive.getnames()) == zip_names(body_of(ci.get(started["download_url"])))
        assert {member.mtime for member in archive.getmembers()} == {0}


def test_regenerating_an_input_gives_identical_bytes(ci, catalogue, run_on_commit):
    started = generate(ci, run_on_commit).json()
    first_zip = body_of(ci.get(started["download_url"]))
    first_tar = body_of(ci.get(started["download_url"] + "?format=tar.gz"))
    Artifact.objects.all().delete()

    again = generate(ci, run_on_commit)

    assert again.status_code == 202
    assert again.json()["download_url"] == started["download_url"]
    assert body_of(ci.get(started["download_url"])) == first_zip
    assert body_of(ci.get(started["download_url"] + "?format=tar.gz")) == first_tar


def test_the_version_covers_every_import_pinned_to_the_referenced_versions(ci, catalogue, run_on_commit):
    started = generate(ci, run_on_commit, "docs").json()

    job = GenerationJob.objects.get(pk=started["job_id"])

    assert set(job.sources) == ORDERS_INPUTS
    assert set(job.subjects) == ORDERS_INPUTS
    assert job.selection["resolved"] == [{"subject": ORDERS, "version": 1, "path": ORDERS}]
    names = zip_names(body_of(ci.get(started["download_url"])))
    assert {"trading/orders.md", "trading/orders.html", "common/money.md", "index.html"} <= names


def test_latest_redirects_to_the_current_archive_of_a_subject(ci, catalogue, run_on_commit):
    started = generate(ci, run_on_commit).json()

    response = ci.get("/generated/python/latest", {"subject": ORDERS})

    assert response.status_code == 302
    assert started["download_url"].endswith(response["Location"])


def test_latest_of_a_subject_never_generated_is_not_found(ci, catalogue):
    response = ci.get("/generated/python/latest", {"subject": ORDERS})

    assert response.status_code == 404
    assert response.json()["error_code"] == 40452


def test_an_unknown_language_is_not_found(ci, catalogue):
    response = ci.post("/generate/cobol", {"subject": ORDERS}, format="json")

    assert response.status_code == 404
    assert "choose one of" in response.json()["message"]


def test_a_language_whose_plugin_is_missing_names_the_package(ci, catalogue, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))

    response = ci.post("/generate/go", {"subject": ORDERS}, format="json")

    assert response.status_code == 503
    assert "apt-get install protoc-gen-go" in response.json()["message"]


def test_it_rejects_an_anonymous_request(anonymous, catalogue):
    assert anonymous.post("/generate/python", {"subject": ORDERS}, format="json").status_code == 401


def test_it_rejects_a_user_without_the_codegen_role(outsider_client, catalogue):
    response = outsider_client.post("/generate/python", {"subject": ORDERS}, format="json")

    assert response.status_code == 403
    assert not GenerationJob.objects.exists()


def test_anonymous_clients_read_nothing_while_anonymous_reads_are_off(ci, anonymous, catalogue, run_on_commit):
    started = generate(ci, run_on_commit).json()

    assert anonymous.get(started["download_url"]).status_code == 401
    assert anonymous.get(started["status_url"]).status_code == 401


def test_an_account_of_another_tenant_cannot_follow_or_download_the_job(ci, catalogue, run_on_commit, outsider):
    started = generate(ci, run_on_commit).json()
    TenantBinding.objects.create(user=outsider, tenant=Tenant.objects.create(slug="acme", name="Acme"))
    client = APIClient()
    client.force_authenticate(outsider)

    assert client.get(started["download_url"]).status_code == 404
    assert client.get(started["status_url"]).status_code == 404
    assert client.get("/generated/python/latest", {"subject": ORDERS}).status_code == 404


def test_a_reader_of_the_tenant_downloads_what_someone_else_generated(ci, catalogue, run_on_commit, outsider_client):
    started = generate(ci, run_on_commit).json()

    assert outsider_client.get(started["download_url"]).status_code == 200
    assert outsider_client.get(started["status_url"]).json()["state"] == "succeeded"


def test_a_tenant_the_caller_cannot_see_is_not_found(ci, catalogue):
    Tenant.objects.create(slug="acme", name="Acme")
    response = ci.post("/generate/python", {"subject": ORDERS, "tenant": "acme"}, format="json")

    assert response.status_code == 404


def test_a_subject_of_another_tenant_is_not_found(admin, catalogue):
    Tenant.objects.create(slug="acme", name="Acme")

    response = admin.post("/generate/python", {"subject": ORDERS, "tenant": "acme"}, format="json")

    assert response.status_code == 404
    assert response.json()["error_code"] == 40401


def test_an_unknown_version_of_a_known_subject_is_40402_and_an_unknown_subject_40401(ci, catalogue):
    version = ci.post("/generate/python", {"subject": ORDERS, "version": "99"}, format="json")
    subject = ci.post("/generate/python", {"subject": "trading/nothing.proto", "version": "1"}, format="json")

    assert (version.status_code, version.json()["error_code"]) == (404, 40402)
    assert (subject.status_code, subject.json()["error_code"]) == (404, 40401)


def test_a_codegen_grant_on_a_prefix_covers_only_its_subjects(catalogue, outsider, outsider_client, owner):
    group = Group.objects.create(name="trading-ci")
    outsider.groups.add(group)
    access.grant_role("codegen", group=group, target=access.grant_target(prefix="trading/*"), acting_user=owner)

    assert outsider_client.post("/generate/docs", {"subject": ORDERS}, format="json").status_code == 202
    assert outsider_client.post("/generate/docs", {"subject": "common/money.proto"}, format="json").status_code == 403


def test_everything_the_caller_may_read_generates_in_one_archive(ci, catalogue, run_on_commit):
    started = generate(ci, run_on_commit, "python", all=True).json()

    names = zip_names(body_of(ci.get(started["download_url"])))

    assert {f"{result.path.removesuffix('.proto')}_pb2.py" for result in catalogue} <= names


def test_a_job_that_cannot_generate_says_why_with_file_line_and_column(catalogue, generator):
    job = GenerationJob.objects.create(
        tenant=Tenant.objects.get(slug="default"),
        language="python",
        version="0" * 64,
        sources={"shop/item.proto": 'syntax = "proto3";\npackage shop.v1;\nmessage Item { strin name = 1; }\n'},
        roots=["shop/item.proto"],
    )

    services.generation_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.state == "failed"
    assert job.error["details"][0] | {"message": ""} == {
        "file": "shop/item.proto",
        "line": 3,
        "column": 16,
        "message": "",
    }


def jobs_counted(result: str, language: str = "python") -> float:
    return REGISTRY.get_sample_value("registry_codegen_jobs_total", {"language": language, "result": result}) or 0.0


def jobs_timed(language: str = "python") -> float:
    return REGISTRY.get_sample_value("registry_codegen_job_seconds_count", {"language": language}) or 0.0


def test_finished_jobs_are_counted_by_language_and_result_and_answers_from_the_cache_are_not(
    ci, catalogue, run_on_commit
):
    succeeded, failed, timed = jobs_counted("succeeded"), jobs_counted("failed"), jobs_timed()

    assert generate(ci, run_on_commit).status_code == 202
    assert (jobs_counted("succeeded"), jobs_counted("failed"), jobs_timed()) == (succeeded + 1, failed, timed + 1)

    assert generate(ci, run_on_commit).status_code == 200  # from the cache: no job ran
    assert jobs_counted("succeeded") == succeeded + 1

    broken = GenerationJob.objects.create(
        tenant=Tenant.objects.get(slug="default"),
        language="python",
        version="1" * 64,
        sources={"shop/item.proto": 'syntax = "proto3";\nmessage Item { strin name = 1; }\n'},
        roots=["shop/item.proto"],
    )
    services.generation_run(job_id=broken.pk)
    assert (jobs_counted("succeeded"), jobs_counted("failed"), jobs_timed()) == (succeeded + 1, failed + 1, timed + 2)


def test_a_job_whose_worker_died_under_it_on_every_attempt_fails_instead_of_coming_back_forever(catalogue, settings):
    settings.CODEGEN_MAX_RETRIES = 2
    job = GenerationJob.objects.create(
        tenant=Tenant.objects.get(slug="default"),
        language="python",
        version="1" * 64,
        sources={"shop/item.proto": 'syntax = "proto3";\npackage shop.v1;\nmessage Item { string name = 1; }\n'},
        roots=["shop/item.proto"],
        state="running",
        attempts=3,
        heartbeat_at=timezone.now() - timedelta(seconds=settings.CODEGEN_JOB_LEASE_SECONDS + 1),
    )
    failed_before = jobs_counted("failed")

    services.generation_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.state == "failed"
    assert job.error["message"] == "Gave up after 3 attempts: the worker running the job stopped each time."
    assert jobs_counted("failed") == failed_before + 1


def test_a_job_is_claimed_once(catalogue, ci, run_on_commit):
    job_id = generate(ci, run_on_commit).json()["job_id"]
    GenerationJob.objects.filter(pk=job_id).update(state="queued")

    first = services.generation_claim(job_id=job_id)
    second = services.generation_claim(job_id=job_id)

    assert first is not None and second is None


def test_archives_unused_for_the_retention_period_are_deleted(ci, catalogue, run_on_commit, settings):
    started = generate(ci, run_on_commit).json()
    artifact = Artifact.objects.get()
    storage = services.archive_storage()
    settings.CODEGEN_RETENTION_DAYS = 7

    assert services.artifacts_prune(now=timezone.now() + timedelta(days=6)) == 0
    assert services.artifacts_prune(now=timezone.now() + timedelta(days=8)) == 1

    assert not storage.exists(artifact.zip_name) and not storage.exists(artifact.tar_name)
    assert ci.get(started["download_url"]).status_code == 404


def test_a_cached_request_for_the_whole_catalogue_reads_in_a_few_queries(
    ci, catalogue, run_on_commit, django_assert_max_num_queries
):
    generate(ci, run_on_commit, "python", all=True)

    with django_assert_max_num_queries(12):
        response = ci.post("/generate/python", {"all": True}, format="json")

    assert response.status_code == 200
