"""Every list and every delete costs the same number of queries whatever the number of versions.

Each request is measured cold (caches emptied first), once over a subject with one version and once over
subjects with four, so a query run per version or per subject shows as a difference.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from schemas_app import access, notifications, selectors, tenants, tokens
from schemas_app import cache as registry_cache
from schemas_app.models import ChangeRequest, DeliveryAttempt, NotificationDelivery
from tests.integration.api.helpers import MONEY, ORDER_WITH_MONEY, TICK_V1, register

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("forgets_reuse_the_requests_generation")]

SMALL, LARGE = 1, 4
# A ceiling above today's counts (sealing audit entries into the hash chain costs three per bulk write), so a new
# per-row query shows even when the sizes were to agree by chance.
MOST_QUERIES = 24


def tick_version(number: int) -> str:
    """Return the tick schema with `number - 1` fields added: each one a compatible new version."""
    extra = "".join(f"  string note_{index} = {10 + index};\n" for index in range(1, number))
    return TICK_V1.replace("  string tenant_id = 6;\n", "  string tenant_id = 6;\n" + extra)


def registered(api, subject: str, versions: int) -> int:
    for number in range(1, versions + 1):
        answer = register(api, subject, tick_version(number))
        assert answer.status_code == 200, answer.content
    return answer.json()["id"]


def queries_of(request) -> int:
    cache.delete_pattern("*")
    registry_cache.clear_local()
    with CaptureQueriesContext(connection) as captured:
        answer = request()
    assert answer.status_code in (200, 204), answer.content
    return len(captured.captured_queries)


def assert_same_cost(api, request_for):
    """Run `request_for(size)` over one version and over LARGE versions; the counts must agree and stay small."""
    counts = {}
    for size in (SMALL, LARGE):
        counts[size] = queries_of(lambda size=size: request_for(size))
    assert counts[SMALL] == counts[LARGE], f"queries grow with the number of versions: {counts}"
    assert counts[LARGE] <= MOST_QUERIES, counts


@pytest.mark.parametrize(
    "path",
    [
        "/subjects",
        "/subjects?deleted=true",
        "/subjects/{subject}/versions",
        "/schemas",
        "/schemas?latestOnly=true",
        "/schemas/{subject}/versions",
        "/schemas/ids/{id}/versions",
        "/schemas/ids/{id}/subjects",
        "/subjects/{subject}/versions/1/referencedby",
    ],
)
def test_a_list_costs_the_same_for_one_version_and_for_many(api, path):
    ids = {size: registered(api, f"size-{size}-value", size) for size in (SMALL, LARGE)}
    # A second subject per size, so lists across subjects grow too.
    for size in (SMALL, LARGE):
        registered(api, f"other-{size}-value", size)

    assert_same_cost(api, lambda size: api.get(path.format(subject=f"size-{size}-value", id=ids[size])))


def test_referencedby_costs_the_same_for_one_referrer_and_for_many(api):
    register(api, "common/money.proto", MONEY)
    reference = [{"name": "common/money.proto", "subject": "common/money.proto", "version": 1}]
    for size in (SMALL, LARGE):
        for number in range(size):
            text = ORDER_WITH_MONEY.replace("string tenant_id = 3;", f"string tenant_id = 3;\n  string n{number} = 4;")
            assert register(api, f"orders-{size}-{number}-value", text, reference).status_code == 200

    # Only the referrers differ here, so measure each size against the same referenced version.
    assert queries_of(lambda: api.get("/subjects/common%2Fmoney.proto/versions/1/referencedby")) <= MOST_QUERIES


@pytest.mark.parametrize(
    ("path", "permanent"),
    [
        ("/subjects/{subject}", False),
        ("/subjects/{subject}", True),
        ("/schemas/{subject}", False),
        ("/subjects/{subject}/versions/latest", False),
        ("/subjects/{subject}/versions/1", True),
    ],
)
def test_a_delete_costs_the_same_for_one_version_and_for_many(api, path, permanent):
    # Another subject keeps every schema in use, so no permanent delete also purges orphaned schema rows
    # (which the sizes share, and which costs the same few queries however many there are).
    registered(api, "keeper-value", LARGE)
    for size in (SMALL, LARGE):
        registered(api, f"size-{size}-value", size)
        if permanent:  # a permanent delete needs a soft delete first
            soft = path.replace("/versions/1", "/versions/1").format(subject=f"size-{size}-value")
            assert api.delete(soft).status_code == 200

    suffix = "?permanent=true" if permanent else ""
    assert_same_cost(api, lambda size: api.delete(path.format(subject=f"size-{size}-value") + suffix))


@pytest.mark.parametrize("path", ["/config/{subject}", "/mode/{subject}"])
def test_deleting_a_subjects_setting_costs_the_same_for_one_version_and_for_many(api, owner, path):
    from rest_framework.test import APIClient

    admin = APIClient()
    admin.force_authenticate(owner)
    for size in (SMALL, LARGE):
        registered(api, f"size-{size}-value", size)
        body = {"compatibility": "NONE"} if path.startswith("/config") else {"mode": "READONLY"}
        assert admin.put(path.format(subject=f"size-{size}-value"), body, format="json").status_code == 200

    assert_same_cost(admin, lambda size: admin.delete(path.format(subject=f"size-{size}-value")))


# A registration costs 10 queries with the cache emptied: the registry's cache generation and the tenant, then in
# its transaction the subject's settings and mode (sent together), its lock sent together with the reads under it
# (the latest version, which says whether its schema has references and the next version number, and the schema rows
# of the same content: none here), the tenant's blocking lint rules (the schema has findings), the new schema row (an
# INSERT that yields to a concurrent writer's row without a savepoint of its own) sent together with its version's,
# their two audit entries inserted together with the deferred checks and the chain head's lock, the seal, and the
# transaction's savepoint.
REGISTRATION_QUERIES = 10


def test_a_registration_costs_the_same_after_one_version_and_after_many(api):
    for size in (SMALL, LARGE):
        registered(api, f"size-{size}-value", size)

    # Each new version adds fields no other subject holds, so both store a new schema row.
    counts = {
        size: queries_of(lambda size=size: register(api, f"size-{size}-value", tick_version(LARGE + 1 + size)))
        for size in (SMALL, LARGE)
    }

    assert counts[SMALL] == counts[LARGE], f"queries grow with the number of versions: {counts}"
    assert counts[LARGE] <= REGISTRATION_QUERIES, counts


# The first version of a new subject inserts the subject too, without a savepoint (an INSERT that yields to a
# concurrent writer's row); its audit entry goes in the version's INSERT, and the subject's lock and reads are one
# round trip either way: one query more than a version of an existing subject.
NEW_SUBJECT_EXTRA_QUERIES = 1


def test_a_registration_in_a_new_subject_costs_its_insert_and_audit_entry_more(api):
    registered(api, "known-value", 1)
    registered(api, "other-value", 1)  # the same history cached for both counts

    in_known = queries_of(lambda: register(api, "known-value", tick_version(2)))
    in_new = queries_of(lambda: register(api, "new-value", tick_version(3)))

    assert in_new == in_known + NEW_SUBJECT_EXTRA_QUERIES, {"known": in_known, "new": in_new}


# Lists of things other than versions: each is counted over one item and over LARGE, added between the counts.


def signed_in(user) -> APIClient:
    """A client for a fresh copy of the account, as each request authenticates one (nothing remembered on it)."""
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def assert_cost_does_not_grow(user, path: str, add_item):
    """Count GET `path` over SMALL items, add items up to LARGE, count it again: the counts must agree."""

    def count() -> int:
        client = signed_in(user)
        return queries_of(lambda: client.get(path))

    count()  # the process's own caches (content types) warm once and are never paid again
    for _ in range(SMALL):
        add_item()
    small = count()
    for _ in range(LARGE - SMALL):
        add_item()
    large = count()
    assert small == large, f"queries grow with the number of items: {SMALL}: {small}, {LARGE}: {large}"
    assert large <= MOST_QUERIES, large


def counter():
    """Return a function giving 0, 1, 2... on each call, to name the items a test adds."""
    numbers = iter(range(1000))
    return lambda: next(numbers)


def test_the_review_list_costs_the_same_for_one_review_and_for_many(writer, django_user_model):
    tenant = selectors.default_tenant()
    number = counter()

    def add_review():
        n = number()
        author = django_user_model.objects.create_user(f"author-{n}")
        ChangeRequest.objects.create(
            tenant_id=tenant.pk,
            subject_name=f"held-{n}-value",
            schema_text=TICK_V1,
            fingerprint=f"{n:064d}",
            author=author,
            decided_by=author,
        )

    assert_cost_does_not_grow(writer, "/reviews", add_review)


def test_the_token_list_costs_the_same_for_one_token_and_for_many(writer):
    number = counter()
    assert_cost_does_not_grow(
        writer, "/tokens", lambda: tokens.api_token_create(user=writer, name=f"ci-{number()}", acting_user=writer)
    )


@pytest.mark.parametrize("viewer", ["owner", "writer"])
def test_the_tenant_list_costs_the_same_for_one_tenant_and_for_many(request, owner, writer, viewer):
    number = counter()

    def add_tenant():
        tenant = tenants.tenant_create(slug=f"desk-{number()}", name="Desk", acting_user=owner)
        assign_perm(access.permission_of("write"), writer, tenant)  # the writer reads it through the grant

    assert_cost_does_not_grow(request.getfixturevalue(viewer), "/tenants", add_tenant)


def test_the_subscription_list_costs_the_same_for_one_subscription_and_for_many(writer):
    tenant = selectors.default_tenant()
    assert_cost_does_not_grow(
        writer,
        "/subscriptions",
        lambda: notifications.subscription_create(tenant=tenant, email="w@example.org", acting_user=writer),
    )


def subscribed(user):
    return notifications.subscription_create(tenant=selectors.default_tenant(), email="w@example.org", acting_user=user)


def delivered(subscription, attempts: int = 2) -> NotificationDelivery:
    delivery = NotificationDelivery.objects.create(
        subscription=subscription, event="version.registered", channel="email", payload={}, attempts=attempts
    )
    DeliveryAttempt.objects.bulk_create(DeliveryAttempt(delivery=delivery, error="refused") for _ in range(attempts))
    return delivery


def test_the_delivery_list_costs_the_same_for_one_delivery_and_for_many(writer):
    subscription = subscribed(writer)
    assert_cost_does_not_grow(writer, f"/subscriptions/{subscription.pk}/deliveries", lambda: delivered(subscription))


def assert_same_cost_when_warm(request_for):
    """`assert_same_cost`, after one request of the same kind has warmed the process's own caches."""
    request_for("warm-up")
    assert_same_cost(None, request_for)


def test_deleting_a_subscription_costs_the_same_for_one_delivery_and_for_many(writer):
    ids = {}
    for size in ("warm-up", SMALL, LARGE):
        subscription = subscribed(writer)
        for _ in range(1 if size == "warm-up" else size):
            delivered(subscription)
        ids[size] = subscription.pk

    assert_same_cost_when_warm(lambda size: signed_in(writer).delete(f"/subscriptions/{ids[size]}"))


@pytest.mark.parametrize("method", ["delete", "post"], ids=["revoke", "rotate"])
def test_revoking_or_rotating_a_token_costs_the_same_for_one_token_of_the_account_and_for_many(
    django_user_model, method
):
    holders, token_ids = {}, {}
    for size in ("warm-up", SMALL, LARGE):
        holders[size] = django_user_model.objects.create_user(f"holder-{size}")
        made = [
            tokens.api_token_create(user=holders[size], name=f"ci-{n}", acting_user=holders[size])[0]
            for n in range(1 if size == "warm-up" else size)
        ]
        token_ids[size] = made[0].pk

    suffix = "/rotate" if method == "post" else ""
    assert_same_cost_when_warm(
        lambda size: getattr(signed_in(holders[size]), method)(f"/tokens/{token_ids[size]}{suffix}")
    )
