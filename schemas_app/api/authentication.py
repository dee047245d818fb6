"""How API clients sign in: HTTP Basic with remembered checks, and bearer API tokens.

Kafka clients send credentials with every call; Django's PBKDF2 check costs hundreds of milliseconds
by design, which would dominate every lookup. What a verified credential stands for is remembered by
`schemas_app.access_cache` under a keyed hash of it, so a signed-in request costs at most one cache round
trip (which reads the lockout counters too) and no query; any change to accounts, tokens or grants makes
the next request work it out again. A verified Basic credential is also remembered in this process only
(never in Redis), keyed the same way and trusted only while the user's stored password hash is unchanged,
so that working the context out again needs no second PBKDF2. Tokens are found by a keyed hash in one query.
Failed attempts are counted by `throttling`; neither passwords nor tokens are ever logged or echoed.
"""

import hashlib
import os
import threading
import time

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, BasicAuthentication, get_authorization_header

from registry.client_address import source_address
from schemas_app import access_cache, local_copies
from schemas_app.api import throttling
from schemas_app.errors import TooManyAttempts
from schemas_app.tokens import api_token_authenticate, note_token_use, noted_token_use

REMEMBER_SECONDS = 300
MAX_REMEMBERED = 10_000


class _VerifiedCredentials:
    def __init__(self):
        self._entries: dict[str, tuple[int, str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[int, str] | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[2] < time.monotonic():
            return None
        return entry[0], entry[1]

    def put(self, key: str, user_pk: int, password_hash: str) -> None:
        with self._lock:
            if len(self._entries) >= MAX_REMEMBERED:
                self._entries.clear()
            self._entries[key] = (user_pk, password_hash, time.monotonic() + REMEMBER_SECONDS)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


verified_credentials = _VerifiedCredentials()


def _credential_key(userid: str, password: str) -> str:
    return access_cache.credential_key("basic", userid, password)


def recall_refusing_lockouts(request, key: str, *, account: str | None) -> access_cache.Recall:
    """Read the credential's remembered context, the lockout counters and the view's keys in one round trip.

    429 when a counter is over its limit; what the view asked for (`request.prefetch_keys`) is left in
    `request.prefetched`.
    """
    address = source_address(request)
    wanted = list(getattr(request, "prefetch_keys", ()))
    limits = throttling.lock_limits(account=account, address=address)
    recalled = access_cache.recall(key, also=[*limits, *wanted], keepable=throttling.copyable_counts(limits))
    throttling.refuse_if_locked(account=account, address=address, counts=recalled.values, limits=limits)
    if request is not None and wanted:
        # Values this process held itself are left for the view to find there again (and count as such).
        request.prefetched = {
            name: recalled.values[name]
            for name in wanted
            if name in recalled.values and name not in recalled.from_process
        }
    return recalled


class RememberingBasicAuthentication(BasicAuthentication):
    """BasicAuthentication whose successful checks are remembered for a few minutes, and whose failures count."""

    def authenticate_credentials(self, userid, password, request=None):
        address = source_address(request)
        key = _credential_key(userid, password)
        recalled = recall_refusing_lockouts(request, key, account=userid)
        if recalled.context is not None:
            user, _ = recalled.context.for_request()
            return (user, None)
        user = self.verified_user(key, userid, password, request, address)
        access_cache.remember(recalled, user)
        return (user, None)

    def verified_user(self, key: str, userid: str, password: str, request, address: str):
        """Return the account whose password this is: without PBKDF2 when this process checked it already."""
        remembered = verified_credentials.get(key)
        if remembered is not None:
            user_pk, password_hash = remembered
            user = get_user_model().objects.filter(pk=user_pk, is_active=True).first()
            if user is not None and user.password == password_hash:
                return user
        try:
            user, _ = super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            throttling.record_failure(account=userid, address=address)
            raise
        verified_credentials.put(key, user.pk, user.password)
        return user


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` (confluent-kafka's STATIC_TOKEN); `Token <token>` is accepted too."""

    keywords = (b"bearer", b"token")

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: send `Authorization: Bearer <token>`.")
        address = source_address(request)
        try:
            secret = parts[1].decode()
        except UnicodeDecodeError:
            secret = ""
        recalled = recall_refusing_lockouts(request, access_cache.credential_key("token", secret), account=None)
        if recalled.context is not None:
            user, token = recalled.context.for_request()
            note_token_use(token)
            return (user, token)
        token = api_token_authenticate(secret) if secret else None
        if token is None:
            throttling.record_failure(account=None, address=address)
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        access_cache.remember(recalled, token.user, token)
        return (token.user, token)

    def authenticate_header(self, request):
        return 'Bearer realm="schema-registry"'


class _BasicCredentials(BasicAuthentication):
    """DRF's own reading of a Basic header, answering the userid and password instead of checking them."""

    def authenticate_credentials(self, userid, password, request=None):
        return userid, password


class _RecentSignIn:
    """A fast-path sign-in of the last second: its access context and what each request asks of it, worked out once."""

    __slots__ = ("context", "epoch", "until", "expires_at", "token_pk", "token_last_used")

    def __init__(self, context: access_cache.AccessContext, epoch: int | None, until: float):
        self.context = context
        self.epoch = epoch
        self.until = until
        token = context.token
        self.expires_at = None if token is None else token.expires_at
        self.token_pk = None if token is None else token.pk
        self.token_last_used = None if token is None else token.last_used_at

    def usable(self, epoch: int) -> bool:
        """Return True while no announcement was heard since, the second lasts and the token has not expired."""
        return (
            self.epoch == epoch
            and time.monotonic() <= self.until
            and (self.expires_at is None or self.expires_at > timezone.now())
        )


class _RecentSignIns:
    """The fast path's sign-ins of the last second, each trusted while this process heard no announcement since.

    A signed-in lookup otherwise works out three keyed hashes and reads the access generation, the lockout
    counters and the remembered context again, though none of them can have changed without an announcement
    (`local_copies`): a new generation, a lockout reaching its limit and a forgotten context all announce
    themselves. Entries are found by a hash of the Authorization header and the client's address under a
    key of this process, so the process keeps no credential in a form that could be checked elsewhere.
    """

    SECONDS = 1.0
    SIZE = 10_000

    def __init__(self):
        self._key = os.urandom(32)
        self._entries: dict[bytes, _RecentSignIn] = {}

    def name_of(self, header: str, address: str) -> bytes:
        text = f"{address}\0{header}".encode("utf-8", "surrogatepass")
        return hashlib.blake2b(text, key=self._key, digest_size=32).digest()

    def get(self, name: bytes, epoch: int) -> _RecentSignIn | None:
        entry = self._entries.get(name)
        return entry if entry is not None and entry.usable(epoch) else None

    def put(self, name: bytes, context: access_cache.AccessContext, epoch: int) -> _RecentSignIn:
        if len(self._entries) >= self.SIZE:
            self._entries.clear()
        entry = self._entries[name] = _RecentSignIn(context, epoch, time.monotonic() + self.SECONDS)
        return entry


recent_sign_ins = _RecentSignIns()


def remembered_sign_in(request):
    """Return the account of a Basic or bearer credential whose access context is remembered, else None.

    For the lookups' fast path (`schemas_app.api.fast_lookups`): it reads exactly what the classes above
    read, in the same single round trip, and checks nothing itself. A credential that is unknown, not
    remembered, malformed or locked out gets None and is left to the classes above, which answer it.
    A sign-in of the last second costs one hash and a dict read; the request gets its own copy of the
    account, and a token's use is noted without copying the token (the lookup reads nothing else of it).
    """
    epoch = local_copies.trusted_epoch()
    if epoch is None:  # nothing heard can end a sign-in: it serves this request only
        context = _remembered_context(request)
        entry = None if context is None else _RecentSignIn(context, epoch, until=0.0)
    else:
        name = recent_sign_ins.name_of(request.META["HTTP_AUTHORIZATION"], source_address(request))
        entry = recent_sign_ins.get(name, epoch)
        if entry is None:
            context = _remembered_context(request)
            entry = None if context is None else recent_sign_ins.put(name, context, epoch)
    if entry is None:
        return None
    if entry.token_pk is not None:
        entry.token_last_used = noted_token_use(entry.token_pk, entry.token_last_used)
    return access_cache.instance_copy(entry.context.user)


def _remembered_context(request) -> access_cache.AccessContext | None:
    """Return the remembered access context of the request's credential, or None (see `remembered_sign_in`)."""
    parts = get_authorization_header(request).split()
    if len(parts) != 2:
        return None
    scheme = parts[0].lower()
    if scheme == b"basic":
        try:
            userid, password = _BasicCredentials().authenticate(request)
        except exceptions.AuthenticationFailed:
            return None
        key, account = _credential_key(userid, password), userid
    elif scheme in BearerTokenAuthentication.keywords:
        try:
            secret = parts[1].decode()
        except UnicodeDecodeError:
            return None
        key, account = access_cache.credential_key("token", secret), None
    else:
        return None
    try:
        recalled = recall_refusing_lockouts(request, key, account=account)
    except TooManyAttempts:
        return None
    return recalled.context
