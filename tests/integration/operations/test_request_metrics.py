"""registry.middleware.RequestMetricsMiddleware counts requests as django-prometheus's own middleware does."""

import pytest
from django.test import Client
from prometheus_client import REGISTRY

pytestmark = pytest.mark.django_db

BODY = b'{"schema": "syntax = \\"proto3\\";"}'


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def test_an_ajax_request_and_its_body_size_are_counted_from_its_headers():
    names = ("django_http_ajax_requests_total", "django_http_requests_body_total_bytes_sum")
    before = [sample(name) for name in names]
    Client().post(
        "/subjects/metrics-value/versions",
        BODY,
        content_type="application/json",
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    Client().get("/subjects")
    assert [sample(name) - was for name, was in zip(names, before, strict=True)] == [1.0, float(len(BODY))]
