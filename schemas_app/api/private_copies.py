"""Private copies of shared subjects: GET /private-copies, and DELETE /subjects/{subject}/private-copy to retire one."""

from rest_framework.response import Response

from schemas_app import private_copies
from schemas_app.api import serializers as out
from schemas_app.api.common import RegistryView, query_bool
from schemas_app.api.openapi import documented
from schemas_app.api.permissions import CanDelete


@documented(responses=out.PrivateCopyOutputSerializer(many=True))
class PrivateCopyListView(RegistryView):
    """List the subjects of the tenants the caller reads that shadow a shared subject of the same name."""

    def get(self, request):
        return Response([copy.as_dict() for copy in private_copies.private_copy_list(viewer=request.user)])


@documented(responses=out.VERSION_NUMBERS)
class PrivateCopyView(RegistryView):
    """Retire (soft-delete) a tenant's private copy of a shared subject; `force=true` even when that changes reads."""

    method_permissions = {"DELETE": [CanDelete]}

    def delete(self, request, subject):
        return Response(
            private_copies.private_copy_retire(
                tenant=self.tenant, subject_name=subject, force=query_bool(request, "force"), acting_user=request.user
            )
        )
