"""A hash chain over the audit log: each entry is sealed with the hash of its content and of the previous seal.

Editing, deleting or reordering entries in the database breaks the chain at the first entry
touched, which `python manage.py verify_audit` names.
"""

import hashlib
import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction

from schemas_app.models import AuditChainHead, AuditSeal
from schemas_app.round_trips import insert_statement, inserted, mark_inserted, results_together

GENESIS = "0" * 64
# The chain has one head row.
HEAD_ID = 1
# Entries written inside `sealed_together()`, sealed in one pass at its end; None outside such a block.
_unsealed: ContextVar[list | None] = ContextVar("audit_unsealed_entries", default=None)


def entry_content(entry: LogEntry) -> str:
    """Return the canonical text of what an entry records (its id included, so moving it shows)."""
    content_type = entry.content_type
    return json.dumps(
        {
            "id": entry.pk,
            "model": f"{content_type.app_label}.{content_type.model}" if content_type else None,
            "object_pk": None if entry.object_pk is None else str(entry.object_pk),
            "object_repr": entry.object_repr,
            "action": entry.action,
            "changes": entry.changes,
            "changes_text": entry.changes_text,
            "actor_id": entry.actor_id,
            "actor_email": entry.actor_email,
            "remote_addr": entry.remote_addr,
            "remote_port": entry.remote_port,
            "cid": entry.cid,
            "timestamp": entry.timestamp.isoformat() if entry.timestamp else None,
            "additional_data": entry.additional_data,
        },
        sort_keys=True,
        default=str,
    )


def chained_hash(previous_hash: str, entry: LogEntry) -> str:
    return hashlib.sha256((previous_hash + entry_content(entry)).encode()).hexdigest()


def seal_entry(entry: LogEntry) -> AuditSeal:
    return seal_entries([entry])[0]


def seal_entries(entries, *, deferred_checks_first: bool = False) -> list[AuditSeal]:
    """Append entries to the chain in order, in two statements however many; the head row's lock orders writers.

    Every registration seals its entries, so the statements are written out rather than built by the ORM
    (building them cost more than running them). Inside a transaction no savepoint is taken: a seal that
    fails fails the whole write, as it should. `deferred_checks_first`: see `sealed_together`. Entries not
    inserted yet (written in bulk by `auditing.log_rows`) are inserted first, in the round trip that locks the head.
    """
    if not entries:
        return []
    with transaction.atomic(savepoint=False):
        previous = _locked_last_hash(deferred_checks_first, [entry for entry in entries if entry.pk is None])
        seals = []
        for entry in entries:
            seal = AuditSeal(entry_id=entry.pk, previous_hash=previous, hash=chained_hash(previous, entry))
            seals.append(seal)
            previous = seal.hash
        _append(seals)
    return seals


def _locked_last_hash(deferred_checks_first: bool = False, unsaved: list[LogEntry] = ()) -> str:
    """Return the chain's last hash with the head row locked until the transaction ends (created when missing).

    In the same round trip, first: the INSERT of the `unsaved` entries (which get their ids), then, with
    `deferred_checks_first`, the transaction's deferred checks.
    """
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    statements = [(f"SELECT last_hash FROM {AuditChainHead._meta.db_table} WHERE id = %s{lock}", [HEAD_ID])]
    if deferred_checks_first and connection.vendor == "postgresql":
        statements.insert(0, (CHECK_DEFERRED_CONSTRAINTS, []))
    if unsaved:
        statements.insert(0, insert_statement(unsaved))
    with connection.cursor() as cursor:
        results = results_together(cursor, statements)
    if unsaved:
        mark_inserted(unsaved, results[0])
    rows = results[-1]
    if rows:
        return rows[0][0]
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=HEAD_ID, defaults={"last_hash": GENESIS})
    return head.last_hash


def _append(seals: list[AuditSeal]) -> None:
    """Insert the seals and move the head to the last one (an UPDATE without save()'s signals: not an audited row)."""
    if connection.vendor != "postgresql":
        AuditSeal.objects.bulk_create(seals)
        AuditChainHead.objects.filter(pk=HEAD_ID).update(last_hash=seals[-1].hash)
        return
    columns = [[seal.entry_id for seal in seals], [seal.previous_hash for seal in seals], [seal.hash for seal in seals]]
    with connection.cursor() as cursor:
        # One round trip: PostgreSQL runs a data-modifying WITH whether or not anything reads it.
        cursor.execute(
            f"WITH sealed AS (INSERT INTO {AuditSeal._meta.db_table} (entry_id, previous_hash, hash) "
            "SELECT * FROM UNNEST(%s::bigint[], %s::varchar[], %s::varchar[])) "
            f"UPDATE {AuditChainHead._meta.db_table} SET last_hash = %s WHERE id = %s",
            [*columns, seals[-1].hash, HEAD_ID],
        )


def seal_now_or_with_the_block(entries) -> None:
    """Seal entries now, or with the others written inside the enclosing `sealed_together()` block.

    Entries not inserted yet are inserted with their seal, in the round trip that locks the chain's head; in a
    block, an entry saved through the ORM before its end has them inserted first (`insert_waiting_entries_first`),
    so ids keep the order the entries were written in.
    """
    unsealed = _unsealed.get()
    if unsealed is None:
        seal_entries(entries)
    else:
        unsealed.extend(entries)


def insert_waiting_entries_first(sender, instance, raw=False, **kwargs):
    """Before an entry is saved through the ORM, insert the entries of the enclosing block still waiting for it."""
    unsealed = _unsealed.get()
    waiting = [entry for entry in unsealed or () if entry.pk is None and entry is not instance]
    if waiting and not raw:
        inserted(waiting)


@contextmanager
def sealed_together():
    """Seal the audit entries written inside the block in one pass at its end (three queries), not one pass each.

    Use it inside the transaction that writes them, around code that catches no database error of its
    own after writing an entry (an entry undone by a rolled-back savepoint would still be sealed). The
    chain head's row is then locked only at the end, so writers of other rows queue for a shorter time, and
    it is the last lock the transaction takes (its deferred checks run first): a transaction that held the
    head while waiting for a row deadlocked with the writer holding that row while it sealed its own entries.
    If the block raises, nothing is sealed: the transaction rolls back and takes the entries with it.
    """
    if _unsealed.get() is not None:  # an enclosing block seals these too
        yield
        return
    unsealed = []
    token = _unsealed.set(unsealed)
    try:
        yield
    finally:
        _unsealed.reset(token)
    if unsealed:
        seal_entries(unsealed, deferred_checks_first=True)


# Runs the transaction's deferred foreign-key checks at once, before the chain's head is locked (PostgreSQL).
# Django's foreign keys are checked at commit; each check locks the row referred to (FOR KEY SHARE). Run after
# sealing, a check waiting for a row that a writer holds while it waits for the head (a subscription being
# deleted, a schema being purged) deadlocked with it. Later statements of the transaction are then checked as
# they run, as they would be with constraints declared immediate.
CHECK_DEFERRED_CONSTRAINTS = "SET CONSTRAINTS ALL IMMEDIATE"


def on_log_entry_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        seal_now_or_with_the_block([instance])


def refuse_change(sender, instance, raw=False, **kwargs):
    """Entries are written once by auditlog; the application never changes them afterwards."""
    if instance.pk is not None and not raw and LogEntry.objects.filter(pk=instance.pk).exists():
        raise PermissionDenied("Audit log entries cannot be changed.")


def refuse_delete(sender, instance, **kwargs):
    raise PermissionDenied("Audit log entries cannot be deleted.")


@dataclass
class Verdict:
    checked: int
    problem: str | None = None
    entry_id: int | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_chain(batch_size: int = 2000) -> Verdict:
    """Walk the chain in order and return the first entry that was edited, deleted, reordered or never sealed."""
    previous = GENESIS
    checked = 0
    seals = AuditSeal.objects.order_by("id")
    last_id = 0
    while True:
        batch = list(seals.filter(id__gt=last_id)[:batch_size])
        if not batch:
            break
        last_id = batch[-1].id
        entries = LogEntry.objects.select_related("content_type").in_bulk([seal.entry_id for seal in batch])
        for seal in batch:
            if seal.previous_hash != previous:
                return Verdict(
                    checked, "the chain is out of order before it (a seal was moved or removed)", seal.entry_id
                )
            entry = entries.get(seal.entry_id)
            if entry is None:
                return Verdict(checked, "was deleted", seal.entry_id)
            if chained_hash(previous, entry) != seal.hash:
                return Verdict(checked, "does not match its seal (edited or reordered)", seal.entry_id)
            previous = seal.hash
            checked += 1
    unsealed = (
        LogEntry.objects.exclude(pk__in=AuditSeal.objects.values("entry_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if unsealed is not None:
        return Verdict(checked, "is not in the chain (written around the application)", unsealed)
    return Verdict(checked)
