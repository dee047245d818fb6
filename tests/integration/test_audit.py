"""The audit trail: who, when, from where and in which request; sealed in a hash chain that verify_audit checks."""

import json

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from rest_framework.test import APIClient

from schemas_app.auditing import recordable_address
from tests.integration.api.helpers import TICK_V1, TICK_V2_ADDS_FIELD, put, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(writer):
    """A few audited changes made over the API, as a client with its own request id."""
    client = APIClient(HTTP_X_REQUEST_ID="req-4711", REMOTE_ADDR="192.0.2.10")
    client.force_authenticate(writer)
    assert register(client, "ticks-value", TICK_V1).status_code == 200
    assert put(client, "/config/ticks-value", {"compatibility": "FULL"}).status_code == 200
    assert register(client, "ticks-value", TICK_V2_ADDS_FIELD).status_code == 200
    return list(LogEntry.objects.order_by("pk"))


def verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_every_entry_names_actor_time_source_address_request_and_object(history):
    version_entry = next(entry for entry in history if entry.content_type.model == "subjectversion")
    assert version_entry.actor.username == "writer"
    assert version_entry.remote_addr == "192.0.2.10"
    assert version_entry.cid == "req-4711"
    assert version_entry.timestamp.tzinfo is not None
    assert version_entry.object_repr == "ticks-value v1 (1.0.0)"
    config_entry = next(entry for entry in history if entry.content_type.model == "subjectconfig")
    assert "object (" not in config_entry.object_repr and "ticks-value" in config_entry.object_repr


def registered_from(writer, **headers) -> LogEntry:
    """Register a version with these request headers; return the version's audit entry."""
    client = APIClient(**headers)
    client.force_authenticate(writer)
    assert register(client, "ticks-value", TICK_V1).status_code == 200
    return LogEntry.objects.filter(content_type__model="subjectversion").latest("pk")


def test_a_forwarded_for_header_from_the_client_itself_is_not_taken_as_its_address(writer):
    entry = registered_from(
        writer, REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="203.0.113.99", HTTP_X_FORWARDED_PORT="1"
    )
    assert (entry.remote_addr, entry.remote_port) == ("192.0.2.10", None)


def test_behind_a_trusted_proxy_the_address_it_forwarded_is_recorded(writer, settings):
    settings.REGISTRY_TRUSTED_PROXIES = 1
    entry = registered_from(
        writer, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.99, 198.51.100.7", HTTP_X_FORWARDED_PORT="51234"
    )
    assert (entry.remote_addr, entry.remote_port) == ("198.51.100.7", 51234)


def test_a_forwarded_hop_that_is_no_address_is_recorded_as_none(writer, settings):
    settings.REGISTRY_TRUSTED_PROXIES = 1
    assert registered_from(writer, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address").remote_addr is None


def test_an_address_is_recorded_alike_however_often_it_comes_and_a_hop_longer_than_any_address_as_none():
    """Parsed addresses are kept per process; a hop longer than any address is parsed each time, never kept."""
    hops = ["2001:0db8::0001", "2001:0db8::0001", "192.0.2.010", "1" * 100, "1" * 100]
    assert [recordable_address(hop) for hop in hops] == ["2001:db8::1", "2001:db8::1", None, None, None]


def test_the_registry_answers_with_the_request_id_it_recorded(writer):
    client = APIClient()
    client.force_authenticate(writer)
    response = register(client, "ticks-value", TICK_V1)
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    assert LogEntry.objects.filter(cid=request_id).exists()


def test_an_intact_log_verifies(history):
    assert f"{len(history)} entries verified" in verify()


def test_verify_audit_names_an_edited_entry(history):
    edited = history[1]
    LogEntry.objects.filter(pk=edited.pk).update(object_repr="nothing to see")  # around the application
    with pytest.raises(CommandError, match=rf"entry {edited.pk} does not match its seal"):
        verify()


def test_verify_audit_names_a_deleted_entry(history):
    deleted = history[2]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LogEntry._meta.db_table} WHERE id = %s", [deleted.pk])
    with pytest.raises(CommandError, match=rf"entry {deleted.pk} was deleted"):
        verify()


def test_verify_audit_names_the_first_of_two_reordered_entries(history):
    first, second = history[1], history[3]
    LogEntry.objects.filter(pk=first.pk).update(timestamp=second.timestamp)
    LogEntry.objects.filter(pk=second.pk).update(timestamp=first.timestamp)
    with pytest.raises(CommandError, match=rf"entry {first.pk} does not match its seal"):
        verify()


def test_verify_audit_names_an_entry_written_around_the_application(history):
    LogEntry.objects.bulk_create([LogEntry(object_repr="forged", action=0, content_type=history[0].content_type)])
    forged = LogEntry.objects.get(object_repr="forged")
    with pytest.raises(CommandError, match=rf"entry {forged.pk} is not in the chain"):
        verify()


def test_the_application_neither_changes_nor_deletes_entries(history):
    entry = history[0]
    entry.object_repr = "rewritten"
    with pytest.raises(PermissionDenied), transaction.atomic():
        entry.save()
    with pytest.raises(PermissionDenied), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()
    assert "entries verified" in verify()


def test_the_admin_offers_no_way_to_change_or_delete_an_entry(history, console):
    entry = history[0]
    base = f"/admin/auditlog/logentry/{entry.pk}"
    page = console.get(f"{base}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert console.post(f"{base}/change/", {"object_repr": "rewritten"}).status_code == 403
    assert console.get(f"{base}/delete/").status_code == 403
    assert console.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    assert console.get("/admin/auditlog/logentry/add/").status_code == 403
    listing = console.get("/admin/auditlog/logentry/")
    assert listing.status_code == 200 and b'name="action"' not in listing.content
    assert LogEntry.objects.get(pk=entry.pk).object_repr == entry.object_repr
    assert "entries verified" in verify()


def test_api_tokens_are_audited_without_their_digest(writer):
    from schemas_app.models import ApiToken

    ApiToken.objects.create(user=writer, name="ci", prefix="rgt_abcd", digest="f" * 64)
    entry = LogEntry.objects.get(content_type__model="apitoken")
    assert "digest" not in entry.changes and "ci" in entry.object_repr


def test_entries_written_in_bulk_by_deletes_are_sealed_too(history, api):
    assert api.delete("/subjects/ticks-value").json() == [1, 2]
    assert api.delete("/subjects/ticks-value?permanent=true").json() == [1, 2]
    deletes = LogEntry.objects.filter(content_type__model="subjectversion", action=LogEntry.Action.DELETE)
    assert deletes.count() == 2
    assert "entries verified" in verify()


def test_a_write_after_a_service_in_the_same_request_keeps_the_request_address(writer):
    """A service names its actor for its own writes only: what the request writes afterwards keeps its address."""
    from django.test import RequestFactory

    from schemas_app import selectors, services
    from schemas_app.auditing import RequestAuditMiddleware
    from schemas_app.models import SubjectMode

    request = RequestFactory().post("/subjects/ticks-value/versions", REMOTE_ADDR="192.0.2.10")
    with RequestAuditMiddleware(lambda request: None).audit_context(request):
        services.subject_version_register(
            tenant=selectors.default_tenant(), subject_name="ticks-value", schema=TICK_V1, acting_user=writer
        )
        SubjectMode.objects.create(tenant=selectors.default_tenant(), subject_name="ticks-value", mode="READONLY")

    version_entry, mode_entry = (
        LogEntry.objects.filter(content_type__model=model).get() for model in ("subjectversion", "subjectmode")
    )
    assert version_entry.actor == writer and version_entry.remote_addr == "192.0.2.10"
    assert mode_entry.remote_addr == "192.0.2.10"


def test_a_new_subjects_entry_is_the_one_auditlog_writes_when_a_subject_is_saved(writer):
    """A registration inserts a new subject without a signal and writes its entry itself, as auditlog would."""
    from auditlog.diff import model_instance_diff
    from django.conf import settings
    from django.test import RequestFactory

    from schemas_app import selectors, services
    from schemas_app.auditing import RequestAuditMiddleware, acting_as
    from schemas_app.models import Subject

    tenant = selectors.default_tenant()
    request = RequestFactory().post("/subjects/ticks-value/versions", REMOTE_ADDR="192.0.2.10")
    with RequestAuditMiddleware(lambda request: None).audit_context(request):
        services.subject_version_register(tenant=tenant, subject_name="ticks-value", schema=TICK_V1, acting_user=writer)
        with transaction.atomic(), acting_as(writer):
            Subject.objects.create(tenant=tenant, name="saved-value")  # auditlog's own receiver writes its entry

    registered, saved = (
        LogEntry.objects.get(content_type__model="subject", object_repr__contains=name)
        for name in ("ticks-value", "saved-value")
    )
    for entry in (registered, saved):
        subject = Subject.objects.get(pk=entry.object_id)
        assert (entry.object_pk, entry.object_repr) == (str(subject.pk), str(subject))
        diff = model_instance_diff(None, subject, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES)
        assert entry.changes == json.loads(json.dumps(diff))  # as stored: lists where the diff has tuples
    same_for_any_subject = [
        field.attname
        for field in LogEntry._meta.concrete_fields
        if field.name not in ("id", "object_pk", "object_id", "object_repr", "changes", "timestamp")
    ]
    assert {name: getattr(registered, name) for name in same_for_any_subject} == {
        name: getattr(saved, name) for name in same_for_any_subject
    }
    assert registered.changes.keys() == saved.changes.keys()
    assert registered.actor == writer and registered.remote_addr == "192.0.2.10"
    assert "entries verified" in verify()


@pytest.mark.parametrize("global_review_policy", ["none", "all"])
def test_a_subject_created_by_a_registration_has_its_entry_whether_the_version_is_stored_or_held(
    owner, global_review_policy
):
    """The new subject's entry goes in the version's INSERT, or on its own when the review policy holds the version."""
    client = APIClient()
    client.force_authenticate(owner)
    assert put(client, "/config", {"reviewPolicy": global_review_policy}).status_code == 200

    answer = register(client, "fresh-value", TICK_V1)

    assert answer.status_code == (200 if global_review_policy == "none" else 202), answer.content
    entries = LogEntry.objects.filter(content_type__model="subject", object_repr__contains="fresh-value")
    assert entries.count() == 1
    assert "intact" in verify().lower()


def test_entries_waiting_for_the_block_end_are_inserted_before_an_entry_saved_after_them(writer):
    """Entries written in bulk inside a block wait for its end; one saved through the ORM meanwhile comes after them."""
    from schemas_app import selectors
    from schemas_app.audit_chain import sealed_together
    from schemas_app.auditing import acting_as, log_created
    from schemas_app.models import Subject

    tenant = selectors.default_tenant()
    with transaction.atomic(), sealed_together(), acting_as(writer):
        first = Subject.objects.bulk_create([Subject(tenant=tenant, name="first-value")])
        log_created(first, acting_user=writer)
        Subject.objects.create(tenant=tenant, name="second-value")  # auditlog's receiver saves its entry
        log_created(Subject.objects.bulk_create([Subject(tenant=tenant, name="third-value")]), acting_user=writer)

    entries = LogEntry.objects.filter(content_type__model="subject").order_by("pk")
    assert [entry.object_repr.split()[0] for entry in entries][-3:] == ["first-value", "second-value", "third-value"]
    assert "intact" in verify().lower()
