"""Deprecation endpoints: POST /subjects/{subject}/versions/{version}/deprecate and /subjects/{subject}/deprecate."""

from rest_framework.response import Response

from schemas_app import deprecation
from schemas_app.api.common import RegistryView
from schemas_app.api.confluent import version_payload
from schemas_app.api.openapi import documented
from schemas_app.api.permissions import CanWrite
from schemas_app.api.serializers import DeprecationInputSerializer


class DeprecateView(RegistryView):
    method_permissions = {"POST": [CanWrite]}

    def body(self) -> dict:
        serializer = DeprecationInputSerializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


@documented(request=DeprecationInputSerializer)
class VersionDeprecateView(DeprecateView):
    """Deprecate one version: still served, with Deprecation, Sunset and Link headers, until its sunset."""

    def post(self, request, subject, version):
        data = self.body()
        versions = deprecation.version_deprecate(
            tenant=self.tenant,
            subject_name=subject,
            version=version,
            reason=data["reason"],
            successor=data["successor"],
            sunset=data["sunset"],
            acting_user=request.user,
        )
        return Response(version_payload(versions[0]))


@documented(request=DeprecationInputSerializer)
class SubjectDeprecateView(DeprecateView):
    """Deprecate every live version of a subject."""

    def post(self, request, subject):
        data = self.body()
        versions = deprecation.subject_deprecate(
            tenant=self.tenant,
            subject_name=subject,
            reason=data["reason"],
            successor=data["successor"],
            sunset=data["sunset"],
            acting_user=request.user,
        )
        return Response([version_payload(version) for version in versions])
