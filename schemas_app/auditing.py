"""Attribute audit log entries to the acting user of a service call.

auditlog's middleware sees only session users; API clients authenticate inside
DRF (Basic, Token), so services set the actor themselves.
"""

import contextlib
import functools
import ipaddress
import logging
import sqlite3
from collections.abc import Callable, Sequence

from auditlog.cid import get_cid, set_cid
from auditlog.context import _set_extra_data, auditlog_value, disable_auditlog
from auditlog.diff import model_instance_diff
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import OperationalError, transaction
from django.db.models.signals import pre_save

from registry.client_address import source_address
from registry.logs import current_request_id
from schemas_app.audit_chain import seal_now_or_with_the_block, sealed_together
from schemas_app.errors import TryAgain

logger = logging.getLogger(__name__)


def audited(service):
    """Run a service in one transaction, recording its `acting_user` keyword as the actor of every change it makes.

    Every write names who made it: a user of the API or the admin, or the system account
    (`services.system_account()`) for commands. None is refused, so the audit trail never
    has an anonymous entry.

    The entries are sealed into the audit chain at the end of the transaction, so the chain's head is the
    last lock it takes: a service that sealed first and then waited for a row (a subject, a version, a
    configuration) deadlocked with a writer holding that row while it sealed its own entries.

    A transaction the database gave up on (a deadlock, a lock or statement timeout, a serialization failure,
    a lost connection) raises TryAgain (503/50301 with Retry-After): it was rolled back whole, so the same
    request may simply be sent again. Any other database error is a bug and stays what it is (500).
    """

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        user = kwargs.get("acting_user")
        if user is None:
            raise TypeError(
                f"{service.__name__}() needs acting_user: the request's user, or services.system_account() in commands."
            )
        try:
            with transaction.atomic(), sealed_together():
                if not user.is_authenticated:
                    return service(*args, **kwargs)
                with acting_as(user):
                    return service(*args, **kwargs)
        except OperationalError as error:
            if not gave_up_on_transaction(error):
                raise
            logger.warning(
                "%s: the database gave up on its transaction, answered as retryable: %s", service.__name__, error
            )
            raise TryAgain() from error

    return wrapper


# SQLSTATEs of a transaction PostgreSQL gave up on for reasons of its own, which the same request sent again may
# pass: class 40 (serialization failure, deadlock detected), class 08 (connection exceptions), 57P01..57P05
# (server shut down or crashed, idle session timeout), 55P03 (lock_timeout), 57014 (statement_timeout, a cancel),
# 53300 (too many connections).
TRANSIENT_SQLSTATE_PREFIXES = ("40", "08", "57P")
TRANSIENT_SQLSTATES = frozenset({"55P03", "57014", "53300"})


def gave_up_on_transaction(error: OperationalError) -> bool:
    """Return True when the database gave up on the transaction for a reason of its own, not the request's or a bug's.

    Other operational errors (an object not in the state a statement needs, a program limit exceeded) would
    fail the same way again.
    """
    cause = error.__cause__
    if isinstance(cause, sqlite3.Error):  # another writer held the database past the busy timeout
        return (getattr(cause, "sqlite_errorname", None) or "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is None:  # the driver's own error: no answer from the server, the connection is lost
        return True
    return sqlstate.startswith(TRANSIENT_SQLSTATE_PREFIXES) or sqlstate in TRANSIENT_SQLSTATES


@contextlib.contextmanager
def acting_as(user):
    """Name `user` as the actor of the audit entries written in the block, keeping the request's source address.

    As auditlog's set_actor does, but through the receiver connected once at start-up: set_actor connects
    a receiver of its own and drops it after, which empties the signal's cache of receivers on every write.
    """
    request_context = auditlog_value.get({})
    context = {
        "actor": user,
        "remote_addr": request_context.get("remote_addr"),
        "remote_port": request_context.get("remote_port"),
        "signal_duid": REQUEST_SIGNAL_DUID,
    }
    token = auditlog_value.set(context)
    try:
        yield
    finally:
        auditlog_value.reset(token)


def log_rows(rows: Sequence, *, action: int, changes: Callable, acting_user) -> None:
    """Write one audit entry per row in a single INSERT: for bulk writes, which send no per-row signal.

    `changes(row)` returns auditlog's {field: [old, new]} for the row.
    """
    if not rows:
        return
    actor = acting_user if acting_user.is_authenticated else None
    request_context = auditlog_value.get({})
    # No post_save is sent, so these entries are written and sealed into the hash chain here.
    seal_now_or_with_the_block(
        [
            LogEntry(
                content_type=ContentType.objects.get_for_model(row),  # cached by Django after the first call
                object_pk=str(row.pk),
                object_id=row.pk,
                object_repr=str(row),
                action=action,
                changes=changes(row),
                actor=actor,
                actor_email=getattr(actor, "email", None),
                cid=get_cid(),
                remote_addr=request_context.get("remote_addr"),
                remote_port=request_context.get("remote_port"),
            )
            for row in rows
        ]
    )


def log_created(rows: Sequence, *, acting_user) -> None:
    """Write the entries auditlog writes when rows are created, in one INSERT, for rows saved with it disabled."""
    log_rows(
        rows,
        action=LogEntry.Action.CREATE,
        changes=lambda row: model_instance_diff(None, row, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES),
        acting_user=acting_user,
    )


def delete_rows(queryset, rows: Sequence, *, acting_user) -> None:
    """Delete the rows of `queryset` with one audit entry each, written in one INSERT instead of one per row."""
    with disable_auditlog():
        queryset.delete()
    log_rows(
        rows, action=LogEntry.Action.DELETE, changes=lambda row: model_instance_diff(row, None), acting_user=acting_user
    )


def audit_request_id() -> str | None:
    """Return the id of the request being served (registry.logs sets it), or None outside a request.

    AUDITLOG_CID_GETTER names this, so each audit entry carries the id the logs and the X-Request-ID header show.
    """
    request_id = current_request_id()
    return None if request_id in ("", "-") else request_id


def recordable_address(address: str) -> str | None:
    """Return the address as the audit's inet column records it, or None when it is no IP address.

    Parsed once per address a process meets (ipaddress' parse costs more than the rest of a cached
    lookup's audit context); longer strings than any IP address, which a proxy's hop may be, are not kept.
    """
    if len(address) > _LONGEST_KEPT_ADDRESS:
        return _parsed_address(address)
    return _kept_parsed_address(address)


def _parsed_address(address: str) -> str | None:
    try:  # the column holds IP addresses only; a proxy's hop may be anything
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


_LONGEST_KEPT_ADDRESS = 64
_kept_parsed_address = functools.lru_cache(maxsize=1_024)(_parsed_address)


# Names the one receiver that gives audit entries written during a request the request's context.
REQUEST_SIGNAL_DUID = ("registry-request", 0)


class RequestAuditMiddleware(AuditlogMiddleware):
    """auditlog's middleware with its receiver connected once, instead of connected and dropped around every request.

    auditlog's own middleware connects a pre_save receiver for each request and disconnects it after; both
    take the signal's lock and empty its cache of receivers, on every request, lookups included. This one
    sets the same context (address, port, session user) for the receiver `connect_request_receiver`
    connects at start-up, which acts exactly as auditlog's does while the request's context is current.
    """

    def __call__(self, request):
        with self.audit_context(request):
            return self.get_response(request)

    @staticmethod
    def _get_remote_addr(request):
        """The client's address as the sign-in limits see it, instead of auditlog's first X-Forwarded-For hop.

        Any client can write that header: only the hops REGISTRY_TRUSTED_PROXIES proxies added count.
        """
        if settings.AUDITLOG_DISABLE_REMOTE_ADDR:
            return None
        return recordable_address(source_address(request))

    @staticmethod
    def _get_remote_port(request) -> int | None:
        """X-Forwarded-Port when a trusted proxy sent it (auditlog's reads it from any client), read from META."""
        if not settings.REGISTRY_TRUSTED_PROXIES:
            return None
        port = request.META.get("HTTP_X_FORWARDED_PORT", "")
        return int(port) if port.isascii() and port.isdigit() else None

    @contextlib.contextmanager
    def audit_context(self, request):
        """Give the audit entries written while serving `request` its address, port and session user."""
        set_cid(request)
        context = self.get_extra_data(request)
        context["signal_duid"] = REQUEST_SIGNAL_DUID
        token = auditlog_value.set(context)
        try:
            yield
        finally:
            auditlog_value.reset(token)


def connect_request_receiver() -> None:
    """Connect the receiver of RequestAuditMiddleware's context (called once, from the app's ready())."""
    pre_save.connect(
        functools.partial(_set_extra_data, signal_duid=REQUEST_SIGNAL_DUID),
        sender=LogEntry,
        dispatch_uid="registry-audit-request-context",
        weak=False,
    )
