"""Thin views of code generation: start a job, follow it, download its archive, list the languages."""

from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse
from rest_framework import serializers
from rest_framework.response import Response

from codegen.archives import archive_version
from codegen.generators import GENERATORS, GeneratorUnavailable, generator_for
from schemas_app import codegen_jobs as services
from schemas_app import codegen_selectors as selectors
from schemas_app.api.common import RegistryView
from schemas_app.api.openapi import documented
from schemas_app.api.permissions import IsSignedIn
from schemas_app.errors import ArchiveNotFound, BadRequest
from schemas_app.models import Artifact, GenerationJob

FORMATS = {"zip": ("application/zip", "zip"), "tar.gz": ("application/gzip", "tar.gz")}


class GenerationRequestSerializer(serializers.Serializer):
    """What to generate: one subject (and version), several, a prefix, or everything the caller may read."""

    subject = serializers.CharField(required=False, max_length=255)
    version = serializers.CharField(required=False, max_length=16)
    subjects = serializers.ListField(child=serializers.JSONField(), required=False, max_length=1000)
    prefix = serializers.CharField(required=False, max_length=255)
    all = serializers.BooleanField(required=False, default=False)
    tenant = serializers.CharField(required=False, max_length=64)

    def validate_subjects(self, items):
        for item in items:
            if not (isinstance(item, str) or isinstance(item, dict) and isinstance(item.get("subject"), str)):
                raise serializers.ValidationError('Each item is a subject name or {"subject": ..., "version": ...}.')
        return items


def job_payload(request, job: GenerationJob) -> dict:
    """Return a job as GET /jobs/{id} shows it."""
    artifact = job.artifact
    run_seconds = (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else None
    wait_seconds = (job.started_at - job.created_at).total_seconds() if job.started_at else None
    return {
        "job_id": str(job.pk),
        "language": job.language,
        "tenant": job.tenant.slug,
        "state": job.state,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "version": job.version,
        "size": artifact.size if artifact else None,
        "file_count": artifact.file_count if artifact else None,
        "attempts": job.attempts,
        "subjects": job.subjects,
        "timings": {
            "created_at": job.created_at.isoformat(),
            "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "queued_seconds": wait_seconds,
            "run_seconds": run_seconds,
        },
        "error": job.error,
        "status_url": request.build_absolute_uri(reverse("codegen-job", args=[job.pk])),
        "download_url": download_url(request, job.language, job.version),
    }


def download_url(request, language: str, version: str) -> str:
    return request.build_absolute_uri(reverse("codegen-download", args=[language, version]))


class CodegenView(RegistryView):
    """Base of the code generation endpoints: the tenant comes from the body or the query, and selectors check it."""

    tenant = None


@documented(request=GenerationRequestSerializer)
class GenerateView(CodegenView):
    """POST /generate/{language}: 202 with the job's URLs, or 200 with the download URL when the archive is stored."""

    # Signed in here; the codegen role is checked per chosen subject by the service.
    permission_classes = [IsSignedIn]

    def post(self, request, language):
        body = GenerationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        selection = {key: value for key, value in body.validated_data.items() if key != "tenant" and value}
        started = services.generation_start(
            tenant=selectors.tenant_by_slug(slug=body.validated_data.get("tenant"), viewer=request.user),
            language=language,
            selection=selection,
            acting_user=request.user,
        )
        payload = job_payload(request, started.job)
        payload["cached"] = started.cached
        return Response(payload, status=200 if started.cached else 202)


@documented()
class LanguagesView(CodegenView):
    """GET /generate/languages: each language with its tools, their versions and whether they are installed here."""

    def get(self, request):
        languages = []
        for name in GENERATORS:
            generator = generator_for(name)
            entry = {"language": name, "label": generator.label, "available": True, "reason": None}
            try:
                generator.check_available()
            except GeneratorUnavailable as missing:
                entry.update(available=False, reason=str(missing))
            entry["tools"] = generator.plugin_versions()
            entry["packages"] = [plugin.package or plugin.executable for plugin in generator.plugins]
            languages.append(entry)
        return Response({"languages": languages})


@documented()
class JobView(CodegenView):
    """GET /jobs/{id}: state, progress, timings, the archive's version and size, and why it failed."""

    def get(self, request, job_id):
        return Response(job_payload(request, selectors.job_get(viewer=request.user, job_id=job_id)))


@documented()
class DownloadView(CodegenView):
    """GET /generated/{language}/{version}: the archive as a zip, or a tarball with ?format=tar.gz."""

    def get(self, request, language, version):
        artifact = selectors.artifact_get(viewer=request.user, language=language, version=version)
        services.artifact_touch(artifact=artifact)
        return archive_response(artifact, _format(request))


@documented()
class LatestView(CodegenView):
    """GET /generated/{language}/latest?subject=...: redirect to the archive of the subject's latest version."""

    def get(self, request, language):
        subject = request.query_params.get("subject")
        if not subject:
            raise BadRequest("Name the subject: ?subject=NAME.")
        generator = services.available_generator(language)
        chosen = selectors.generation_input(
            tenant=selectors.tenant_by_slug(slug=request.query_params.get("tenant"), viewer=request.user),
            selection={"subject": subject},
            viewer=request.user,
        )
        version = archive_version(generator, chosen.inputs)
        artifact = selectors.artifact_get(viewer=request.user, language=language, version=version)
        location = reverse("codegen-download", args=[language, artifact.version])
        if "format" in request.query_params:
            location += f"?format={_format(request)}"
        return HttpResponseRedirect(location)


def archive_response(artifact: Artifact, archive_format: str) -> FileResponse:
    content_type, extension = FORMATS[archive_format]
    name = artifact.zip_name if archive_format == "zip" else artifact.tar_name
    try:
        handle = services.archive_storage().open(name, "rb")
    except FileNotFoundError:
        raise ArchiveNotFound(artifact.language, artifact.version) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{artifact.language}-{artifact.version[:16]}.{extension}",
        content_type=content_type,
    )
    # The version is the content hash: the bytes behind this URL never change.
    response["ETag"] = f'"{artifact.version}-{extension}"'
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


def _format(request) -> str:
    archive_format = request.query_params.get("format", "zip")
    if archive_format not in FORMATS:
        raise BadRequest(f"Unknown format {archive_format!r}; use zip or tar.gz.")
    return archive_format
