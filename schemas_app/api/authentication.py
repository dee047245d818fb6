"""How API clients sign in: HTTP Basic with remembered checks, and bearer API tokens.

Kafka clients send credentials with every call; Django's PBKDF2 check costs hundreds of milliseconds
by design, which would dominate every lookup. A verified Basic credential is remembered in this process
only (never in Redis), keyed by an HMAC of the credential, and trusted again only while the user's stored
password hash is unchanged. Tokens need no such memory: they are found by a keyed hash in one query.
Failed attempts are counted by `throttling`; neither passwords nor tokens are ever logged or echoed.
"""

import hashlib
import hmac
import threading
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, BasicAuthentication, get_authorization_header

from schemas_app.api import throttling
from schemas_app.tokens import api_token_authenticate

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
    return hmac.new(settings.SECRET_KEY.encode(), f"{userid}\0{password}".encode(), hashlib.sha256).hexdigest()


class RememberingBasicAuthentication(BasicAuthentication):
    """BasicAuthentication whose successful checks are remembered for a few minutes, and whose failures count."""

    def authenticate_credentials(self, userid, password, request=None):
        address = throttling.source_address(request)
        throttling.refuse_if_locked(account=userid, address=address)
        key = _credential_key(userid, password)
        remembered = verified_credentials.get(key)
        if remembered is not None:
            user_pk, password_hash = remembered
            user = get_user_model().objects.filter(pk=user_pk, is_active=True).first()
            if user is not None and user.password == password_hash:
                return (user, None)
        try:
            user, auth = super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            throttling.record_failure(account=userid, address=address)
            raise
        verified_credentials.put(key, user.pk, user.password)
        return (user, auth)


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` (confluent-kafka's STATIC_TOKEN); `Token <token>` is accepted too."""

    keywords = (b"bearer", b"token")

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: send `Authorization: Bearer <token>`.")
        address = throttling.source_address(request)
        throttling.refuse_if_locked(account=None, address=address)
        try:
            secret = parts[1].decode()
        except UnicodeDecodeError:
            secret = None
        token = api_token_authenticate(secret) if secret else None
        if token is None:
            throttling.record_failure(account=None, address=address)
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return (token.user, token)

    def authenticate_header(self, request):
        return 'Bearer realm="schema-registry"'
