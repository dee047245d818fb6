"""Private copies of shared subjects over REST: each tenant lists only its own, and only a copy can be retired."""

import pytest
from rest_framework.test import APIClient

from schemas_app import selectors, services
from tests.integration.api.helpers import MONEY, register

pytestmark = pytest.mark.django_db

SHARED_MONEY = "common/money.proto"


@pytest.fixture
def shared_money(owner):
    """common/money.proto version 1 in the shared tenant."""
    services.subject_version_register(
        tenant=selectors.shared_tenant(), subject_name=SHARED_MONEY, schema=MONEY, references=[], acting_user=owner
    )


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_each_tenant_lists_only_its_own_private_copies(shared_money, writer, second_tenant_writer):
    writer_api, second_api = signed_in(writer), signed_in(second_tenant_writer)
    register(writer_api, SHARED_MONEY, MONEY)
    register(second_api, SHARED_MONEY, MONEY.replace("// Money is", "// Our Money is"))

    assert writer_api.get("/private-copies").json() == [
        {
            "tenant": "default",
            "subject": SHARED_MONEY,
            "versions": [1],
            "latestEqualsShared": True,
            "retirable": True,
            "refusals": [],
        }
    ]
    assert second_api.get("/private-copies").json() == [
        {
            "tenant": "second-desk",
            "subject": SHARED_MONEY,
            "versions": [1],
            "latestEqualsShared": False,
            "retirable": False,
            "refusals": ["the shared subject does not hold the content of its version 1"],
        }
    ]


def test_only_a_tenants_own_subject_shadowing_a_shared_one_can_be_retired(shared_money, writer):
    api = signed_in(writer)
    register(api, "trading/orders-value", MONEY)

    not_shadowing = api.delete("/subjects/trading%2Forders-value/private-copy")
    shared_itself = api.delete("/subjects/:.shared:common%2Fmoney.proto/private-copy")

    assert (not_shadowing.status_code, not_shadowing.json()["error_code"]) == (404, 40421)
    assert not_shadowing.json()["message"] == (
        "Subject 'trading/orders-value' of tenant 'default' is not a private copy of a shared subject."
    )
    assert (shared_itself.status_code, shared_itself.json()["error_code"]) == (404, 40421)
    assert api.get("/subjects/trading%2Forders-value/versions").json() == [1]
