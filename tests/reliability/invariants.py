"""What must hold after every load or fault run, checked over the whole database and the clients' logs.

- every acknowledged registration is in the database, under its subject and version, with the id it was given
  and the content that was sent;
- each subject's versions are numbered 1..n, none twice, none skipped, and no content twice in one subject;
- an id never names two contents in the logs, and one content never got two ids;
- every entry in Redis, and what the API serves for every id and every version, equals the database;
- no error answer but the expected ones (a review's 409s); inside an injected fault's window, failures must
  be clean: no answer at all (a killed connection) or 500/503 in the registry's JSON shape.

The check reads the stack's own PostgreSQL and Redis directly (psycopg, redis-py), not through Django:
the test process's Django is connected to the suite's database, not to the stack's.
"""

import asyncio
import pickle
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx
import psycopg
import redis

from tests.reliability.workload import (
    CONTENT_TYPE,
    REVIEW_CONFLICTS,
    ErrorAnswer,
    LoadRun,
    fingerprint,
    require_loopback,
    run_in_own_loop,
)

OUTAGE_CODES = {50001, 503, 50301}
CACHE_PREFIX = "registry:1:"  # django-redis: KEY_PREFIX "registry", version 1


@dataclass
class Report:
    """Figures and violations of one check; `violations` must be empty."""

    violations: list[str] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    skipped: int = 0
    stale: int = 0
    unexpected_errors: int = 0
    checked: Counter = field(default_factory=Counter)
    errors_by_kind: Counter = field(default_factory=Counter)
    verdicts: Counter = field(default_factory=Counter)

    def violate(self, counter: str | None, message: str) -> None:
        if counter:
            setattr(self, counter, getattr(self, counter) + 1)
        if len(self.violations) < 200:  # enough to diagnose, not a flood
            self.violations.append(message)


@dataclass(frozen=True)
class StoredVersion:
    subject: str
    version: int
    schema_id: int
    deleted: bool
    state: str
    semantic_version: str


@dataclass
class Database:
    """The rows the check needs, read once after the run."""

    versions: list[StoredVersion]
    schemas: dict[int, dict]  # id -> the payload the registry serves for it (selectors.schema_as_payload)
    name: str  # what names this database in cache keys (schemas_app.cache.instance_key, without the generation)
    generation: int  # the cache generation: keys of an older one are left behind, never read

    @property
    def instance(self) -> str:
        return f"{self.name}.{self.generation}"

    def version(self, subject: str, number: int) -> StoredVersion | None:
        return self._by_subject_version().get((subject, number))

    def _by_subject_version(self) -> dict:
        if not hasattr(self, "_index"):
            self._index = {(row.subject, row.version): row for row in self.versions}
        return self._index


def read_database(url: str) -> Database:
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.name, v.version, v.schema_id, v.deleted, v.state, v.semantic_version "
            "FROM schemas_app_subjectversion v JOIN schemas_app_subject s ON s.id = v.subject_id "
            "JOIN schemas_app_tenant t ON t.id = s.tenant_id WHERE t.slug = 'default' ORDER BY s.name, v.version"
        )
        versions = [StoredVersion(*row) for row in cursor.fetchall()]
        cursor.execute("SELECT id, guid::text, schema_type, text, metadata, rule_set FROM schemas_app_schema")
        schemas = {}
        for schema_id, guid, schema_type, text, metadata, rule_set in cursor.fetchall():
            payload = {"id": schema_id, "guid": guid, "schemaType": schema_type, "schema": text}
            if metadata:
                payload["metadata"] = metadata
            if rule_set:
                payload["ruleSet"] = rule_set
            schemas[schema_id] = payload
        cursor.execute(
            "SELECT schema_id, name, subject, version FROM schemas_app_schemareference ORDER BY schema_id, position"
        )
        for schema_id, name, subject, version in cursor.fetchall():
            schemas[schema_id].setdefault("references", []).append(
                {"name": name, "subject": subject, "version": version}
            )
        cursor.execute(
            "SELECT uuid::text, 'schemas_app_schema'::regclass::oid, cache_generation "
            "FROM schemas_app_registryinstance ORDER BY id LIMIT 1"
        )
        uuid, table_oid, generation = cursor.fetchone()
    return Database(versions=versions, schemas=schemas, name=f"{uuid}.{table_oid}", generation=generation)


def content_of(payload: dict) -> str:
    return fingerprint(payload["schema"], payload.get("references"))


# The checks ----------------------------------------------------------------------------------------------------------


def check_acknowledged(run: LoadRun, database: Database, report: Report) -> None:
    for acknowledged in run.acknowledged:
        report.checked["acknowledged registrations"] += 1
        stored = database.version(acknowledged.subject, acknowledged.version)
        where = f"{acknowledged.subject} v{acknowledged.version}"
        if stored is None:
            report.violate("lost", f"{where} (id {acknowledged.schema_id}) was acknowledged but is not stored")
        elif stored.schema_id != acknowledged.schema_id:
            report.violate(
                "lost", f"{where} was acknowledged as id {acknowledged.schema_id}, stored as {stored.schema_id}"
            )
        elif content_of(database.schemas[stored.schema_id]) != acknowledged.fingerprint:
            report.violate("lost", f"{where} holds other content than was acknowledged")


def check_version_numbers(database: Database, report: Report) -> None:
    by_subject = defaultdict(list)
    for row in database.versions:
        by_subject[row.subject].append(row)
    for subject, rows in by_subject.items():
        report.checked["subjects"] += 1
        numbers = [row.version for row in rows]
        if numbers != list(range(1, len(numbers) + 1)):
            report.violate("skipped", f"{subject} has versions {numbers}, not 1..{len(numbers)}")
        live_ids = Counter(row.schema_id for row in rows if not row.deleted)
        for schema_id, count in live_ids.items():
            if count > 1:
                report.violate("duplicated", f"{subject} holds id {schema_id} in {count} versions")


def check_ids_in_logs(run: LoadRun, report: Report) -> None:
    contents_of_id, ids_of_content = defaultdict(set), defaultdict(set)
    for acknowledged in run.acknowledged:
        contents_of_id[acknowledged.schema_id].add(acknowledged.fingerprint)
        ids_of_content[acknowledged.fingerprint].add(acknowledged.schema_id)
    for schema_id, contents in contents_of_id.items():
        if len(contents) > 1:
            report.violate("duplicated", f"id {schema_id} was acknowledged for {len(contents)} different contents")
    for ids in ids_of_content.values():
        if len(ids) > 1:
            report.violate("duplicated", f"one content was acknowledged under ids {sorted(ids)}")
    for log in run.logs:
        for wrong in log.wrong_answers:
            report.violate("stale", f"during the run: {wrong}")


def check_cache(redis_url: str, database: Database, report: Report) -> None:
    """Every entry the registry keeps in Redis equals what the database says now."""
    client = redis.Redis.from_url(redis_url)
    for raw_key in client.scan_iter(match=f"{CACHE_PREFIX}*", count=1000):
        key = raw_key.decode()[len(CACHE_PREFIX) :]
        instance, _, name = key.partition(":")
        kind = name.split(":", 1)[0]
        if kind not in ("schema", "version"):
            continue
        report.checked["cache entries"] += 1
        if _left_behind(instance, database):
            report.checked["cache entries of an older generation"] += 1
            continue
        if instance != database.instance:
            report.violate("stale", f"Redis holds {key!r}, named after another database or generation than this one")
            continue
        raw = client.get(raw_key)
        if raw is None:
            continue  # expired between the scan and the read
        cached = pickle.loads(raw)  # our own Redis, written by the registry under test
        if kind == "version" and "borrowedFrom" in cached:
            continue  # a marker of a shared tenant's version: its payload is checked under that tenant's key
        expected = _schema_expected(name, database) if kind == "schema" else _version_expected(name, database)
        if expected is None:
            report.violate("stale", f"Redis holds {key!r}, which the database does not")
        elif _comparable(cached) != _comparable(expected):
            report.violate(
                "stale", f"Redis holds {key!r} as {_comparable(cached)}, the database as {_comparable(expected)}"
            )


def _left_behind(instance: str, database: Database) -> bool:
    """Return True for a key of this database's older cache generation, which no process reads any more."""
    name, _, generation = instance.rpartition(".")
    return name == database.name and generation.isdigit() and int(generation) < database.generation


def _schema_expected(name: str, database: Database) -> dict | None:
    return database.schemas.get(int(name.split(":", 1)[1]))


def parse_version_key(name: str) -> tuple[str, str, int]:
    """Return (tenant, subject, version) of a cache key's name: version:{len}:{tenant}:{len}:{subject}:{version}."""
    rest = name.split(":", 1)[1]
    tenant_length, rest = rest.split(":", 1)
    tenant, rest = rest[: int(tenant_length)], rest[int(tenant_length) + 1 :]
    subject_length, rest = rest.split(":", 1)
    return tenant, rest[: int(subject_length)], int(rest[int(subject_length) + 1 :])


def _version_expected(name: str, database: Database) -> dict | None:
    """Return the payload the API serves for the version a cache key names, built from the database."""
    _, subject, number = parse_version_key(name)
    stored = database.version(subject, number)
    if stored is None:
        return None
    return version_payload(stored, database)


def version_payload(stored: StoredVersion, database: Database) -> dict:
    payload = {key: value for key, value in database.schemas[stored.schema_id].items() if key != "guid"}
    payload.update(
        subject=stored.subject,
        version=stored.version,
        id=stored.schema_id,
        semanticVersion=stored.semantic_version,
        state=stored.state,
    )
    if stored.deleted:
        payload["deleted"] = True
    return payload


def _comparable(payload: dict) -> dict:
    """The fields a cached answer and the database must agree on (deprecation dates are formatted ones)."""
    return {key: value for key, value in payload.items() if key != "deprecation"}


def check_api(url: str, account, database: Database, report: Report, *, concurrency: int = 8) -> None:
    """Ask the registry for every id and every live version (twice: two workers, two process caches)."""
    require_loopback(url)

    async def ask_everything() -> None:
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(base_url=url, timeout=60, headers=account.auth_headers("bearer")) as http:

            async def compare(path: str, expected: dict, keys: tuple[str, ...]) -> None:
                async with gate:
                    response = await http.get(path, headers={"Accept": CONTENT_TYPE})
                report.checked["API answers compared"] += 1
                if response.status_code != 200:
                    report.violate("stale", f"{path} answered {response.status_code}: {response.text[:200]}")
                    return
                served = response.json()
                served.setdefault("references", [])
                wanted = {key: expected.get(key, []) if key == "references" else expected.get(key) for key in keys}
                if {key: served.get(key) for key in keys} != wanted:
                    report.violate("stale", f"{path} served {served}, the database says {wanted}")

            checks = []
            for _ in range(2):
                for schema_id, payload in database.schemas.items():
                    checks.append(compare(f"/schemas/ids/{schema_id}", payload, ("schema", "schemaType", "references")))
                for stored in database.versions:
                    if not stored.deleted:
                        checks.append(
                            compare(
                                f"/subjects/{stored.subject}/versions/{stored.version}",
                                version_payload(stored, database),
                                ("id", "version", "schema", "references", "state", "semanticVersion"),
                            )
                        )
            await asyncio.gather(*checks)

    run_in_own_loop(ask_everything())


def _clean_outage_answer(error: ErrorAnswer) -> bool:
    return error.status in (500, 503) and error.json_shape and error.error_code in OUTAGE_CODES


def classify(error: ErrorAnswer, run: LoadRun) -> str:
    """Return "expected", "clean failure during <fault>" or "unexpected" for an error answer."""
    if error.operation == "approve" and error.status == 409 and error.error_code in REVIEW_CONFLICTS:
        return "expected"
    window = run.faults.covering(error)
    if window is not None and (error.status == 0 or _clean_outage_answer(error)):
        return f"clean failure during {window.name}"
    return "unexpected"


def check_errors(run: LoadRun, report: Report) -> None:
    for error in run.errors:
        verdict = classify(error, run)
        report.verdicts[verdict] += 1
        report.errors_by_kind[f"{error.operation} {error.kind}"] += 1
        if verdict == "unexpected":
            report.violate(
                "unexpected_errors",
                f"{error.method} {error.path} answered {error.kind} outside any fault: {error.message[:160]}",
            )


def check_invariants(stack, run: LoadRun) -> Report:
    """Run every check of the module over the stack's database, its cache Redis, its API and the run's logs."""
    report = Report()
    database = read_database(stack.database.url)
    report.checked["stored versions"] = len(database.versions)
    report.checked["stored schemas"] = len(database.schemas)
    check_acknowledged(run, database, report)
    check_version_numbers(database, report)
    check_ids_in_logs(run, report)
    check_errors(run, report)
    check_cache(stack.cache.url, database, report)
    check_api(stack.url, stack.writer, database, report)
    return report
