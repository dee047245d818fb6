"""Every Prometheus metric of the registry, in one place, and the small functions that record them.

Other modules never create metrics of their own: they call the `record_*` / `observe_*` functions
below, so names, labels and buckets stay consistent and the alert rules (`ops/prometheus/alerts.yml`)
and the Grafana dashboard (`ops/grafana/registry.json`) can rely on them.

Counters and histograms live in the process that sees the event. Under gunicorn with several
workers, prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set up by
`gunicorn.conf.py`) writes each worker's values to files that `/metrics` sums up.
Figures that are a state rather than an event (storage per tenant, pending reviews, Celery queue
depth) are computed when Prometheus scrapes, by the collectors in `registry.metrics_collectors`,
so every worker answers the same numbers.
"""

from prometheus_client import Counter, Histogram

# Registration results. HELD_FOR_REVIEW is a proposal stored as a change request instead of a version.
CREATED, EXISTING, REFUSED, HELD_FOR_REVIEW = "created", "existing", "refused", "held_for_review"
REGISTRATION_RESULTS = (CREATED, EXISTING, REFUSED, HELD_FOR_REVIEW)

# Where a schema lookup was answered from.
LAYER_PROCESS, LAYER_REDIS, LAYER_DATABASE = "process", "redis", "database"

# Code generation results.
SUCCEEDED, FAILED = "succeeded", "failed"

SCHEMA_REGISTRATIONS = Counter(
    "registry_schema_registrations",
    "Schema registrations by result: created, existing (same content already registered), refused, held_for_review.",
    ["result"],
)

COMPATIBILITY_CHECKS = Counter(
    "registry_compatibility_checks",
    "Compatibility checks run against earlier versions, by rule set and result (compatible, incompatible).",
    ["rule_set", "result"],
)

COMPATIBILITY_CHECK_FAILURES = Counter(
    "registry_compatibility_check_failures",
    "Compatibility checks that found breaking changes, by rule set and compatibility level.",
    ["rule_set", "level"],
)

SCHEMA_LOOKUP_SECONDS = Histogram(
    "registry_schema_lookup_seconds",
    "Time to answer a schema or subject-version lookup, by the cache layer that answered: process, redis, database.",
    ["layer"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)

SCHEMA_VALIDATION_ERRORS = Counter(
    "registry_schema_validation_errors",
    "Schemas refused as invalid (42201), too large (42209) or otherwise malformed, by Confluent error code.",
    ["error_code"],
)

CODEGEN_JOBS = Counter(
    "registry_codegen_jobs",
    "Code generation jobs finished, by language and result (succeeded, failed).",
    ["language", "result"],
)

CODEGEN_JOB_SECONDS = Histogram(
    "registry_codegen_job_seconds",
    "Duration of code generation jobs, by language.",
    ["language"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)

MESSAGE_SIZE_BYTES = Histogram(
    "registry_message_size_bytes",
    "Sizes of serialized messages reported by the transports' clients, by subject.",
    ["subject"],
    buckets=(64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304),
)

DEPRECATED_SCHEMA_USAGE = Counter(
    "registry_deprecated_schema_usage",
    "Lookups of deprecated schema versions, by subject and client (the signed-in user, or anonymous).",
    ["subject", "client"],
)

CELERY_TASK_SECONDS = Histogram(
    "registry_celery_task_seconds",
    "Duration of Celery tasks, by task name and final state (SUCCESS, FAILURE, RETRY).",
    ["task", "state"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


def record_registration(result: str) -> None:
    """Count one registration attempt; `result` is one of REGISTRATION_RESULTS."""
    if result not in REGISTRATION_RESULTS:
        raise ValueError(f"Unknown registration result {result!r}; use one of {REGISTRATION_RESULTS}.")
    SCHEMA_REGISTRATIONS.labels(result=result).inc()


def record_compatibility_check(*, rule_set: str, level: str, compatible: bool) -> None:
    """Count a compatibility check and, when it found breaking changes, a failure under its rule set."""
    COMPATIBILITY_CHECKS.labels(rule_set=rule_set, result="compatible" if compatible else "incompatible").inc()
    if not compatible:
        COMPATIBILITY_CHECK_FAILURES.labels(rule_set=rule_set, level=level).inc()


def observe_lookup(layer: str, seconds: float) -> None:
    SCHEMA_LOOKUP_SECONDS.labels(layer=layer).observe(seconds)


def record_validation_error(error_code: int) -> None:
    SCHEMA_VALIDATION_ERRORS.labels(error_code=str(error_code)).inc()


def record_codegen_job(*, language: str, succeeded: bool, seconds: float) -> None:
    """Count a finished code generation job and observe its duration (from its first claim to its end)."""
    CODEGEN_JOBS.labels(language=language, result=SUCCEEDED if succeeded else FAILED).inc()
    CODEGEN_JOB_SECONDS.labels(language=language).observe(seconds)


def record_message_size(*, subject: str, size_bytes: int) -> None:
    MESSAGE_SIZE_BYTES.labels(subject=subject).observe(size_bytes)


def record_deprecated_usage(*, subject: str, client: str) -> None:
    """Count one lookup of a deprecated version by a client (a username, or "anonymous")."""
    DEPRECATED_SCHEMA_USAGE.labels(subject=subject, client=client or "anonymous").inc()


def observe_celery_task(*, task: str, state: str, seconds: float) -> None:
    CELERY_TASK_SECONDS.labels(task=task, state=state).observe(seconds)
