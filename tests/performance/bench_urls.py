"""The registry's routes plus `/bench/floor`: the cheapest DRF view, served here behind the registry's middleware."""

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from schemas_app.api.common import JSONWhateverIsAccepted, SchemaRegistryRenderer


class FloorView(APIView):
    """Answer a constant through DRF's negotiation and the registry's renderer, with no authentication to try."""

    renderer_classes = [SchemaRegistryRenderer]
    content_negotiation_class = JSONWhateverIsAccepted
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("bench/floor", FloorView.as_view(), name="bench-floor"),
    path("", include("registry.urls")),
]

handler404 = "schemas_app.api.common.json_not_found"
handler500 = "schemas_app.api.common.json_server_error"
