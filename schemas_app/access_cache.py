"""The access context of a credential, remembered so that a signed-in request costs one cache read.

Clients send their credentials with every request. What a credential stands for (the account, the tenant
it is bound to, the tenants it reads, its model permissions, the token's expiry) is worked out from the
database once, then kept in the shared cache and in this process under a keyed hash of the credential
(HMAC with SECRET_KEY), so neither holds a usable secret.

Every entry carries the access generation it was worked out under: a random value in the shared cache
that any change to an account, a token, a group membership, a grant, a binding or a tenant replaces when
it happens and again when its transaction commits (`connect_invalidation`). An entry of another
generation is never used, so a revoked grant, a rotated token or a new password counts from the next
request, in every process. The generation is read on every signed-in request, together with the sign-in
lockout counters, in one round trip, or in none while this process's copies of them are current (every
change of them is announced: `schemas_app.local_copies`). Without Redis the generation cannot be read
and nothing remembered is trusted: every request reads the database, as it would with no cache at all.
"""

import copy
import threading
import time
import uuid
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from schemas_app import access, local_copies
from schemas_app import cache as registry_cache
from schemas_app.keyed_hashes import keyed_hash

# How long an entry is kept after a process last read it (every LOCAL_SECONDS at most while a process uses it);
# a change of generation drops it sooner.
SHARED_SECONDS = 300
LOCAL_SECONDS = 60
LOCAL_SIZE = 10_000


def instance_copy(instance):
    """Return a shallow copy of a model instance, as copy.copy makes it, without pickle's protocol.

    Every signed-in request copies its remembered account and token, and copy.copy goes through
    Model.__reduce__ and __setstate__; this copies what Model.__getstate__ copies (the attributes,
    the instance state and its cache of related rows) directly, for a fraction of the cost.
    """
    clone = object.__new__(type(instance))
    attributes = instance.__dict__.copy()
    state = attributes["_state"]
    attributes["_state"] = copied_state = object.__new__(type(state))
    copied_state.__dict__.update(state.__dict__)
    copied_state.fields_cache = state.fields_cache.copy()
    clone.__dict__.update(attributes)
    return clone


def credential_key(kind: str, *parts: str) -> str:
    """Return the keyed hash a credential is remembered under (`kind` keeps Basic and token keys apart)."""
    return keyed_hash(kind, *parts)


def _generation_key() -> str:
    return f"{registry_cache.instance_key()}:access-generation"


def _entry_key(key: str) -> str:
    return f"{registry_cache.instance_key()}:access:{key}"


@dataclass(frozen=True)
class AccessContext:
    """What a verified credential stands for: its account, with the tenants and permissions worked out."""

    user: object
    generation: str
    token: object = None

    def expired(self) -> bool:
        expires_at = getattr(self.token, "expires_at", None)
        return expires_at is not None and expires_at <= timezone.now()

    def for_request(self):
        """Return a copy of the account and token a request may change without touching this entry."""
        user = instance_copy(self.user)
        token = instance_copy(self.token) if self.token is not None else None
        if token is not None:
            token.user = user
        return user, token


@dataclass
class Recall:
    """One read of the shared cache: the remembered context (if any), the generation, and the other keys asked."""

    key: str
    generation: str | None
    context: AccessContext | None = None
    values: dict = field(default_factory=dict)
    # Keys of `values` this process answered from its own copies (schemas_app.local_copies).
    from_process: set = field(default_factory=set)


class _LocalEntries:
    """This process's copies of the shared entries, each for LOCAL_SECONDS at most."""

    def __init__(self):
        self._entries: dict[str, tuple[AccessContext, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> AccessContext | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, key: str, context: AccessContext) -> None:
        with self._lock:
            if len(self._entries) >= LOCAL_SIZE:
                self._entries.clear()
            self._entries[key] = (context, time.monotonic() + LOCAL_SECONDS)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_local = _LocalEntries()


def recall(key: str, *, also: list[str] = (), keepable=None) -> Recall:
    """Return the context remembered for a credential at the current generation, and the values of `also`.

    This process's copy answers with a single round trip to the shared cache (the generation and `also`),
    or none when this process's copies of them are current (`local_copies`; `keepable` says which of
    `also` may be copied, by default those present).
    """
    generation_key = _generation_key()
    options = {"keepable": keepable} if keepable is not None else {}
    values, from_process = local_copies.get_many([generation_key, *also], **options)
    generation = values.pop(generation_key, None) or _start_generation(generation_key)
    found = Recall(key=key, generation=generation, values=values, from_process=from_process)
    if generation is None:
        return found
    context = _local.get(key)
    if context is None or context.generation != generation:
        context = cache.get(_entry_key(key))
        if context is None or context.generation != generation:
            return found
        _local.put(key, context)
        # In use: kept for SHARED_SECONDS more, so that no process works a credential in steady use out again
        # (a password's PBKDF2 check costs about 0.4 s of CPU) when the entry would have expired.
        cache.touch(_entry_key(key), SHARED_SECONDS)
    if not context.expired():
        found.context = context
    return found


def _start_generation(generation_key: str) -> str | None:
    """Set a first generation when the shared cache has none (a new or flushed Redis); None when Redis is down."""
    cache.add(generation_key, uuid.uuid4().hex, None)
    return cache.get(generation_key)


def remember(recalled: Recall, user, token=None) -> AccessContext | None:
    """Work out the account's access context and keep it under the recalled credential's key.

    The generation is the one read before the database was: if something changed since, the entry
    is born stale and never used.
    """
    if recalled.generation is None or not user.is_active:
        return None
    prepared = _prepared(user)
    if access.home_tenant_missing(prepared):
        return None  # worked out again on every request until the default tenant exists
    context = AccessContext(user=prepared, generation=recalled.generation, token=_detached(token))
    cache.set(_entry_key(recalled.key), context, SHARED_SECONDS)
    _local.put(recalled.key, context)
    return context


def _prepared(user):
    """Return a copy of the account with everything a request asks of it already read from the database."""
    prepared = copy.copy(user)
    access.bound_tenant(prepared)
    if not prepared.is_superuser:
        access.readable_tenant_ids(prepared)
    prepared.get_all_permissions()  # fills Django's permission caches on the object
    # The password hash stays in the database: deferred, it is read again only if something asks for it
    # (and a save() of a deferred instance writes the loaded fields only).
    prepared.__dict__.pop("password", None)
    return prepared


def _detached(token):
    """Return a copy of the token without its account (the context holds the account once)."""
    if token is None:
        return None
    detached = copy.copy(token)
    detached._state.fields_cache.pop("user", None)
    return detached


def forget_everything() -> None:
    """Start a new generation: every remembered context, in every process, is worked out again."""
    _local.clear()
    cache.set(_generation_key(), uuid.uuid4().hex, None)
    local_copies.announce([_generation_key()])


def forget_everything_now_and_on_commit(**kwargs) -> None:
    """Signal receiver: start a new generation at once, and again when the change commits.

    At once, so that nothing remembered from before the change is used again (not even by this
    transaction's own next reads); after the commit, so that a context another request worked out
    from the rows as they were before the commit is dropped too.
    """
    if kwargs.get("action", "post_").startswith("pre_"):
        return  # m2m_changed: the post_ signal follows
    if kwargs.get("update_fields") and set(kwargs["update_fields"]) <= {"last_login", "last_used_at"}:
        return  # bookkeeping, not a change of access
    forget_everything()
    transaction.on_commit(forget_everything, using=kwargs.get("using"))


def connect_invalidation() -> None:
    """Start a new generation whenever anything a context holds changes (called once, from the app's ready())."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from guardian.models import GroupObjectPermission, UserObjectPermission

    from schemas_app.models import ApiToken, SubjectPrefixGrant, Tenant, TenantBinding

    user_model = get_user_model()
    for model in (
        user_model,
        Group,
        Permission,
        UserObjectPermission,
        GroupObjectPermission,
        TenantBinding,
        Tenant,
        SubjectPrefixGrant,
        ApiToken,
    ):
        label = model._meta.label_lower
        post_save.connect(forget_everything_now_and_on_commit, sender=model, dispatch_uid=f"access-cache-saved-{label}")
        post_delete.connect(
            forget_everything_now_and_on_commit, sender=model, dispatch_uid=f"access-cache-deleted-{label}"
        )
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(
            forget_everything_now_and_on_commit,
            sender=through,
            dispatch_uid=f"access-cache-m2m-{through._meta.label_lower}",
        )
