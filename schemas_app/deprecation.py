"""The deprecation lifecycle: deprecate versions or subjects, then let the policy warn and disable them.

A deprecated version is still served, with Deprecation, Sunset and Link (successor) headers. When
its grace period ends its owners are warned; at its sunset it is disabled: no longer served
(40402 saying it was retired and what replaces it), never deleted. Every step takes `now`, so the
lifecycle can be driven on a frozen clock.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from schemas_app import notifications, selectors
from schemas_app.auditing import audited
from schemas_app.errors import BadRequest, OperationNotPermitted, SubjectNotFound, TryAgain
from schemas_app.models import SubjectVersion, Tenant
from schemas_app.services import subject_for_update, system_account

logger = logging.getLogger(__name__)


def parse_successor(successor) -> tuple[str, int | None]:
    """Return (subject, version or None for latest) from "subject" or {"subject": ..., "version": ...}."""
    if successor in (None, ""):
        return "", None
    if isinstance(successor, str):
        return successor, None
    if isinstance(successor, dict) and isinstance(successor.get("subject"), str):
        version = successor.get("version")
        if version is not None and (not isinstance(version, int) or version < 1):
            raise BadRequest("successor.version must be a version number")
        return successor["subject"], version
    raise BadRequest('successor must be a subject name or {"subject": ..., "version": ...}')


def successor_text(version: SubjectVersion) -> str:
    if not version.successor_subject:
        return ""
    suffix = f" version {version.successor_version}" if version.successor_version else ""
    return f"{version.successor_subject}{suffix}"


@audited
def version_deprecate(
    *,
    tenant: Tenant,
    subject_name: str,
    version,
    reason: str = "",
    successor=None,
    sunset: datetime | None = None,
    now: datetime | None = None,
    acting_user,
) -> list[SubjectVersion]:
    """Deprecate one version (a number or "latest"); return it."""
    # The subject's lock first, as every writer of its versions takes it: the version is then read as a
    # delete left it. Read before a delete committed, it was saved whole afterwards and came back undeleted.
    subject_for_update(tenant, subject_name)
    found = selectors.subject_version_get(tenant=tenant, subject=subject_name, version=version)
    return _deprecate([found], reason=reason, successor=successor, sunset=sunset, now=now, acting_user=acting_user)


@audited
def subject_deprecate(
    *,
    tenant: Tenant,
    subject_name: str,
    reason: str = "",
    successor=None,
    sunset: datetime | None = None,
    now: datetime | None = None,
    acting_user,
) -> list[SubjectVersion]:
    """Deprecate every live version of a subject; return them."""
    # The subject's lock first, as a subject's delete takes it: both then lock every live version, maybe in
    # another order (a delete in the table's), which let each hold a version the other waited for.
    subject_for_update(tenant, subject_name)
    versions = list(
        SubjectVersion.objects.select_related("subject", "created_by")
        .filter(subject__tenant=tenant, subject__name=subject_name, deleted=False)
        .exclude(state=SubjectVersion.State.DISABLED)
        .order_by("version")
    )
    if not versions:
        raise SubjectNotFound(subject_name)
    return _deprecate(versions, reason=reason, successor=successor, sunset=sunset, now=now, acting_user=acting_user)


# What a deprecation writes; the rest of the row (deleted, disabled_at, the policy's warning) is others' to write.
DEPRECATION_FIELDS = [
    "state",
    "deprecated_at",
    "sunset_at",
    "deprecation_reason",
    "successor_subject",
    "successor_version",
    "deprecated_by",
]


def _deprecate(versions, *, reason, successor, sunset, now, acting_user) -> list[SubjectVersion]:
    now = now or timezone.now()
    successor_subject, successor_version = parse_successor(successor)
    for version in versions:
        if version.state == SubjectVersion.State.DISABLED:
            raise OperationNotPermitted(f"Version {version.version} of {version.subject.name} is already retired")
        config = selectors.effective_config(tenant=version.subject.tenant, subject=version.subject.name)
        version.state = SubjectVersion.State.DEPRECATED
        version.deprecated_at = version.deprecated_at or now
        version.sunset_at = sunset or version.deprecated_at + timedelta(days=config["deprecationRemovalDays"])
        if version.sunset_at <= version.deprecated_at:
            raise BadRequest("sunset must be after the deprecation")
        version.deprecation_reason = reason
        version.successor_subject, version.successor_version = successor_subject, successor_version
        version.deprecated_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
        version.save(update_fields=DEPRECATION_FIELDS)
        _notify_on_commit(version, "deprecated")
    return versions


@dataclass
class PolicyRun:
    warned: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    # Versions whose transaction the database gave up on (a lock wait, a deadlock): the next run takes them up.
    retry_later: list[str] = field(default_factory=list)


def deprecation_policy_apply(*, now: datetime | None = None) -> PolicyRun:
    """Warn owners of versions whose grace period ended, and disable versions whose sunset came.

    Each version is judged in a transaction of its own, as the system account. One the database gave up on is
    left for the next run (`retry_later`) and the run goes on; any other error stops it.
    """
    now = now or timezone.now()
    run = PolicyRun()
    system = system_account()
    due = SubjectVersion.objects.select_related("subject__tenant").filter(
        state=SubjectVersion.State.DEPRECATED, deleted=False
    )
    for due_version in due.order_by("pk"):
        label = f"{due_version.subject.name} v{due_version.version}"
        try:
            step = _policy_step(due_version, now=now, acting_user=system)
        except TryAgain as error:
            logger.warning("Deprecation policy: left %s for the next run: %s", label, error.__cause__)
            run.retry_later.append(label)
            continue
        if step is not None:
            getattr(run, step).append(label)  # once committed: a version rolled back is in retry_later only
    return run


@audited
def _policy_step(due_version: SubjectVersion, *, now: datetime, acting_user) -> str | None:
    """Judge one version in a transaction of its own: "disabled" at its sunset, "warned" at its grace's end, or None."""
    version = _locked_for_the_policy(due_version)
    if version is None:
        return None  # deleted, or retired by a second beat run, since `due` was read
    config = selectors.effective_config(tenant=version.subject.tenant, subject=version.subject.name)
    grace_end = version.deprecated_at + timedelta(days=config["deprecationGraceDays"])
    if version.sunset_at and now >= version.sunset_at:
        version.state = SubjectVersion.State.DISABLED
        version.disabled_at = now
        version.save(update_fields=["state", "disabled_at"])
        _notify_on_commit(version, "sunset")
        return "disabled"
    if version.grace_warning_sent_at is None and now >= grace_end:
        version.grace_warning_sent_at = now
        version.save(update_fields=["grace_warning_sent_at"])
        _notify_on_commit(version, "grace-ended")
        return "warned"
    return None


def _locked_for_the_policy(due: SubjectVersion) -> SubjectVersion | None:
    """Return the version read again under its subject's lock and its own, if it is still deprecated and live.

    The subject's lock first, as every writer of its versions takes it (registration, deletes, deprecations):
    a deprecation that read the version before the policy retired it waits, and sees it retired; the policy
    judges the sunset and grace the last deprecation set, not those `due` read. A second beat run waits here
    too and finds the step done.
    """
    subject_for_update(due.subject.tenant, due.subject.name)
    return (
        SubjectVersion.objects.select_related("subject__tenant", "created_by", "deprecated_by")
        .select_for_update(of=("self",))
        .filter(pk=due.pk, state=SubjectVersion.State.DEPRECATED, deleted=False)
        .first()
    )


SUBJECTS = {
    "deprecated": "{label} is deprecated",
    "grace-ended": "{label}: the deprecation grace period is over; it will be retired on {sunset}",
    "sunset": "{label} was retired",
}


SUBSCRIPTION_EVENTS = {
    "deprecated": "version.deprecated",
    "grace-ended": "version.grace_ended",
    "sunset": "version.sunset",
}


def _notify_on_commit(version: SubjectVersion, event: str) -> None:
    """Tell subscribers, and e-mail the version's owner and whoever deprecated it, once the change is committed."""
    notifications.notify(
        tenant=version.subject.tenant,
        subject_name=version.subject.name,
        event=SUBSCRIPTION_EVENTS[event],
        payload={
            "version": version.version,
            "reason": version.deprecation_reason or None,
            "successor": successor_text(version) or None,
            "sunset": version.sunset_at.isoformat() if version.sunset_at else None,
        },
    )
    recipients = sorted(
        {user.email for user in (version.created_by, version.deprecated_by) if user is not None and user.email}
    )
    if not recipients:
        return
    label = f"{version.subject.name} version {version.version}"
    sunset = version.sunset_at.date().isoformat() if version.sunset_at else "an unset date"
    successor = successor_text(version)
    body = "\n".join(
        line
        for line in (
            SUBJECTS[event].format(label=label, sunset=sunset) + ".",
            f"Reason: {version.deprecation_reason}" if version.deprecation_reason else "",
            f"Use instead: {successor}" if successor else "",
            f"Sunset: {sunset}",
        )
        if line
    )
    subject_line = "[schema registry] " + SUBJECTS[event].format(label=label, sunset=sunset)
    transaction.on_commit(
        lambda: send_mail(subject_line, body, settings.REGISTRY_NOTIFICATION_FROM, recipients, fail_silently=True)
    )
