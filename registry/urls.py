"""Top-level routes: the Confluent-compatible API at the root, our management API, admin, docs and metrics."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from registry import views

urlpatterns = [
    path("", views.root, name="root"),
    path("health", views.health_ready, name="health"),
    path("health/live", views.health_live, name="health-live"),
    path("health/ready", views.health_ready, name="health-ready"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("schemas_app.ui.urls")),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="docs"),
    path("metrics", views.metrics, name="metrics"),
    path("", include("schemas_app.urls")),
]

handler404 = "schemas_app.api.common.json_not_found"
handler500 = "schemas_app.api.common.json_server_error"
