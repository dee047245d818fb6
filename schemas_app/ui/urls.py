"""Routes of the browser pages under /ui/ (stable paths: people bookmark them)."""

from django.urls import path, re_path

from schemas_app.ui import views

SUBJECT = r"(?P<subject>.+?)"

urlpatterns = [
    path("ui/", views.catalogue, name="ui-catalogue"),
    path("ui/audit/", views.audit, name="ui-audit"),
    path("ui/pii/", views.pii, name="ui-pii"),
    re_path(rf"^ui/subjects/{SUBJECT}/versions/(?P<version>\d+|latest)/$", views.subject, name="ui-subject-version"),
    re_path(rf"^ui/subjects/{SUBJECT}/diff/$", views.diff, name="ui-diff"),
    re_path(rf"^ui/subjects/{SUBJECT}/history/$", views.history, name="ui-history"),
    re_path(rf"^ui/subjects/{SUBJECT}/generate/$", views.generate, name="ui-generate"),
    path("ui/jobs/<uuid:job_id>/", views.job, name="ui-job"),
    re_path(rf"^ui/subjects/{SUBJECT}/$", views.subject, name="ui-subject"),
]
