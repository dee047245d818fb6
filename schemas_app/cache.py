"""Two cache layers for lookups: an in-process LRU for immutable schemas by id, and the shared cache (Redis).

Schemas never change once stored, so a process may keep them forever; subject versions can be
deleted or deprecated, so they live in the shared cache and are invalidated on change (a process
reads them through `local_copies`, which keeps them until a change of them is announced).
Invalidation has one home, here: every save or delete of a version, wherever it comes from
(a service, the admin, a shell), drops its entry once the transaction commits; a bulk
`QuerySet.update()`, which sends no signal, calls `forget_versions_on_commit` itself. A shared tenant's
version read through another tenant is kept under the shared tenant's key, which its changes forget; the
reader's key holds a marker naming that tenant (`version_payload`).
The shared cache ignores Redis errors (settings: IGNORE_EXCEPTIONS), so an outage falls back
to the database instead of failing a request.

Every key names the database it came from (`instance_key`): a database recreated or restored
under a warm Redis never reads the entries of the one before, which would name rows (the default
tenant, schema ids handed out again) that it does not hold.

Every key also names the cache generation, a number kept in the database. A Redis that is down when
a change commits cannot be told to forget the entries the change made stale, and it may come back
with them (an append-only file keeps them); so the change moves the generation on instead, and every
process reads and writes new keys within REGISTRY_CACHE_GENERATION_SECONDS, leaving the old ones to expire.

A forget always wins against a slower lookup that read the database before the change committed: forgetting
an entry moves its counter (`forgotten_key`) on in the same Redis transaction that deletes it, and a lookup
that missed reads the counter before it reads the database, then keeps what it loaded only if the counter
has not moved since (one Lua script). A hit costs what it did; a miss one more round trip.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from redis.exceptions import RedisError

from protoengine.lru import LruCache
from registry import metrics
from schemas_app import local_copies

SCHEMA_TTL = 24 * 3600
VERSION_TTL = 3600
# How long a forget's counter is kept: far longer than a lookup takes between reading it and writing what it
# loaded (a counter that expired in between would let an old write through), short enough to leave no litter.
FORGOTTEN_TTL = VERSION_TTL
# A tenant's configuration changes rarely, and every save or delete of it forgets what was kept.
TENANT_CONFIG_TTL = 3600
_LOCAL_SIZE = 10_000
# A forget names the generation read at most this long ago: the forgets of one commit share one read.
FORGET_GENERATION_SECONDS = 0.05


logger = logging.getLogger(__name__)

_local_schemas = LruCache(_LOCAL_SIZE)
# Rendered answers of plain lookups by id (the same schemas, as bytes).
_local_bodies = LruCache(_LOCAL_SIZE)
# Tenant ids by key: a handful of tenants, each read again after a minute.
_local_tenants: dict[str, tuple[int, float]] = {}
_LOCAL_TENANT_SECONDS = 60
_instance: str | None = None
_instance_lock = threading.Lock()
# (generation, when it was read): a process re-reads it at most every REGISTRY_CACHE_GENERATION_SECONDS.
_generation: tuple[int, float] | None = None


def instance_key() -> str:
    """Return what names this database, and the cache generation, in cache keys."""
    return f"{_database_name()}.{cache_generation()}"


def _database_name() -> str:
    """Return what names this database in cache keys, read once per process.

    The uuid its migration stored, and on PostgreSQL the oid of the schema table too, which changes
    when a dump is restored (pg_restore recreates the tables) though the dumped uuid comes back.
    """
    global _instance
    if _instance is None:
        with _instance_lock:
            if _instance is None:
                try:
                    _instance = _read_instance_key()
                except DatabaseError:
                    return "unreadable"  # the request fails on the database anyway; read again next time
    return _instance


def _read_instance_key() -> str:
    from schemas_app.models import RegistryInstance, Schema

    instances = RegistryInstance._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT uuid::text FROM {instances} ORDER BY id LIMIT 1), %s::regclass::oid",
                [Schema._meta.db_table],
            )
            uuid, table_oid = cursor.fetchone()
        return f"{uuid}.{table_oid}"
    uuid = RegistryInstance.objects.order_by("id").values_list("uuid", flat=True).first()
    return str(uuid)


def cache_generation() -> int:
    """Return the cache generation, read from the database when the one this process knows is old."""
    global _generation
    known = _generation
    if known is not None and time.monotonic() - known[1] < settings.REGISTRY_CACHE_GENERATION_SECONDS:
        return known[0]
    from schemas_app.models import RegistryInstance

    try:
        current = RegistryInstance.objects.order_by("id").values_list("cache_generation", flat=True).first() or 0
    except DatabaseError:
        return known[0] if known else 0  # the request fails on the database anyway; read again next time
    _generation = (current, time.monotonic())
    return current


def next_cache_generation() -> None:
    """Move every process to new cache keys: entries that could not be forgotten are never read again."""
    global _generation
    from schemas_app.models import RegistryInstance

    first = RegistryInstance.objects.order_by("id").values_list("id", flat=True).first()
    RegistryInstance.objects.filter(pk=first).update(cache_generation=F("cache_generation") + 1)
    _generation = None


def forget_instance() -> None:
    """Read the database's name again, and drop this process's schemas (after a restore, as a restart would)."""
    global _instance, _generation
    _instance = _generation = None
    clear_local()


def _key(name: str) -> str:
    return f"{instance_key()}:{name}"


def schema_payload(schema_id: int, load: Callable[[], dict]) -> dict:
    """Return the payload of a schema id from this process, then Redis, then `load()` (the database)."""
    started = time.perf_counter()
    payload = _local_schemas.get(schema_id)
    if payload is not None:
        metrics.observe_lookup(metrics.LAYER_PROCESS, time.perf_counter() - started)
        return payload
    payload = _shared(_key(f"schema:{schema_id}"), SCHEMA_TTL, load, started=started)
    _local_schemas.put(schema_id, payload)
    return payload


def schema_body(schema_id: int, render: Callable[[], bytes]) -> bytes:
    """Return the rendered answer of a plain lookup by id, kept in this process like the schema itself."""
    body = _local_bodies.get(schema_id)
    if body is None:
        body = render()
        _local_bodies.put(schema_id, body)
    return body


def _shared(key: str, ttl: int, load: Callable[[], dict], *, started: float, already_read: dict | None = None) -> dict:
    """Return the entry from the shared cache, or `load()` it and keep it for `ttl` seconds.

    The lookup's time since `started` is recorded under the layer that answered. `already_read` holds
    entries this request read from the shared cache already (with its credential's context).
    """
    payload, layer = _read(key, already_read)
    if payload is not None:
        metrics.observe_lookup(layer, time.perf_counter() - started)
        return payload
    counters = [forgotten_key(key)]
    read = _counters_before_loading(counters)
    payload = load()
    metrics.observe_lookup(metrics.LAYER_DATABASE, time.perf_counter() - started)
    _keep_unless_forgotten(key, payload, ttl, counters, read)
    return payload


def _read(key: str, already_read: dict | None = None) -> tuple[object, str]:
    """Return the entry from `already_read`, this process or Redis (None when absent), and the layer it came from."""
    payload, from_process = (already_read or {}).get(key), False
    if payload is None:
        payload, from_process = local_copies.get(key)
    return payload, metrics.LAYER_PROCESS if from_process else metrics.LAYER_REDIS


def version_key(tenant_slug: str, subject: str, version: int) -> str:
    # The slug, not the id: a reader can build the key without looking its tenant up first.
    return _key(f"version:{len(tenant_slug)}:{tenant_slug}:{len(subject)}:{subject}:{version}")


def version_payload(
    tenant_slug: str,
    subject: str,
    version: int,
    load: Callable[[], tuple[dict, str]],
    already_read: dict | None = None,
) -> dict:
    """Return a subject version's payload from Redis (or `already_read`), or `load()` it and keep it.

    `load()` returns the payload and the slug of the tenant holding the version. A version borrowed from
    a shared tenant is kept under that tenant's key, which its changes forget; the reading tenant's key
    holds only a marker naming it, which the reading tenant's own new version forgets (`_version_changed`).
    """
    started = time.perf_counter()
    key = version_key(tenant_slug, subject, version)
    entry, layer = _read(key, already_read)
    if entry is None:
        entry, layer = _loaded_version(key, tenant_slug, load, borrowing=True)
    owner = entry.get(_BORROWED_FROM)
    # A marker, even one just loaded: the payload is kept under the owner's key only by a load that read the
    # owner's forget counter first, so a change there that commits meanwhile is never kept over.
    if owner is not None:
        key = version_key(owner, subject, version)
        entry, layer = _read(key)
        if entry is None or _BORROWED_FROM in entry:
            entry, layer = _loaded_version(key, owner, load, borrowing=False)
    metrics.observe_lookup(layer, time.perf_counter() - started)
    return entry


# The one field of a marker (no payload has it): the slug of the tenant whose key holds the payload.
_BORROWED_FROM = "borrowedFrom"


def _loaded_version(key: str, slug: str, load: Callable[[], tuple[dict, str]], *, borrowing: bool) -> tuple[dict, str]:
    """Load a version; keep and return it when `slug`'s tenant holds it, else (`borrowing`) a marker naming the holder.

    Either is kept only if neither `key` nor any tenant changed since loading began. Not `borrowing` (loaded
    through a marker), a version another tenant holds now (the reader's own, registered since) is only returned.
    """
    counters = [forgotten_key(key), _any_tenant_change()]
    read = _counters_before_loading(counters)
    payload, holder = load()
    if holder != slug and borrowing:
        payload = {_BORROWED_FROM: holder}
    if holder == slug or borrowing:
        _keep_unless_forgotten(key, payload, VERSION_TTL, counters, read)
    return payload, metrics.LAYER_DATABASE


def forget_versions(tenant_slug: str, subject: str, versions) -> None:
    """Drop cached payloads of these versions (after a delete or a state change commits)."""
    _forget_shared(_current_keys(lambda: [version_key(tenant_slug, subject, version) for version in versions]))


def _current_keys(make_keys: Callable[[], list[str]]) -> list[str]:
    """Return the keys `make_keys` names under the cache generation the database holds now, read again.

    A forget must name the entries readers use: after a Redis outage moved the generation on, a process may
    still know the old one for REGISTRY_CACHE_GENERATION_SECONDS, and its forget would miss (and not move the
    counter of) an entry another process had just kept under the new one, leaving it stale until its TTL.
    A read of the last FORGET_GENERATION_SECONDS is used again, so the forgets of one commit cost one query.
    """
    global _generation
    known = _generation
    if known is None or time.monotonic() - known[1] > FORGET_GENERATION_SECONDS:
        _generation = None
    return make_keys()


def _forget_shared(keys: list[str]) -> None:
    """Delete entries from the shared cache; when it cannot be reached, move on to the next cache generation."""
    if not keys:
        return
    if _forgotten(keys, [forgotten_key(key) for key in keys], announced=True):
        return
    logger.warning("The shared cache could not forget %s entries; moving every process to new cache keys", len(keys))
    try:
        next_cache_generation()
    except DatabaseError:
        logger.exception("The cache generation could not be moved on; the entries expire with their TTL")
    local_copies.announce(keys)


def forgotten_key(key: str) -> str:
    """Return the key of the counter that forgetting `key` moves on (outside `key`'s own patterns, `placement:*`)."""
    return f"forgotten:{key}"


# Keep KEYS[1] = ARGV[1] for ARGV[2] seconds unless a counter KEYS[i] moved from the value ARGV[i + 1] read before.
_KEEP_UNLESS_FORGOTTEN = """
for i = 2, #KEYS do
  if (redis.call('GET', KEYS[i]) or '') ~= ARGV[i + 1] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""
_keep_script = None
# Without Redis (a local-memory cache), what the script does in one step is done under this lock.
_in_process = threading.Lock()


def _counters_before_loading(counters: list[str]) -> list | None:
    """Return the counters of an entry about to be loaded from the database; None when Redis cannot be read."""
    client = getattr(cache, "client", None)
    if client is None:
        return [cache.get(counter, 0) for counter in counters]
    try:
        values = client.get_client(write=True).mget([client.make_key(counter) for counter in counters])
    except RedisError:
        return None  # nothing loaded now can be kept safely; the next lookup loads it again
    return [value or b"" for value in values]


def _keep_unless_forgotten(key: str, value, ttl: int, counters: list[str], read: list | None) -> None:
    """Keep a loaded value, unless a forget moved one of `counters` on since they were `read` (before loading)."""
    global _keep_script
    if read is None:
        return
    client = getattr(cache, "client", None)
    if client is None:
        with _in_process:
            if [cache.get(counter, 0) for counter in counters] == read:
                cache.set(key, value, ttl)
        return
    server = client.get_client(write=True)
    if _keep_script is None:
        _keep_script = server.register_script(_KEEP_UNLESS_FORGOTTEN)
    keys = [client.make_key(name) for name in (key, *counters)]
    with contextlib.suppress(RedisError):  # as the cache ignores Redis errors: the next lookup loads it again
        _keep_script(keys=keys, args=[client.encode(value), ttl, *read], client=server)


def _forgotten(keys: list[str], counters: list[str], *, announced: bool = False) -> bool:
    """Move `counters` on and delete `keys` in one Redis transaction; False when Redis could not be reached.

    `announced`: the transaction announces the keys too (`local_copies.announce`), one round trip instead of two;
    when Redis could not be reached nothing was announced.
    """
    client = getattr(cache, "client", None)
    if client is None:
        with _in_process:
            for counter in counters:
                cache.set(counter, cache.get(counter, 0) + 1, FORGOTTEN_TTL)
            cache.delete_many(keys)
        if announced:
            local_copies.announce(keys)
        return True
    pipeline = client.get_client(write=True).pipeline(transaction=True)
    for counter in counters:
        pipeline.incr(client.make_key(counter))
        pipeline.expire(client.make_key(counter), FORGOTTEN_TTL)
    if keys:
        pipeline.delete(*[client.make_key(key) for key in keys])
    if announced:
        pipeline.publish(*local_copies.announcement(keys))
    try:
        pipeline.execute()
    except RedisError:
        return False
    if announced:
        local_copies.forget_here(keys)
    return True


def forget_versions_on_commit(tenant_slug: str, subject: str, versions) -> None:
    """Drop the versions' cached payloads once the current transaction commits (at once outside one)."""
    numbers = list(versions)
    transaction.on_commit(lambda: forget_versions(tenant_slug, subject, numbers))


def _version_changed(sender, instance, **kwargs) -> None:
    """Forget a saved or deleted version's entry and its schema's placement once the transaction commits.

    A new version too: its tenant's key may hold a marker of a shared tenant's version of that name and number.
    Both go in one Redis transaction and one announcement after the commit; when Redis cannot be reached, every
    process moves to new cache keys, as a version's forget always did. Forgetting the placement before the commit
    as well would add a round trip and guard nothing: a lookup that loads the rows as they were before the commit
    keeps them only if no forget moved their counter meanwhile (`_keep_unless_forgotten`), and this one does.
    """
    subject = instance.subject
    tenant_slug, subject_name, version, schema_id = (
        subject.tenant.slug,
        subject.name,
        instance.version,
        instance.schema_id,
    )
    transaction.on_commit(
        lambda: _forget_shared(
            _current_keys(lambda: [version_key(tenant_slug, subject_name, version), placement_key(schema_id)])
        )
    )


def placement_key(schema_id: int) -> str:
    return _key(f"placement:{schema_id}")


def schema_placement(schema_id: int, load: Callable[[], tuple], already_read: dict | None = None) -> tuple:
    """Return the versions serving a schema id in every tenant (what lookups by id check), from Redis or `load()`.

    `already_read` holds entries this request read from the shared cache already.
    """
    key = placement_key(schema_id)
    placement = (already_read or {}).get(key)
    if placement is None:
        placement, _ = local_copies.get(key)
    if placement is None:
        counters = [forgotten_key(key), _any_tenant_change()]
        read = _counters_before_loading(counters)
        placement = load()
        _keep_unless_forgotten(key, placement, VERSION_TTL, counters, read)
    return placement


def _any_tenant_change() -> str:
    """Return the counter a tenant's change moves on: it forgets every placement and version at once, by pattern."""
    return forgotten_key(_key("placements"))


def forget_placements(schema_ids) -> None:
    """Drop the placements of these schema ids, now and again when the transaction commits.

    Again after the commit, because a lookup may have read and kept the rows as they were before it.
    """
    schema_ids = set(schema_ids)
    _forget_placements_now(schema_ids)
    transaction.on_commit(lambda: _forget_placements_now(schema_ids))


def _forget_placements_now(schema_ids: set[int]) -> None:
    _forget_or_announce(_current_keys(lambda: [placement_key(schema_id) for schema_id in schema_ids]))


def _forget_or_announce(keys: list[str]) -> None:
    """Forget and announce `keys` in one Redis transaction; with Redis down, announce them only.

    Placements and a tenant's blocking rules: with Redis down their shared entries stay until their TTL, where a
    version's forget moves every process to new cache keys instead (`_forget_shared`).
    """
    if not _forgotten(keys, [forgotten_key(key) for key in keys], announced=True):
        local_copies.announce(keys)  # this process forgets its copies at least


def tenant_blocking_lint_rules(tenant_id: int, load: Callable[[], list[str]]) -> list[str]:
    """Return the lint rules a tenant's configuration makes blocking, from this process, Redis, or `load()`.

    Read by every registration with lint findings; a change of the configuration forgets it (`_tenant_config_changed`).
    """
    key = _tenant_blocking_key(tenant_id)
    rules, _ = local_copies.get(key)
    if rules is None:
        counters = [forgotten_key(key)]
        read = _counters_before_loading(counters)
        rules = load()
        _keep_unless_forgotten(key, rules, TENANT_CONFIG_TTL, counters, read)
    return rules


def _tenant_blocking_key(tenant_id: int) -> str:
    return _key(f"tenant-blocking-lint:{tenant_id}")


def _tenant_config_changed(sender, instance, **kwargs) -> None:
    """Forget the tenant's blocking rules now and again on commit (a reader may have kept the rows from before)."""
    tenant_id = instance.tenant_id

    def forget() -> None:
        _forget_or_announce(_current_keys(lambda: [_tenant_blocking_key(tenant_id)]))

    forget()
    transaction.on_commit(forget)


def _tenant_changed(sender, instance, **kwargs) -> None:
    """Forget every placement and version: tenants rarely change, and a tenant's shared flag decides who reads its
    versions, its slug under which key (a borrowed version's marker names it)."""
    if hasattr(cache, "delete_pattern"):
        patterns, counter = [_key("placement:*"), _key("version:*")], _any_tenant_change()

        def forget() -> None:
            _forgotten([], [counter])  # first, so that no lookup that read the tenant before keeps what it loaded
            for pattern in patterns:
                cache.delete_pattern(pattern)
            local_copies.announce(None)

        forget()
        transaction.on_commit(forget)
    else:
        cache.clear()


def connect_invalidation() -> None:
    """Forget what a version's save or delete changes (called once, from the app's ready())."""
    from schemas_app.models import SubjectVersion, Tenant, TenantConfig

    post_save.connect(_version_changed, sender=SubjectVersion, dispatch_uid="registry-cache-version-saved")
    post_delete.connect(_version_changed, sender=SubjectVersion, dispatch_uid="registry-cache-version-deleted")
    post_save.connect(_tenant_changed, sender=Tenant, dispatch_uid="registry-cache-tenant-saved")
    post_delete.connect(_tenant_changed, sender=Tenant, dispatch_uid="registry-cache-tenant-deleted")
    post_save.connect(_tenant_config_changed, sender=TenantConfig, dispatch_uid="registry-cache-tenant-config-saved")
    post_delete.connect(
        _tenant_config_changed, sender=TenantConfig, dispatch_uid="registry-cache-tenant-config-deleted"
    )


def forget_schemas(schema_ids) -> None:
    """Drop payloads of schemas that a permanent delete removed, here and in the shared cache."""
    for schema_id in schema_ids:
        _local_schemas.pop(schema_id)
        _local_bodies.pop(schema_id)
    _forget_shared(_current_keys(lambda: [_key(f"schema:{schema_id}") for schema_id in schema_ids]))


def clear_local() -> None:
    """Drop what this process keeps (the shared cache is left alone), and read the cache generation again."""
    global _generation
    _local_schemas.clear()
    _local_bodies.clear()
    _local_tenants.clear()
    local_copies.clear()
    _generation = None


def tenant_pk(slug: str, load: Callable[[], int]) -> int:
    """Return a tenant's row id from this process (for a minute), the shared cache, or `load()`.

    Tenants are not renumbered while they exist; a minute bounds how long a deleted and recreated one is
    looked for under its old id. Kept in the shared cache for five minutes.
    """
    key = _key(f"tenant:{slug}")
    known = _local_tenants.get(key)
    if known is not None and known[1] > time.monotonic():
        return known[0]
    pk = cache.get(key)
    if pk is None:
        pk = load()
        cache.set(key, pk, 300)
    _local_tenants[key] = (pk, time.monotonic() + _LOCAL_TENANT_SECONDS)
    return pk
