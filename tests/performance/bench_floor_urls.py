"""The floor's only route: `/bench/floor`, the bare DRF view of `bench_urls`."""

from django.urls import path

from tests.performance.bench_urls import FloorView

urlpatterns = [path("bench/floor", FloorView.as_view(), name="bench-floor")]
