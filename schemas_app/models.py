"""Storage of the registry: tenants, content-addressed schemas, subjects, versions, references, config and mode."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from protoengine import compatibility

# The object permissions behind the roles of `schemas_app.access`; tenants, subjects and prefix grants all carry them.
ROLE_PERMISSIONS = (
    ("read_schemas", "Read schemas"),
    ("write_schemas", "Register and propose schema versions"),
    ("approve_changes", "Approve changes and change compatibility settings"),
    ("start_codegen", "Start code generation jobs"),
    ("delete_schemas", "Delete subjects and versions"),
    ("read_audit", "Read the change history"),
)


class Tenant(models.Model):
    """A tenant of the platform; subjects live in one. The Confluent API serves the default tenant.

    A shared tenant (the bundled `common/` catalogue) is readable by every tenant's accounts.
    """

    DEFAULT_SLUG = "default"
    SHARED_SLUG = "shared"

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    shared = models.BooleanField(default=False, help_text="Readable by the accounts of every tenant.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        permissions = ROLE_PERMISSIONS

    def __str__(self):
        return self.slug


class TenantBinding(models.Model):
    """Binds an account (a service account, usually) to one tenant: it then sees that tenant and the shared ones."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, related_name="tenant_binding", on_delete=models.CASCADE)
    tenant = models.ForeignKey(Tenant, related_name="bindings", on_delete=models.CASCADE)

    def __str__(self):
        return f"{self.user} in {self.tenant}"


class SubjectPrefixGrant(models.Model):
    """A prefix of subject names that roles are granted on, as guardian object permissions on this row.

    `trading/*` matches every subject whose name starts with `trading/`; a package such as `trading.v1`
    matches the subjects named after its messages (`trading.v1.TickData`, RecordNameStrategy) and the
    files of its folder (`trading/v1/...`). Without a tenant the prefix applies in every tenant.
    """

    prefix = models.CharField(max_length=255)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, related_name="prefix_grants", on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prefix"]
        permissions = ROLE_PERMISSIONS
        constraints = [models.UniqueConstraint(fields=["prefix", "tenant"], name="unique_prefix_grant")]

    def __str__(self):
        return f"{self.prefix} in {self.tenant}" if self.tenant_id else self.prefix

    def matches(self, subject_name: str) -> bool:
        """Return True if the subject name falls under this prefix."""
        if self.prefix.endswith("*"):
            return subject_name.startswith(self.prefix[:-1])
        if subject_name == self.prefix:
            return True
        return subject_name.startswith((self.prefix + ".", self.prefix.replace(".", "/") + "/"))


class Schema(models.Model):
    """One schema text with its references; its id is global and never changes.

    The same schema (the same compiled descriptor and comments, whatever its layout) with
    identical references (and metadata) is stored once and shares its id across subjects:
    `fingerprint` (protoengine.canonical.identity_fingerprint) is the content address.
    """

    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    schema_type = models.CharField(max_length=16, default="PROTOBUF")
    text = models.TextField()
    fingerprint = models.CharField(max_length=64, unique=True)
    # Fingerprint of the normalised text: a descriptor, or normalize=true, finds text of the same meaning.
    canonical_fingerprint = models.CharField(max_length=64, db_index=True, default="")
    # Confluent's `metadata` and `ruleSet`, stored and returned as given.
    metadata = models.JSONField(null=True, blank=True)
    rule_set = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"schema {self.pk}"


class CompiledSchema(models.Model):
    """protoc's output for a stored schema, compiled under one import path with its references' texts.

    Written with the schema's row at registration, so that a process that has not compiled the schema itself (the
    other server processes, one just started) reads it in one query instead of running protoc again: the check
    of the next version compares with it. `key` is preparation.content_key of the path, text and references.
    """

    key = models.CharField(max_length=64, primary_key=True)
    schema = models.ForeignKey(Schema, related_name="compilations", on_delete=models.CASCADE)
    descriptor_set = models.BinaryField()

    def __str__(self):
        return f"compiled {self.schema_id}"


class SchemaReference(models.Model):
    """An import of a schema, pinned to a subject version: `name` is the import path."""

    schema = models.ForeignKey(Schema, related_name="references", on_delete=models.CASCADE)
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    version = models.IntegerField()

    class Meta:
        ordering = ["schema_id", "position"]
        constraints = [models.UniqueConstraint(fields=["schema", "position"], name="unique_reference_position")]
        indexes = [models.Index(fields=["subject", "version"])]

    def __str__(self):
        return f"{self.name} -> {self.subject} v{self.version}"


class Subject(models.Model):
    """A named line of schema versions inside a tenant (Confluent's subject)."""

    tenant = models.ForeignKey(Tenant, related_name="subjects", on_delete=models.PROTECT)
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = ROLE_PERMISSIONS
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="unique_subject_per_tenant")]

    def __str__(self):
        return self.name


class SubjectVersion(models.Model):
    """A schema registered under a subject, with its integer and semantic version."""

    class State(models.TextChoices):
        ACTIVE = "active"
        DEPRECATED = "deprecated"
        DISABLED = "disabled"

    subject = models.ForeignKey(Subject, related_name="versions", on_delete=models.CASCADE)
    version = models.PositiveIntegerField()
    schema = models.ForeignKey(Schema, related_name="subject_versions", on_delete=models.PROTECT)
    semantic_version = models.CharField(max_length=32)
    # MAJOR / MINOR / PATCH / NONE against the previous version, as the engine classified it.
    change = models.CharField(max_length=8, default="NONE")
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    deleted = models.BooleanField(default=False)
    lint_findings = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Deprecation lifecycle: deprecated (still served, with Deprecation and Sunset headers), then disabled at sunset.
    deprecated_at = models.DateTimeField(null=True, blank=True)
    sunset_at = models.DateTimeField(null=True, blank=True)
    deprecation_reason = models.TextField(blank=True)
    successor_subject = models.CharField(max_length=255, blank=True)
    successor_version = models.PositiveIntegerField(null=True, blank=True)
    deprecated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grace_warning_sent_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["subject_id", "version"]
        constraints = [models.UniqueConstraint(fields=["subject", "version"], name="unique_version_per_subject")]
        indexes = [models.Index(fields=["schema", "subject"])]

    def __str__(self):
        return f"{self.subject.name} v{self.version} ({self.semantic_version})"


# The names come from the engine, which owns them; members read CompatibilityLevel.NONE, Mode.IMPORT and so on.
CompatibilityLevel = models.TextChoices("CompatibilityLevel", [(name, name) for name in compatibility.LEVELS])
RuleSetName = models.TextChoices("RuleSetName", [(name, name) for name in compatibility.RULE_SETS])
Mode = models.TextChoices("Mode", [(name, name) for name in compatibility.MODES])


class SubjectConfig(models.Model):
    """Compatibility configuration: the global row has no subject; a subject row overrides it field by field."""

    tenant = models.ForeignKey(Tenant, related_name="configs", on_delete=models.CASCADE)
    # NULL, not "", means "not set here": the global row has no subject (a conditional unique constraint relies on it)
    # and a subject row inherits each NULL field from the global row.
    subject_name = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    compatibility_level = models.CharField(  # noqa: DJ001
        max_length=32, choices=CompatibilityLevel.choices, null=True, blank=True
    )
    compatibility_rules = models.CharField(  # noqa: DJ001
        max_length=16, choices=RuleSetName.choices, null=True, blank=True
    )
    normalize = models.BooleanField(null=True, blank=True)
    # Lint rules switched off for this scope (buf rule ids).
    lint_except = models.JSONField(default=list, blank=True)
    # Governance: unset fields fall through to the tenant's row, then to the REGISTRY_* settings.
    review_policy = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001 (null: not set here)
    lint_policy = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001
    required_approvals = models.PositiveSmallIntegerField(null=True, blank=True)
    notice_hours = models.PositiveIntegerField(null=True, blank=True)
    deprecation_grace_days = models.PositiveIntegerField(null=True, blank=True)
    deprecation_removal_days = models.PositiveIntegerField(null=True, blank=True)
    # Confluent fields we store and return but do not act on (alias, defaultMetadata, ...).
    extra = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "subject_name"], name="unique_config_per_subject"),
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(subject_name__isnull=True), name="unique_global_config"
            ),
        ]

    def __str__(self):
        return f"config of {self.subject_name or 'the tenant'}"


class SubjectMode(models.Model):
    """Mode (READWRITE, READONLY, IMPORT): the global row has no subject."""

    tenant = models.ForeignKey(Tenant, related_name="modes", on_delete=models.CASCADE)
    # NULL is the global row (a conditional unique constraint relies on it).
    subject_name = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    mode = models.CharField(max_length=32, choices=Mode.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "subject_name"], name="unique_mode_per_subject"),
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(subject_name__isnull=True), name="unique_global_mode"
            ),
        ]

    def __str__(self):
        return f"mode of {self.subject_name or 'the tenant'}: {self.mode}"


class ReviewPolicy(models.TextChoices):
    """Which changes wait for a reviewer: none (Confluent's 409 for a breaking change), breaking, or all."""

    NONE = "none"
    BREAKING = "breaking"
    ALL = "all"


class LintPolicy(models.TextChoices):
    """What lint findings do: warn (stored and shown), review (the change waits), block (refused with 42201)."""

    WARN = "warn"
    REVIEW = "review"
    BLOCK = "block"


class ChangeRequest(models.Model):
    """A proposed version held for review; served to no client until approved."""

    class Status(models.TextChoices):
        PENDING = "PENDING_REVIEW"
        APPROVED = "APPROVED"
        REJECTED = "REJECTED"
        WITHDRAWN = "WITHDRAWN"

    class Preparation(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        READY = "ready"
        FAILED = "failed"

    tenant = models.ForeignKey(Tenant, related_name="change_requests", on_delete=models.PROTECT)
    subject_name = models.CharField(max_length=255)
    # The registration request as the author sent it, replayed through the registration service on approval.
    schema_text = models.TextField()
    references = models.JSONField(default=list, blank=True)
    normalize = models.BooleanField(null=True, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    rule_set = models.JSONField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64)
    # Why it waits: "breaking", "lint" and/or "policy".
    held_because = models.JSONField(default=list, blank=True)
    breaking = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The latest live version when the review was prepared; approval re-checks when it has moved.
    base_version = models.PositiveIntegerField(null=True, blank=True)
    required_approvals = models.PositiveSmallIntegerField(default=1)
    notice_ends_at = models.DateTimeField(null=True, blank=True)
    # Filled by the preparation task.
    preparation = models.CharField(max_length=16, choices=Preparation.choices, default=Preparation.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    preparation_error = models.TextField(blank=True)
    prepared_at = models.DateTimeField(null=True, blank=True)
    diff = models.TextField(blank=True)
    compatibility_findings = models.JSONField(default=list, blank=True)
    lint_findings = models.JSONField(default=list, blank=True)
    change = models.CharField(max_length=8, blank=True)
    semantic_version = models.CharField(max_length=32, blank=True)
    impact = models.JSONField(default=list, blank=True)
    # The decision.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    notice_override_reason = models.TextField(blank=True)
    registered_version = models.ForeignKey(
        SubjectVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "subject_name", "fingerprint"],
                condition=Q(status="PENDING_REVIEW"),
                name="one_open_review_per_proposal",
            )
        ]
        indexes = [models.Index(fields=["tenant", "status", "subject_name"])]

    def __str__(self):
        return f"review #{self.pk} of {self.subject_name} ({self.get_status_display()})"


class Approval(models.Model):
    """One reviewer's approval of a change request."""

    change_request = models.ForeignKey(ChangeRequest, related_name="approvals", on_delete=models.CASCADE)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["change_request", "approver"], name="one_approval_per_user")]

    def __str__(self):
        return f"approval of review #{self.change_request_id} by {self.approver}"


class ReviewComment(models.Model):
    change_request = models.ForeignKey(ChangeRequest, related_name="comments", on_delete=models.CASCADE)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"comment {self.pk} on review #{self.change_request_id}"


class ApiToken(models.Model):
    """A bearer token of an account (a service account, usually).

    Only a keyed hash of the secret is stored (HMAC-SHA256 with SECRET_KEY: a lookup, not a slow check),
    with its first characters so that people can tell tokens apart; the secret is shown once, at creation.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="api_tokens", on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.prefix}… ({self.name}, {self.user})"


class TenantConfig(models.Model):
    """A tenant's configuration: the spec's `system.v1.TenantConfig` message in its JSON mapping.

    It is validated against the registry's own latest active `system/config.proto` before it is stored;
    `blocking_lint_rules` are the registry's own knobs, such as MESSAGE_TENANT_ID made blocking for the tenant.
    """

    tenant = models.OneToOneField(Tenant, related_name="config", on_delete=models.CASCADE)
    config = models.JSONField(default=dict, blank=True)
    blocking_lint_rules = models.JSONField(default=list, blank=True)
    # The schema the config was last validated against.
    schema = models.ForeignKey(Schema, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"configuration of {self.tenant}"


class RegistryInstance(models.Model):
    """One row naming this database, made by its migration.

    Shared cache keys carry its uuid, so entries cached from one database are never read against
    another one at the same address (recreated, or restored from a dump of another moment).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Shared cache keys carry it too; it moves on when an invalidation could not reach Redis (schemas_app.cache).
    cache_generation = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return str(self.uuid)


class AuditSeal(models.Model):
    """One link of the audit hash chain: the hash of an audit log entry's content and of the link before it.

    `entry_id` is a plain number, not a foreign key, so a deleted entry leaves its seal behind as evidence.
    """

    entry_id = models.BigIntegerField(unique=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"seal of audit entry {self.entry_id}"


class AuditChainHead(models.Model):
    """The single row whose lock orders the chain: each new seal extends `last_hash` under it."""

    last_hash = models.CharField(max_length=64)

    def __str__(self):
        return "audit chain head"


class Subscription(models.Model):
    """A team's subscription to changes of subjects: an exact name or a prefix ("" for every subject)."""

    EVENTS = (
        "change.proposed",
        "change.approved",
        "change.rejected",
        "version.deprecated",
        "version.grace_ended",
        "version.sunset",
    )

    tenant = models.ForeignKey(Tenant, related_name="subscriptions", on_delete=models.CASCADE)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    subject_prefix = models.CharField(max_length=255, blank=True)
    webhook_url = models.URLField(max_length=500, blank=True)
    # Signs each webhook body (HMAC-SHA256); shown to its owner once, when the subscription is made.
    webhook_secret = models.CharField(max_length=128, blank=True)
    email = models.EmailField(blank=True)
    events = models.JSONField(default=list, blank=True)  # empty: every event
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "active"])]

    def __str__(self):
        return f"subscription of {self.owner} to {self.subject_prefix or 'every subject'}*"

    def wants(self, event: str, subject_name: str) -> bool:
        return subject_name.startswith(self.subject_prefix) and (not self.events or event in self.events)


class NotificationDelivery(models.Model):
    """One notification to one subscription over one channel, with its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    subscription = models.ForeignKey(Subscription, related_name="deliveries", on_delete=models.CASCADE)
    event = models.CharField(max_length=32)
    channel = models.CharField(max_length=16)  # "webhook" or "email"
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.event} by {self.channel} to subscription {self.subscription_id} ({self.status})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(NotificationDelivery, related_name="attempt_log", on_delete=models.CASCADE)
    attempted_at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"attempt {self.pk} of delivery {self.delivery_id}: {self.status_code or self.error[:60]}"


# Code generation: jobs and the archives they produce, kept by content hash (schemas_app/codegen_jobs.py).


class Artifact(models.Model):
    """One stored archive: generated code of one input set in one language, named by its content hash.

    A row exists only once both files are fully written to storage, so a row is the
    commit point: nothing without one is ever served.
    """

    version = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=32)
    zip_name = models.CharField(max_length=255)
    tar_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(help_text="Size of the zip in bytes.")
    file_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Retention counts from the last request that used the archive, not from its creation.
    last_used_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return f"{self.language} {self.version[:12]}"


class GenerationJob(models.Model):
    """One request to generate code: what was asked, the input set it pinned, and how the run went."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, related_name="generation_jobs", on_delete=models.CASCADE)
    language = models.CharField(max_length=32)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The request as given, and the subjects (roots and references) whose texts the input set holds.
    selection = models.JSONField(default=dict)
    subjects = models.JSONField(default=list)
    # The pinned input set: {import path: text} and the import paths to generate.
    sources = models.JSONField(default=dict)
    roots = models.JSONField(default=list)
    version = models.CharField(max_length=64, db_index=True)
    artifact = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    # On failure: {"message": ..., "details": [{"file", "line", "column", "message"}, ...]}.
    error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A running job whose heartbeat is older than CODEGEN_JOB_LEASE_SECONDS was abandoned by its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["version", "state"])]

    def __str__(self):
        return f"{self.language} job {self.pk} ({self.state})"
