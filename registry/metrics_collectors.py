"""Figures computed when Prometheus scrapes: storage per tenant, pending reviews, Celery queue depth.

They describe state, not events, so they are read fresh from PostgreSQL and the broker on each
scrape instead of being kept in a process; every gunicorn worker therefore answers the same value.
A source that cannot be read (the database or broker down) is skipped and logged: `/metrics`
keeps answering so that Prometheus still sees the registry's other figures.
"""

import logging
import time
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Func, IntegerField, Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)


class OctetLength(Func):
    """Size of a text in bytes (PostgreSQL's octet_length); other databases count characters."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        function = "OCTET_LENGTH" if connection.vendor == "postgresql" else "LENGTH"
        return super().as_sql(compiler, connection, function=function, **extra_context)


class StorageCollector(Collector):
    """Subjects, versions, schemas and schema bytes per tenant, and whether PostgreSQL answered at all."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        from schemas_app.models import Schema, Subject, SubjectVersion, Tenant

        subjects = GaugeMetricFamily("registry_subjects", "Subjects stored, per tenant.", labels=["tenant"])
        versions = GaugeMetricFamily(
            "registry_subject_versions",
            "Subject versions stored (soft-deleted included), per tenant.",
            labels=["tenant"],
        )
        schemas = GaugeMetricFamily(
            "registry_schemas", "Distinct schemas used by a tenant's versions.", labels=["tenant"]
        )
        schema_bytes = GaugeMetricFamily(
            "registry_schema_bytes", "Bytes of schema text used by a tenant's versions.", labels=["tenant"]
        )
        try:
            tenants = dict(Tenant.objects.values_list("pk", "slug"))
            subject_counts = dict(
                Subject.objects.values("tenant_id").annotate(n=Count("pk")).values_list("tenant_id", "n")
            )
            version_rows = (
                SubjectVersion.objects.values("subject__tenant_id")
                .annotate(n=Count("pk"), distinct_schemas=Count("schema_id", distinct=True))
                .values_list("subject__tenant_id", "n", "distinct_schemas")
            )
            version_counts = {tenant_id: (n, distinct) for tenant_id, n, distinct in version_rows}
            for tenant_id, slug in tenants.items():
                n_versions, n_schemas = version_counts.get(tenant_id, (0, 0))
                used = SubjectVersion.objects.filter(subject__tenant_id=tenant_id).values("schema_id")
                size = Schema.objects.filter(pk__in=used).aggregate(total=Sum(OctetLength(F("text"))))["total"]
                subjects.add_metric([slug], subject_counts.get(tenant_id, 0))
                versions.add_metric([slug], n_versions)
                schemas.add_metric([slug], n_schemas)
                schema_bytes.add_metric([slug], size or 0)
        except Exception:
            logger.warning("Storage metrics skipped: the database could not be read", exc_info=True)
            connection.close()
            yield _database_up(0)
            return
        yield from (subjects, versions, schemas, schema_bytes, _database_up(1))


def _database_up(value: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "registry_database_up", "1 when PostgreSQL answered this scrape's storage queries, else 0.", value=value
    )


def pending_reviews() -> list[tuple[str, float, bool]]:
    """Return (tenant slug, age in seconds, past its notice period) of every change request waiting for review.

    A breaking change's notice ends at its `notice_ends_at`; any other change has waited past notice
    once it is older than the default notice period (REGISTRY_NOTICE_HOURS).
    """
    from schemas_app.models import ChangeRequest

    now = timezone.now()
    default_notice = timedelta(hours=settings.REGISTRY_NOTICE_HOURS)
    waiting = ChangeRequest.objects.filter(status=ChangeRequest.Status.PENDING).values_list(
        "tenant__slug", "created_at", "notice_ends_at"
    )
    return [
        (slug, (now - created).total_seconds(), (notice_ends or created + default_notice) <= now)
        for slug, created, notice_ends in waiting
    ]


class PendingReviewsCollector(Collector):
    """Pending reviews per tenant, the age of the oldest, and how many waited past their notice period."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        count = GaugeMetricFamily("registry_pending_reviews", "Change requests waiting for review.", labels=["tenant"])
        oldest = GaugeMetricFamily(
            "registry_pending_review_oldest_seconds",
            "Age of the oldest change request waiting for review, in seconds.",
            labels=["tenant"],
        )
        overdue = GaugeMetricFamily(
            "registry_pending_reviews_past_notice",
            "Change requests still waiting for review after their notice period ended.",
            labels=["tenant"],
        )
        try:
            waiting = pending_reviews()
        except Exception:
            logger.warning("Review metrics skipped: the database could not be read", exc_info=True)
            return
        per_tenant: dict[str, list[tuple[float, bool]]] = {}
        for tenant, age, past_notice in waiting:
            per_tenant.setdefault(tenant, []).append((age, past_notice))
        for tenant, reviews in sorted(per_tenant.items()):
            count.add_metric([tenant], len(reviews))
            oldest.add_metric([tenant], max(age for age, _ in reviews))
            overdue.add_metric([tenant], sum(1 for _, past in reviews if past))
        yield from (count, oldest, overdue)


def celery_queue_names() -> list[str]:
    """Return the queues to measure: REGISTRY_METRICS_CELERY_QUEUES, else those the Celery app declares."""
    if settings.REGISTRY_METRICS_CELERY_QUEUES:
        return list(settings.REGISTRY_METRICS_CELERY_QUEUES)
    from registry.celery import app

    names = [app.conf.task_default_queue or "celery"]
    names += [queue.name for queue in app.conf.task_queues or ()]
    return list(dict.fromkeys(names))


def celery_queue_depths(names: list[str], timeout: float = 1.0) -> dict[str, int]:
    """Return the number of messages waiting in each queue, asked of the broker without consuming any."""
    from registry.celery import app

    with app.connection_for_read(connect_timeout=timeout) as broker:
        broker.ensure_connection(max_retries=1, timeout=timeout)
        channel = broker.default_channel
        return {name: _waiting(channel, name, redis=broker.transport.driver_type == "redis") for name in names}


def _waiting(channel, name: str, *, redis: bool) -> int:
    """Return the messages waiting in one queue; a queue never declared has none."""
    from kombu.exceptions import ChannelError

    if redis:
        # kombu's passive declare asks Redis whether the queue EXISTS without the broker's global_keyprefix
        # (EXISTS is missing from the commands it prefixes), so every queue under a prefix read as missing.
        # On Redis a declare writes nothing and counts with LLEN, which is prefixed; a missing list counts 0.
        return channel.queue_declare(queue=name).message_count
    try:
        return channel.queue_declare(queue=name, passive=True).message_count
    except ChannelError:
        return 0  # never declared: nothing was ever sent to it


class CeleryQueueCollector(Collector):
    """Messages waiting per Celery queue, when a broker is configured."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        if not settings.CELERY_BROKER_URL:
            return
        depth = GaugeMetricFamily(
            "registry_celery_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        started = time.perf_counter()
        try:
            depths = celery_queue_depths(celery_queue_names())
        except Exception:
            logger.warning("Celery queue metrics skipped: the broker could not be reached", exc_info=True)
            return
        for name, messages in depths.items():
            depth.add_metric([name], messages)
        yield depth
        yield GaugeMetricFamily(
            "registry_celery_broker_probe_seconds",
            "Time the broker took to report queue depths.",
            value=time.perf_counter() - started,
        )


STATE_COLLECTORS = (StorageCollector(), PendingReviewsCollector(), CeleryQueueCollector())
