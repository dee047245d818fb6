"""Writes of the review workflow: propose, approve, reject, withdraw and comment on change requests.

A held change is stored as a ChangeRequest and served to no client. Approving replays the
author's registration through `services.subject_version_register`, so an approved version
gets exactly what a direct registration would (ids, references, numbering, compatibility
against whatever landed meanwhile), inside the approval's transaction.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from schemas_app import notifications, selectors, services
from schemas_app.access import has_role
from schemas_app.auditing import audited
from schemas_app.dispatch import queue_on_commit
from schemas_app.errors import (
    Forbidden,
    NoticePeriodRunning,
    ReviewNotPending,
    ReviewNotReady,
    ReviewStale,
    SelfApproval,
)
from schemas_app.models import Approval, ChangeRequest, ReviewComment, Tenant
from schemas_app.preparation import PreparedSchema, Reference


def can_approve(user, change_request: ChangeRequest) -> bool:
    """Return True when the user holds the approve role for the change's subject."""
    return has_role(user, "approve", subject_name=change_request.subject_name, tenant=change_request.tenant)


def queue_preparation(change_request: ChangeRequest) -> None:
    """Queue the preparation task once the transaction that set the review up has committed."""
    from schemas_app.tasks import prepare_change_request

    queue_on_commit(prepare_change_request, change_request.pk)


def change_request_propose(
    *,
    tenant: Tenant,
    subject_name: str,
    prepared: PreparedSchema,
    normalize: bool | None,
    metadata,
    rule_set,
    config: dict,
    held_because: list[str],
    findings: list,
    base_version: int | None,
    acting_user,
) -> ChangeRequest:
    """Hold a proposed version for review, or return the open review of the same proposal.

    Runs inside the registration's transaction (which holds the subject's row lock).
    """
    open_review = ChangeRequest.objects.filter(
        tenant=tenant, subject_name=subject_name, fingerprint=prepared.fingerprint, status=ChangeRequest.Status.PENDING
    ).first()
    if open_review is not None:
        return open_review
    breaking = bool(findings)
    now = timezone.now()
    notice_hours = config["noticeHours"]
    try:
        with transaction.atomic():
            change_request = ChangeRequest.objects.create(
                tenant=tenant,
                subject_name=subject_name,
                schema_text=prepared.text,
                references=[reference.as_dict() for reference in prepared.references],
                normalize=normalize,
                metadata=metadata,
                rule_set=rule_set,
                fingerprint=prepared.fingerprint,
                held_because=held_because,
                breaking=breaking,
                author=services._user_or_none(acting_user),
                base_version=base_version,
                required_approvals=config["requiredApprovals"],
                notice_ends_at=now + timedelta(hours=notice_hours) if breaking else None,
                compatibility_findings=[finding.as_dict() for finding in findings],
            )
    except IntegrityError:  # the same proposal raced us to it
        return ChangeRequest.objects.get(
            tenant=tenant,
            subject_name=subject_name,
            fingerprint=prepared.fingerprint,
            status=ChangeRequest.Status.PENDING,
        )
    queue_preparation(change_request)
    notifications.notify(
        tenant=tenant,
        subject_name=subject_name,
        event="change.proposed",
        payload={
            "reviewId": change_request.pk,
            "reviewPath": f"/reviews/{change_request.pk}",
            "author": acting_user.get_username() if acting_user.is_authenticated else None,
            "breaking": breaking,
            "heldBecause": held_because,
            "findings": change_request.compatibility_findings,
            "noticeEndsAt": change_request.notice_ends_at.isoformat() if change_request.notice_ends_at else None,
        },
    )
    return change_request


@dataclass
class Decision:
    """What approving did: recorded one approval, or registered the version."""

    change_request: ChangeRequest
    registration: services.Registration | None = None

    @property
    def approved(self) -> bool:
        return self.change_request.status == ChangeRequest.Status.APPROVED


def _locked_pending(tenant: Tenant, review_id: int) -> ChangeRequest:
    change_request = selectors.change_request_get(tenant=tenant, review_id=review_id, for_update=True)
    if change_request.status != ChangeRequest.Status.PENDING:
        raise ReviewNotPending(change_request.pk, change_request.status)
    return change_request


def change_request_approve(
    *, tenant: Tenant, review_id: int, override_reason: str = "", now=None, acting_user
) -> Decision:
    """Approve a held change; with enough approvals, register it as a direct registration would.

    A review whose base version moved since it was prepared is re-checked and refused this time;
    a breaking change waits for its notice period unless the approver overrides it with a reason.
    """
    now = now or timezone.now()
    # One transaction (`audited`), whose audit entries are sealed at its end, after the subject's lock; one the
    # database gave up on raises TryAgain, and the reviewer may simply approve again.
    decision = _approve_locked(
        tenant=tenant, review_id=review_id, override_reason=override_reason, now=now, acting_user=acting_user
    )
    if isinstance(decision, ReviewStale):  # committed: the review waits for its new preparation
        raise decision
    return decision


@audited
def _approve_locked(*, tenant, review_id, override_reason, now, acting_user):
    change_request = _locked_pending(tenant, review_id)
    if change_request.author_id is not None and change_request.author_id == acting_user.pk:
        raise SelfApproval(change_request.pk)
    if not can_approve(acting_user, change_request):
        raise Forbidden("You need the approve role on this subject to approve its changes")
    if change_request.preparation != ChangeRequest.Preparation.READY:
        raise ReviewNotReady(change_request.pk, change_request.preparation, change_request.progress)
    if change_request.notice_ends_at and now < change_request.notice_ends_at:
        if not override_reason.strip():
            raise NoticePeriodRunning(change_request.pk, change_request.notice_ends_at.isoformat())
        change_request.notice_override_reason = override_reason.strip()
        change_request.save(update_fields=["notice_override_reason"])

    subject_version = selectors.latest_live_version(tenant=tenant, subject=change_request.subject_name)
    current_base = subject_version.version if subject_version else None
    if current_base != change_request.base_version:
        previous_base = change_request.base_version
        change_request.approvals.all().delete()
        change_request.base_version = current_base
        change_request.preparation = ChangeRequest.Preparation.QUEUED
        change_request.progress = 0
        change_request.save(update_fields=["base_version", "preparation", "progress"])
        queue_preparation(change_request)
        return ReviewStale(change_request.pk, previous_base, current_base)

    Approval.objects.get_or_create(change_request=change_request, approver=acting_user)
    if change_request.approvals.count() < change_request.required_approvals:
        return Decision(change_request=change_request)

    registration = services.subject_version_register(
        tenant=tenant,
        subject_name=change_request.subject_name,
        schema=change_request.schema_text,
        references=[Reference(**reference) for reference in change_request.references],
        normalize=change_request.normalize,
        metadata=change_request.metadata,
        rule_set=change_request.rule_set,
        approved_review=change_request,
        acting_user=acting_user,
    )
    change_request.status = ChangeRequest.Status.APPROVED
    change_request.decided_by = acting_user
    change_request.decided_at = now
    change_request.registered_version = registration.subject_version
    change_request.save(update_fields=["status", "decided_by", "decided_at", "registered_version"])
    notifications.notify(
        tenant=tenant,
        subject_name=change_request.subject_name,
        event="change.approved",
        payload={
            "reviewId": change_request.pk,
            "approvedBy": acting_user.get_username(),
            "version": registration.subject_version.version,
            "id": registration.subject_version.schema_id,
            "semanticVersion": registration.subject_version.semantic_version,
            "noticeOverrideReason": change_request.notice_override_reason or None,
        },
    )
    return Decision(change_request=change_request, registration=registration)


@audited
def change_request_reject(*, tenant: Tenant, review_id: int, reason: str, acting_user) -> ChangeRequest:
    """Reject a held change with a reason; nothing of it is registered."""
    change_request = _locked_pending(tenant, review_id)
    if not can_approve(acting_user, change_request):
        raise Forbidden("You need the approve role on this subject to reject its changes")
    _decide(change_request, ChangeRequest.Status.REJECTED, reason, acting_user)
    notifications.notify(
        tenant=tenant,
        subject_name=change_request.subject_name,
        event="change.rejected",
        payload={"reviewId": change_request.pk, "rejectedBy": acting_user.get_username(), "reason": reason},
    )
    return change_request


@audited
def change_request_withdraw(*, tenant: Tenant, review_id: int, reason: str = "", acting_user) -> ChangeRequest:
    """Withdraw a held change; only its author may."""
    change_request = _locked_pending(tenant, review_id)
    if change_request.author_id is None or change_request.author_id != acting_user.pk:
        raise Forbidden("Only the author of a change may withdraw it")
    return _decide(change_request, ChangeRequest.Status.WITHDRAWN, reason, acting_user)


def _decide(change_request: ChangeRequest, status: str, reason: str, acting_user) -> ChangeRequest:
    change_request.status = status
    change_request.decided_by = acting_user
    change_request.decided_at = timezone.now()
    change_request.decision_reason = reason
    change_request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    return change_request


@audited
def review_comment_add(*, tenant: Tenant, review_id: int, text: str, acting_user) -> ReviewComment:
    change_request = selectors.change_request_get(tenant=tenant, review_id=review_id)
    return ReviewComment.objects.create(change_request=change_request, author=acting_user, text=text)
