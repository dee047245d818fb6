"""Copy every subject and version from a running Confluent-compatible registry, keeping ids and version numbers.

Works against Confluent Schema Registry, Karapace, Apicurio's ccompat API and this registry: it reads
`/subjects`, `/subjects/{s}/versions/{v}` and `/config`, and registers each version here in IMPORT
mode with its source id and version. Referenced versions are copied before the versions that
import them. Each version is registered in its own transaction and a version already here with the
same id is skipped, so a copy that was interrupted is resumed by running it again. The tenant stays
in IMPORT mode until a run has copied everything, then returns to READWRITE.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from schemas_app import selectors, services
from schemas_app.errors import RegistryError
from schemas_app.models import Mode, SubjectVersion, Tenant
from schemas_app.preparation import Reference
from schemas_app.remote import RemoteError, RemoteRegistry, subject_path

COPY, PRESENT, SKIP, CONFLICT = "copy", "present", "skip", "conflict"
SUBJECT_NOT_CONFIGURED = 40408
CONFIG_FIELDS = ("compatibilityLevel", "compatibilityRules", "normalize")


@dataclass(frozen=True)
class SourceVersion:
    """One version as the source registry serves it."""

    subject: str
    version: int
    schema_id: int
    schema_type: str
    schema: str
    references: tuple[Reference, ...]
    metadata: dict | None = None
    rule_set: dict | None = None

    @property
    def key(self) -> tuple[str, int]:
        return self.subject, self.version

    @classmethod
    def from_answer(cls, answer: dict) -> "SourceVersion":
        return cls(
            subject=answer["subject"],
            version=int(answer["version"]),
            schema_id=int(answer["id"]),
            schema_type=answer.get("schemaType") or "AVRO",  # Confluent leaves out its default type
            schema=answer["schema"],
            references=tuple(
                Reference(ref["name"], ref["subject"], int(ref["version"])) for ref in answer.get("references") or ()
            ),
            metadata=answer.get("metadata"),
            rule_set=answer.get("ruleSet"),
        )


@dataclass
class Step:
    """What a run does (or would do) with one source version, and why."""

    source: SourceVersion
    action: str
    reason: str = ""

    def describe(self) -> str:
        text = f"{self.source.subject} version {self.source.version} (id {self.source.schema_id}): {self.action}"
        return f"{text}, {self.reason}" if self.reason else text


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    configs: dict[str | None, dict] = field(default_factory=dict)

    def count(self, action: str) -> int:
        return sum(1 for step in self.steps if step.action == action)

    def summary(self) -> str:
        return (
            f"{len(self.steps)} versions: {self.count(COPY)} to copy, {self.count(PRESENT)} already here, "
            f"{self.count(SKIP)} skipped, {self.count(CONFLICT)} in conflict"
        )


def read_source(client: RemoteRegistry) -> list[SourceVersion]:
    """Return every live version of every subject of the source registry."""
    versions = []
    for subject in client.request("GET", "/subjects"):
        for number in client.version_numbers(subject):
            versions.append(SourceVersion.from_answer(client.version(subject, number)))
    return versions


def read_configs(client: RemoteRegistry, subjects: Iterable[str]) -> dict[str | None, dict]:
    """Return the source's global compatibility settings (key None) and each subject's own, where set."""
    configs = {None: _config_fields(client.request("GET", "/config"))}
    for subject in subjects:
        try:
            configs[subject] = _config_fields(client.request("GET", f"/config/{subject_path(subject)}"))
        except RemoteError as error:
            if error.error_code != SUBJECT_NOT_CONFIGURED:
                raise
    return {scope: config for scope, config in configs.items() if config}


def _config_fields(answer: dict) -> dict:
    return {name: answer[name] for name in CONFIG_FIELDS if answer.get(name) is not None}


def dependency_order(versions: list[SourceVersion]) -> list[SourceVersion]:
    """Return the versions with every referenced version before those referring to it (then by id)."""
    by_key = {version.key: version for version in versions}
    ordered: list[SourceVersion] = []
    placed: set[tuple[str, int]] = set()

    def place(version: SourceVersion, path: tuple = ()) -> None:
        if version.key in placed or version.key in path:
            return  # a cycle is the source's problem; registration will report the missing reference
        for reference in version.references:
            target = by_key.get((reference.subject, reference.version))
            if target is not None:
                place(target, (*path, version.key))
        placed.add(version.key)
        ordered.append(version)

    for version in sorted(versions, key=lambda item: (item.schema_id, item.subject, item.version)):
        place(version)
    return ordered


def plan_copy(client: RemoteRegistry, *, tenant: Tenant) -> Plan:
    """Read the source and decide, per version, whether to copy it, or why not."""
    versions = dependency_order(read_source(client))
    local = {
        (subject, version): schema_id
        for subject, version, schema_id in SubjectVersion.objects.filter(subject__tenant=tenant).values_list(
            "subject__name", "version", "schema_id"
        )
    }
    plan = Plan(configs=read_configs(client, sorted({version.subject for version in versions})))
    for version in versions:
        here = local.get(version.key)
        if version.schema_type != "PROTOBUF":
            plan.steps.append(Step(version, SKIP, f"{version.schema_type} schemas are not supported here"))
        elif here == version.schema_id:
            plan.steps.append(Step(version, PRESENT))
        elif here is not None:
            plan.steps.append(Step(version, CONFLICT, f"this registry has it with id {here}"))
        else:
            plan.steps.append(Step(version, COPY))
    return plan


def run_copy(
    plan: Plan, *, tenant: Tenant, acting_user, force: bool = False, report: Callable[[Step], None] = lambda step: None
):
    """Register every COPY step in IMPORT mode with its source id and version; return the steps that failed."""
    to_copy = [step for step in plan.steps if step.action == COPY]
    failed = []
    if to_copy:
        if selectors.effective_mode(tenant=tenant, subject=None) != Mode.IMPORT:
            services.mode_update(
                tenant=tenant, subject_name=None, mode=Mode.IMPORT, force=force, acting_user=acting_user
            )
        for step in to_copy:
            source = step.source
            try:
                services.subject_version_register(
                    tenant=tenant,
                    subject_name=source.subject,
                    schema=source.schema,
                    references=list(source.references),
                    metadata=source.metadata,
                    rule_set=source.rule_set,
                    import_id=source.schema_id,
                    import_version=source.version,
                    acting_user=acting_user,
                )
            except RegistryError as error:
                step.action, step.reason = CONFLICT, error.message
                failed.append(step)
            report(step)
    for scope, config in plan.configs.items():
        services.config_update(tenant=tenant, subject_name=scope, changes=config, acting_user=acting_user)
    if not failed and selectors.effective_mode(tenant=tenant, subject=None) == Mode.IMPORT:
        services.mode_update(tenant=tenant, subject_name=None, mode=Mode.READWRITE, acting_user=acting_user)
    return failed
