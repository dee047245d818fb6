"""Top-level routes: the Confluent-compatible API at the root, our management API, admin, docs and metrics."""

from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from registry import views
from schemas_app.ui.sign_in import LimitedAuthenticationForm, answers_429_when_locked

urlpatterns = [
    path("", views.root, name="root"),
    path("health", views.health_ready, name="health"),
    path("health/live", views.health_live, name="health-live"),
    path("health/ready", views.health_ready, name="health-ready"),
    # Both sign-in pages count wrong passwords with the API's sign-ins (schemas_app/ui/sign_in.py).
    path("admin/login/", answers_429_when_locked(admin.site.login)),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        answers_429_when_locked(LoginView.as_view(authentication_form=LimitedAuthenticationForm)),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("schemas_app.ui.urls")),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="docs"),
    path("metrics", views.metrics, name="metrics"),
    path("", include("schemas_app.urls")),
]

handler404 = "schemas_app.api.common.json_not_found"
handler500 = "schemas_app.api.common.json_server_error"
