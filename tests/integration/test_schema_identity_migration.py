"""The migration that recomputes fingerprints lets schemas stored before it be found whatever their layout."""

import importlib

import pytest
from django.apps import apps

from protoengine.canonical import fingerprint as text_fingerprint
from protoengine.compiler import compile_one
from schemas_app.models import ChangeRequest, Schema
from schemas_app.selectors import default_tenant
from tests.integration.api.helpers import MONEY, ORDER_WITH_MONEY, descriptor_base64, put, register

pytestmark = pytest.mark.django_db

migration = importlib.import_module("schemas_app.migrations.0005_schema_fingerprints_ignore_layout")


def test_schemas_stored_with_text_fingerprints_are_found_relaid_after_the_migration(api):
    reference = {"name": "common/money.proto", "subject": "common/money.proto", "version": 1}
    money_id = register(api, "common/money.proto", MONEY).json()["id"]
    order_id = register(api, "orders-value", ORDER_WITH_MONEY, [reference]).json()["id"]
    # What the rows looked like before: fingerprints of the exact text.
    Schema.objects.filter(pk=money_id).update(fingerprint=text_fingerprint(MONEY))
    Schema.objects.filter(pk=order_id).update(
        fingerprint=text_fingerprint(ORDER_WITH_MONEY, [tuple(reference.values())])
    )

    migration.forwards(apps, None)

    relaid_order = ORDER_WITH_MONEY.replace("\n\n", "\n").replace("  ", "\t")
    assert register(api, "orders-value", relaid_order, [reference]).json()["id"] == order_id
    assert register(api, "common/money.proto", MONEY.replace("  ", "    ")).json()["id"] == money_id
    assert api.get("/subjects/orders-value/versions").json() == [1]


layout_migration = importlib.import_module("schemas_app.migrations.0007_schema_canonical_fingerprints_confluent_layout")


def test_schemas_normalised_in_the_old_layout_are_found_by_meaning_after_the_migration(api):
    schema_id = register(api, "money-value", MONEY).json()["id"]
    Schema.objects.filter(pk=schema_id).update(canonical_fingerprint="in the layout before Confluent's")

    layout_migration.forwards(apps, None)

    commented = "// Money, commented now.\n" + MONEY
    assert register(api, "money-value", commented, normalize="true").json()["id"] == schema_id
    assert api.get("/subjects/money-value/versions").json() == [1]


options_migration = importlib.import_module("schemas_app.migrations.0017_identity_fingerprints_options_order")

OPTIONS = """syntax = "proto3";
package shop.v1;
import "google/protobuf/descriptor.proto";
extend google.protobuf.FieldOptions {
  bool sensitive = 51001;
  int32 level = 51002;
}
"""

# Two custom options on one field, written out of field-number order.
ACCOUNT = """syntax = "proto3";
package shop.v1;
import "shop/options.proto";
message Account {
  string email = 1 [(shop.v1.level) = 3, (shop.v1.sensitive) = true];
}
"""

OPTIONS_REFERENCE = {"name": "shop/options.proto", "subject": "shop/options.proto", "version": 1}


def fingerprint_before_0017() -> str:
    """Return ACCOUNT's identity fingerprint as 0005 to 0016 computed it: the digest of protoc's order of options."""
    root = compile_one(options_migration.ROOT, ACCOUNT, {"shop/options.proto": OPTIONS}).file(options_migration.ROOT)
    return options_migration._before(root, [tuple(OPTIONS_REFERENCE.values())], "", comments=True)


def test_schemas_with_options_out_of_order_are_found_after_the_migration(api):
    register(api, "shop/options.proto", OPTIONS)
    account_id = register(api, "accounts-value", ACCOUNT, [OPTIONS_REFERENCE]).json()["id"]
    # What the row looked like before: the digest of protoc's order of the options.
    before = fingerprint_before_0017()
    assert before != Schema.objects.get(pk=account_id).fingerprint
    Schema.objects.filter(pk=account_id).update(fingerprint=before)

    options_migration.forwards(apps, None)

    assert register(api, "accounts-value", ACCOUNT, [OPTIONS_REFERENCE]).json()["id"] == account_id
    assert api.get("/subjects/accounts-value/versions").json() == [1]


review_migration = importlib.import_module("schemas_app.migrations.0018_review_fingerprints_options_order")


@pytest.mark.parametrize("options_tenant", ["", ":.shared:"], ids=["own options", "shared options"])
def test_a_proposal_sent_again_after_the_migration_finds_its_open_review(api, options_tenant):
    default_tenant()  # as after bootstrap: the writer's readable tenants are worked out on its first request
    register(api, f"{options_tenant}shop/options.proto", OPTIONS)
    assert put(api, "/config/accounts-value", {"reviewPolicy": "all"}).status_code == 200
    review_id = register(api, "accounts-value", ACCOUNT, [OPTIONS_REFERENCE]).json()["review_id"]
    # What the open review looked like before: the digest of protoc's order of the options.
    before = fingerprint_before_0017()
    ChangeRequest.objects.filter(pk=review_id).update(fingerprint=before)

    review_migration.forwards(apps, None)

    assert register(api, "accounts-value", ACCOUNT, [OPTIONS_REFERENCE]).json()["review_id"] == review_id
    assert ChangeRequest.objects.filter(status="PENDING_REVIEW").count() == 1


shared_references_migration = importlib.import_module(
    "schemas_app.migrations.0019_schema_fingerprints_shared_references"
)


def test_schemas_importing_shared_options_out_of_order_are_found_after_the_migrations(api):
    default_tenant()  # as after bootstrap: the writer's readable tenants are worked out on its first request
    register(api, ":.shared:shop/options.proto", OPTIONS)
    account_id = register(api, "accounts-value", ACCOUNT, [OPTIONS_REFERENCE]).json()["id"]
    before = fingerprint_before_0017()
    Schema.objects.filter(pk=account_id).update(fingerprint=before)

    options_migration.forwards(apps, None)
    shared_references_migration.forwards(apps, None)

    assert register(api, "accounts-value", ACCOUNT, [OPTIONS_REFERENCE]).json()["id"] == account_id
    assert api.get("/subjects/accounts-value/versions").json() == [1]


comments_migration = importlib.import_module("schemas_app.migrations.0020_identity_fingerprints_comments_as_bytes")

MONEY_REFERENCE = {"name": "common/money.proto", "subject": "common/money.proto", "version": 1}
COMMENTED_ORDER = "// Orders placed by customers.\n" + ORDER_WITH_MONEY.replace(
    "string order_id = 1;", "string order_id = 1; // Unique in its tenant."
)


def fingerprint_before_0020(text: str, references=(), dependencies=None, *, normalized: bool = False) -> str:
    """Return a schema's identity fingerprint with comments as 0017 to 0019 computed it: the comments as JSON."""
    roots = list(comments_migration._roots(text, dependencies or {}))
    return comments_migration._before(roots[1 if normalized else 0], [tuple(ref.values()) for ref in references], "")


def test_schemas_stored_with_their_comments_as_json_are_found_after_the_migration(api):
    money_id = register(api, "common/money.proto", MONEY).json()["id"]
    order_id = register(api, "orders-value", COMMENTED_ORDER, [MONEY_REFERENCE]).json()["id"]
    # What the rows looked like before: the comments hashed as JSON lists.
    befores = {
        money_id: fingerprint_before_0020(MONEY),
        order_id: fingerprint_before_0020(COMMENTED_ORDER, [MONEY_REFERENCE], {"common/money.proto": MONEY}),
    }
    for schema_id, before in befores.items():
        assert before != Schema.objects.get(pk=schema_id).fingerprint
        Schema.objects.filter(pk=schema_id).update(fingerprint=before)

    comments_migration.forwards(apps, None)

    relaid_order = COMMENTED_ORDER.replace("\n\n", "\n").replace("  ", "\t")
    assert register(api, "orders-value", relaid_order, [MONEY_REFERENCE]).json()["id"] == order_id
    assert register(api, "common/money.proto", MONEY.replace("  ", "    ")).json()["id"] == money_id
    assert api.get("/subjects/orders-value/versions").json() == [1]

    comments_migration.backwards(apps, None)

    assert dict(Schema.objects.filter(pk__in=befores).values_list("pk", "fingerprint")) == befores


def test_a_schema_sent_as_a_descriptor_keeps_its_fingerprint_without_comments(api):
    schema_id = register(api, "ticks-value", descriptor_base64(MONEY)).json()["id"]
    stored = Schema.objects.get(pk=schema_id).fingerprint

    comments_migration.forwards(apps, None)

    assert Schema.objects.get(pk=schema_id).fingerprint == stored
    assert register(api, "ticks-value", descriptor_base64(MONEY)).json()["id"] == schema_id


@pytest.mark.parametrize("normalized", [False, True], ids=["as sent", "normalised"])
def test_a_proposal_sent_again_after_the_comments_migration_finds_its_open_review(api, normalized):
    query = {"normalize": "true"} if normalized else {}
    assert put(api, "/config/money-value", {"reviewPolicy": "all"}).status_code == 200
    review_id = register(api, "money-value", MONEY, **query).json()["review_id"]
    ChangeRequest.objects.filter(pk=review_id).update(fingerprint=fingerprint_before_0020(MONEY, normalized=normalized))

    comments_migration.forwards(apps, None)

    assert register(api, "money-value", MONEY, **query).json()["review_id"] == review_id
    assert ChangeRequest.objects.filter(status="PENDING_REVIEW").count() == 1
