"""Review and approval over REST: held changes are served to nobody until another reviewer approves them."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.utils import timezone

from schemas_app import reviews
from schemas_app.models import ChangeRequest, Schema, Tenant
from tests.conftest_users import client_of
from tests.integration.api.helpers import (
    MONEY,
    ORDER_WITH_MONEY,
    TICK_V1,
    TICK_V2_ADDS_FIELD,
    TICK_V2_CHANGES_TYPE,
    put,
    register,
)

# Held changes are prepared by a task queued on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reviewer(django_user_model):
    user = django_user_model.objects.create_user("reviewer", "reviewer@example.org", "reviewer-password")
    user.user_permissions.add(Permission.objects.get(codename="approve_changes", content_type__model="tenant"))
    return user


@pytest.fixture
def second_reviewer(django_user_model):
    user = django_user_model.objects.create_user("second", "second@example.org", "second-password")
    user.user_permissions.add(Permission.objects.get(codename="approve_changes", content_type__model="tenant"))
    return user


@pytest.fixture
def no_notice(api):
    """Breaking changes may be approved at once (the notice period has its own tests)."""
    assert put(api, "/config", {"noticeHours": 0}).status_code == 200


def propose_breaking_change(api) -> dict:
    register(api, "ticks-value", TICK_V1)
    response = register(api, "ticks-value", TICK_V2_CHANGES_TYPE)
    assert response.status_code == 202, response.content
    return response.json()


def test_a_breaking_change_waits_for_review_and_is_served_to_nobody(api, no_notice):
    body = propose_breaking_change(api)
    assert body["status"] == "PENDING_REVIEW"
    assert body["review_url"] == f"http://testserver/reviews/{body['review_id']}"
    assert api.get("/subjects/ticks-value/versions").json() == [1]
    assert api.get("/subjects/ticks-value/versions/latest").json()["version"] == 1
    lookup = api.post(
        "/subjects/ticks-value", {"schema": TICK_V2_CHANGES_TYPE, "schemaType": "PROTOBUF"}, format="json"
    )
    assert lookup.json()["error_code"] == 40403
    assert Schema.objects.count() == 1


def test_the_review_shows_diff_findings_semantic_version_and_who_proposed_it(api, no_notice):
    review_id = propose_breaking_change(api)["review_id"]
    review = api.get(f"/reviews/{review_id}").json()
    assert review["preparation"] == {"state": "ready", "progress": 100, "error": None}
    assert review["author"] == "writer" and review["subject"] == "ticks-value" and review["createdAt"]
    assert "-  double bid = 2;\n+  float bid = 2;\n" in review["diff"]
    finding = next(
        item for item in review["compatibilityFindings"] if item["rule"] == "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
    )
    assert (finding["path"], finding["line"], finding["column"]) == ("ticks-value.proto", 6, 3)
    assert review["semanticVersion"] == "2.0.0" and review["change"] == "MAJOR"
    assert review["proposed"]["schema"] == TICK_V2_CHANGES_TYPE
    assert review["baseVersion"] == 1 and review["breaking"] is True and review["heldBecause"] == ["breaking"]


def test_another_reviewer_approves_and_the_change_is_served_as_the_next_version(api, reviewer, no_notice):
    review_id = propose_breaking_change(api)["review_id"]
    response = client_of(reviewer).post(f"/reviews/{review_id}/approve", {}, format="json")
    assert response.status_code == 200, response.content
    review = response.json()
    assert review["status"] == "APPROVED" and review["decidedBy"] == "reviewer"
    assert review["registeredVersion"]["version"] == 2
    assert api.get("/subjects/ticks-value/versions").json() == [1, 2]
    served = api.get("/subjects/ticks-value/versions/2").json()
    assert served["schema"] == TICK_V2_CHANGES_TYPE and served["semanticVersion"] == "2.0.0"
    assert api.get("/schemas/ticks-value").json()["createdBy"] == "writer"


def test_nobody_approves_their_own_change(admin, no_notice):
    register(admin, "ticks-value", TICK_V1)
    review_id = register(admin, "ticks-value", TICK_V2_CHANGES_TYPE).json()["review_id"]
    response = admin.post(f"/reviews/{review_id}/approve", {}, format="json")
    assert response.status_code == 403 and response.json()["error_code"] == 40302
    assert admin.get("/subjects/ticks-value/versions").json() == [1]


def test_a_user_without_the_approve_role_cannot_approve(api, outsider, no_notice):
    review_id = propose_breaking_change(api)["review_id"]
    response = client_of(outsider).post(f"/reviews/{review_id}/approve", {}, format="json")
    assert response.status_code == 403
    assert ChangeRequest.objects.get(pk=review_id).status == "PENDING_REVIEW"


def test_anonymous_clients_cannot_decide(api, anonymous, no_notice):
    review_id = propose_breaking_change(api)["review_id"]
    assert anonymous.post(f"/reviews/{review_id}/approve", {}, format="json").status_code == 401


def test_an_identical_proposal_joins_the_open_review(api, admin, no_notice):
    first = propose_breaking_change(api)
    second = register(admin, "ticks-value", TICK_V2_CHANGES_TYPE)
    assert second.status_code == 202 and second.json()["review_id"] == first["review_id"]
    assert ChangeRequest.objects.count() == 1


def test_a_rejection_leaves_nothing_behind(api, reviewer, no_notice):
    review_id = propose_breaking_change(api)["review_id"]
    rejected = client_of(reviewer).post(f"/reviews/{review_id}/reject", {"reason": "use a v2 package"}, format="json")
    assert rejected.json()["status"] == "REJECTED" and rejected.json()["decisionReason"] == "use a v2 package"
    assert api.get("/subjects/ticks-value/versions").json() == [1]
    assert Schema.objects.count() == 1
    again = client_of(reviewer).post(f"/reviews/{review_id}/approve", {}, format="json")
    assert again.status_code == 409 and again.json()["error_code"] == 40911


def test_a_stale_review_is_rechecked_against_the_new_latest_version_before_it_can_be_approved(api, reviewer, no_notice):
    review_id = propose_breaking_change(api)["review_id"]
    assert register(api, "ticks-value", TICK_V2_ADDS_FIELD).status_code == 200  # version 2 lands meanwhile
    stale = client_of(reviewer).post(f"/reviews/{review_id}/approve", {}, format="json")
    assert stale.status_code == 409 and stale.json()["error_code"] == 40913
    assert "version 1" in stale.json()["message"] and "now 2" in stale.json()["message"]
    review = api.get(f"/reviews/{review_id}").json()
    assert review["baseVersion"] == 2 and review["approvals"] == []
    assert "ticks-value v2" in review["diff"] and "-  string venue = 7;\n" in review["diff"]
    approved = client_of(reviewer).post(f"/reviews/{review_id}/approve", {}, format="json")
    assert approved.json()["registeredVersion"]["version"] == 3
    assert api.get("/subjects/ticks-value/versions").json() == [1, 2, 3]


def test_approval_waits_for_the_reviews_preparation(api, reviewer, no_notice):
    review_id = propose_breaking_change(api)["review_id"]
    ChangeRequest.objects.filter(pk=review_id).update(preparation="running", progress=30)
    response = client_of(reviewer).post(f"/reviews/{review_id}/approve", {}, format="json")
    assert response.status_code == 409 and response.json()["error_code"] == 40912
    assert "30%" in response.json()["message"]


def test_a_subject_can_require_two_approvals(api, reviewer, second_reviewer, no_notice):
    assert put(api, "/config/ticks-value", {"requiredApprovals": 2}).status_code == 200
    review_id = propose_breaking_change(api)["review_id"]
    first = client_of(reviewer).post(f"/reviews/{review_id}/approve", {}, format="json").json()
    assert first["status"] == "PENDING_REVIEW" and [a["user"] for a in first["approvals"]] == ["reviewer"]
    assert api.get("/subjects/ticks-value/versions").json() == [1]
    second = client_of(second_reviewer).post(f"/reviews/{review_id}/approve", {}, format="json").json()
    assert second["status"] == "APPROVED" and api.get("/subjects/ticks-value/versions").json() == [1, 2]


def test_the_notice_period_holds_a_breaking_change_until_it_has_passed(api, reviewer):
    review_id = propose_breaking_change(api)["review_id"]
    refused = client_of(reviewer).post(f"/reviews/{review_id}/approve", {}, format="json")
    assert refused.status_code == 409 and refused.json()["error_code"] == 40914
    tenant = Tenant.objects.get(slug="default")
    later = timezone.now() + timedelta(hours=48, minutes=1)
    decision = reviews.change_request_approve(tenant=tenant, review_id=review_id, now=later, acting_user=reviewer)
    assert decision.approved


def test_an_approver_may_override_the_notice_period_with_a_reason(api, reviewer):
    review_id = propose_breaking_change(api)["review_id"]
    response = client_of(reviewer).post(
        f"/reviews/{review_id}/approve", {"overrideReason": "incident 4711: feed is down"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "APPROVED"
    assert response.json()["noticeOverrideReason"] == "incident 4711: feed is down"
    audited = LogEntry.objects.get(
        content_type__model="changerequest",
        object_pk=str(review_id),
        action=LogEntry.Action.UPDATE,
        changes__has_key="notice_override_reason",
    )
    assert audited.actor == reviewer and audited.changes["notice_override_reason"][1] == "incident 4711: feed is down"


def test_a_tenant_can_set_the_notice_period_to_zero(api, reviewer):
    assert put(api, "/config", {"noticeHours": 0}).status_code == 200
    review_id = propose_breaking_change(api)["review_id"]
    assert client_of(reviewer).post(f"/reviews/{review_id}/approve", {}, format="json").status_code == 200


def test_only_the_author_withdraws_a_change(api, reviewer, no_notice):
    review_id = propose_breaking_change(api)["review_id"]
    assert client_of(reviewer).post(f"/reviews/{review_id}/withdraw", {}, format="json").status_code == 403
    withdrawn = api.post(f"/reviews/{review_id}/withdraw", {"reason": "wrong branch"}, format="json")
    assert withdrawn.json()["status"] == "WITHDRAWN"


def test_reviewers_comment_on_a_change(api, reviewer, no_notice):
    review_id = propose_breaking_change(api)["review_id"]
    response = client_of(reviewer).post(f"/reviews/{review_id}/comments", {"text": "please add a v2"}, format="json")
    assert response.status_code == 201
    comments = api.get(f"/reviews/{review_id}").json()["comments"]
    assert [(c["author"], c["text"]) for c in comments] == [("reviewer", "please add a v2")]


def test_the_review_list_filters_by_status_subject_and_author(api, reviewer, no_notice):
    review_id = propose_breaking_change(api)["review_id"]
    assert [r["id"] for r in api.get("/reviews?status=PENDING_REVIEW").json()] == [review_id]
    assert api.get("/reviews?status=APPROVED").json() == []
    assert [r["id"] for r in api.get("/reviews?subject=ticks-value&author=writer").json()] == [review_id]
    assert api.get("/reviews?author=reviewer").json() == []
    assert api.get("/reviews/999999").json()["error_code"] == 40411


def test_under_policy_all_even_a_compatible_change_waits(api):
    register(api, "ticks-value", TICK_V1)
    assert put(api, "/config/ticks-value", {"reviewPolicy": "all"}).status_code == 200
    response = register(api, "ticks-value", TICK_V2_ADDS_FIELD)
    assert response.status_code == 202
    review = api.get(f"/reviews/{response.json()['review_id']}").json()
    assert review["heldBecause"] == ["policy"] and review["semanticVersion"] == "1.1.0"
    assert review["noticeEndsAt"] is None


LINT_DIRTY = TICK_V1.replace("string symbol = 1;", "string Symbol = 1;")


def test_lint_policy_block_refuses_a_change_with_findings(api):
    assert put(api, "/config", {"lintPolicy": "block"}).status_code == 200
    response = register(api, "ticks-value", LINT_DIRTY)
    assert response.status_code == 422 and response.json()["error_code"] == 42201
    assert any(detail["rule"] == "FIELD_LOWER_SNAKE_CASE" for detail in response.json()["details"])


def test_lint_policy_review_holds_a_change_with_findings(api):
    assert put(api, "/config", {"lintPolicy": "review"}).status_code == 200
    response = register(api, "ticks-value", LINT_DIRTY)
    assert response.status_code == 202
    assert ChangeRequest.objects.get().held_because == ["lint"]


def test_an_unknown_policy_is_refused(api):
    response = put(api, "/config", {"reviewPolicy": "sometimes"})
    assert response.status_code == 422 and response.json()["error_code"] == 42203


def test_impact_analysis_names_consumers_a_shared_file_would_break(api, no_notice):
    register(api, "common/money.proto", MONEY)
    reference = {"name": "common/money.proto", "subject": "common/money.proto", "version": 1}
    assert register(api, "trading/order.proto", ORDER_WITH_MONEY, references=[reference]).status_code == 200
    without_currency = MONEY.replace("  string currency_code = 3;\n", "")
    review_id = register(api, "common/money.proto", without_currency).json()["review_id"]
    impact = api.get(f"/reviews/{review_id}").json()["impact"]
    assert [(entry["subject"], entry["status"], entry["depth"]) for entry in impact] == [
        ("trading/order.proto", "breaks", 1)
    ]
    assert any("currency_code" in finding["message"] for finding in impact[0]["findings"])


def test_a_consumer_that_would_no_longer_compile_is_reported(api, no_notice):
    register(api, "common/money.proto", MONEY)
    reference = {"name": "common/money.proto", "subject": "common/money.proto", "version": 1}
    register(api, "trading/order.proto", ORDER_WITH_MONEY, references=[reference])
    renamed = MONEY.replace("message Money", "message Amount").replace("// Money is", "// Amount is")
    review_id = register(api, "common/money.proto", renamed).json()["review_id"]
    impact = api.get(f"/reviews/{review_id}").json()["impact"]
    assert impact[0]["status"] == "does-not-compile"
