"""HTTP Basic authentication that checks a password hash once, not on every request.

Kafka clients send `Authorization: Basic` with every call; Django's PBKDF2 check costs
hundreds of milliseconds by design, which would dominate every lookup. A verified
credential is remembered in this process only (never in Redis), keyed by an HMAC of
the credential, and trusted again only while the user's stored password hash is unchanged.
"""

import hashlib
import hmac
import threading
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.authentication import BasicAuthentication

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


verified_credentials = _VerifiedCredentials()


def _credential_key(userid: str, password: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{userid}\0{password}".encode(), hashlib.sha256).hexdigest()


class RememberingBasicAuthentication(BasicAuthentication):
    """BasicAuthentication whose successful checks are remembered for a few minutes."""

    def authenticate_credentials(self, userid, password, request=None):
        key = _credential_key(userid, password)
        remembered = verified_credentials.get(key)
        if remembered is not None:
            user_pk, password_hash = remembered
            user = get_user_model().objects.filter(pk=user_pk, is_active=True).first()
            if user is not None and user.password == password_hash:
                return (user, None)
        user, auth = super().authenticate_credentials(userid, password, request)
        verified_credentials.put(key, user.pk, user.password)
        return (user, auth)
