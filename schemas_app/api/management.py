"""The management API of our spec: /schemas/{subject} with semantic versions, lint findings and full reports."""

from rest_framework.response import Response

from registry import metrics
from schemas_app import selectors, services
from schemas_app.api import serializers as out
from schemas_app.api.common import RegistryView, query_bool
from schemas_app.api.confluent import (
    normalize_flag,
    register_from_request,
    served_version,
    validated_schema_input,
    version_payload,
)
from schemas_app.api.openapi import documented
from schemas_app.api.permissions import CanDelete, CanRead, CanWrite
from schemas_app.api.reviews import pending_body
from schemas_app.api.serializers import MessageSizesInputSerializer, SchemaInputSerializer
from schemas_app.api.throttling import CompatibilityCheckRate


class ManagementView(RegistryView):
    """Base of the management endpoints: plain application/json answers."""


def version_detail(subject_version) -> dict:
    """Return a version as the management API shows it: Confluent's fields plus change, lint and audit data."""
    payload = version_payload(subject_version)
    payload.update(
        change=subject_version.change,
        lintFindings=subject_version.lint_findings,
        createdAt=subject_version.created_at.isoformat(),
        createdBy=subject_version.created_by.get_username() if subject_version.created_by else None,
    )
    return payload


@documented(
    request=SchemaInputSerializer,
    responses={
        "get": out.ManagedVersionOutputSerializer,
        "post": out.ManagedVersionOutputSerializer,
        "delete": out.VERSION_NUMBERS,
    },
)
class ManagedSubjectView(ManagementView):
    method_permissions = {"POST": [CanWrite], "DELETE": [CanDelete]}

    def get(self, request, subject):
        latest = selectors.subject_version_get(tenant=self.tenant, subject=subject, version="latest")
        return served_version(request, version_detail(latest))

    def post(self, request, subject):
        registration = register_from_request(request, tenant=self.tenant, subject=subject, honour_import=False)
        if registration.change_request is not None:
            return Response(pending_body(request, registration.change_request), status=202)
        body = version_detail(registration.subject_version)
        body["created"] = registration.created
        return Response(body, status=201 if registration.created else 200)

    def delete(self, request, subject):
        return Response(
            services.subject_delete(
                tenant=self.tenant,
                subject_name=subject,
                permanent=query_bool(request, "permanent"),
                acting_user=request.user,
            )
        )


@documented(responses=out.ManagedVersionOutputSerializer(many=True))
class ManagedSubjectVersionsView(ManagementView):
    def get(self, request, subject):
        versions = selectors.subject_version_list(
            tenant=self.tenant, subject=subject, deleted=query_bool(request, "deleted")
        )
        return Response([version_detail(version) for version in versions])


@documented(request=SchemaInputSerializer, responses=out.ManagedCompatibilityOutputSerializer)
class ManagedCompatibilityView(ManagementView):
    """POST /schemas/{subject}/compatibility: the full report, as the subject's level and rule set decide."""

    throttle_classes = [CompatibilityCheckRate]

    def post(self, request, subject):
        serializer = validated_schema_input(request)
        findings = selectors.compatibility_test(
            tenant=self.tenant,
            subject_name=subject,
            version=None,
            schema=serializer.validated_data["schema"],
            references=serializer.references_list(),
            normalize=normalize_flag(request, serializer),
        )
        config = selectors.effective_config(tenant=self.tenant, subject=subject)
        return Response(
            {
                "is_compatible": not findings,
                "compatibilityLevel": config["compatibilityLevel"],
                "compatibilityRules": config["compatibilityRules"],
                "findings": [finding.as_dict() for finding in findings],
            }
        )


@documented(request=MessageSizesInputSerializer)
class MessageSizesView(ManagementView):
    """POST /metrics/message-sizes: a transport client reports the sizes of messages it serialized for a subject.

    They feed `registry_message_size_bytes`; only subjects of the caller's tenant are counted, so a client
    cannot grow the metric's label set at will.
    """

    method_permissions = {"POST": [CanRead]}

    def post(self, request):
        serializer = MessageSizesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subject = selectors.subject_get(tenant=self.tenant, name=serializer.validated_data["subject"])
        for size in serializer.validated_data["sizes"]:
            metrics.record_message_size(subject=subject.name, size_bytes=size)
        return Response({"recorded": len(serializer.validated_data["sizes"])})
