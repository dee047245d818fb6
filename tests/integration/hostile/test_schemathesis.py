"""Schemathesis over /openapi.json against a live server, signed in with HTTP Basic: no answer is a 500, and
every answer has a status and a body the document declares (errors in the one JSON shape).

CI runs a few examples per operation (HOSTILE_EXAMPLES, default 8); `python tests/performance/hostile_report.py`
runs more and writes the counts to tests/performance/results/hostile-input.md.
"""

import base64
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests import hostile_stats
from tests.integration.api.helpers import MONEY, ORDER_WITH_MONEY, TICK_V1, register

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "8"))
PASSWORD = "schemathesis-password"


@pytest.fixture
def basic_auth(django_user_model):
    django_user_model.objects.create_superuser("fuzzer", "fuzzer@example.org", PASSWORD)
    return {"Authorization": "Basic " + base64.b64encode(f"fuzzer:{PASSWORD}".encode()).decode()}


@pytest.fixture
def registry_api(live_server, basic_auth, owner):
    """The live registry's own OpenAPI document, with a few schemas registered so paths can hit real rows."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(owner)
    register(client, "ticks-value", TICK_V1)
    register(client, "common/money.proto", MONEY)
    reference = {"name": "common/money.proto", "subject": "common/money.proto", "version": 1}
    register(client, "orders-value", ORDER_WITH_MONEY, [reference])
    return schemathesis.openapi.from_url(f"{live_server.url}/openapi.json", headers=basic_auth)


def test_no_answer_is_a_server_error_and_every_answer_is_documented(registry_api, live_server, basic_auth):
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    failures = []
    operations = [result.ok() for result in registry_api.get_all_operations()]
    assert len(operations) > 30, "the document lost its operations"

    def exercise(operation):
        @given(operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def call(case):
            response = case.call(base_url=live_server.url, headers=basic_auth)
            hostile_stats.record("schemathesis", operation.label, response.status_code)
            case.validate_response(response, checks=checks)

        call()

    for operation in operations:
        try:
            exercise(operation)
        except (Exception, BaseExceptionGroup) as error:  # every operation's failures, not only the first's
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)
