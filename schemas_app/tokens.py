"""API tokens: the services that create, rotate and revoke them, and the selectors that find them.

A token reads `sr_<random>`; the registry keeps its first characters and a keyed hash (HMAC-SHA256
with SECRET_KEY), so the database never holds a usable secret and a lookup costs one indexed query.
"""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from schemas_app.auditing import audited
from schemas_app.errors import Forbidden, InvalidRequest, TokenNotFound
from schemas_app.keyed_hashes import keyed_hash
from schemas_app.models import ApiToken

TOKEN_PREFIX = "sr_"
SHOWN_CHARACTERS = 10
# Writing the last-used time on every request would turn each lookup into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# The last-used time this process last wrote or saw, by token id.
_last_written: dict = {}


def token_digest(secret: str) -> str:
    """Return the keyed hash a token is stored and looked up by."""
    return keyed_hash(secret)


def _new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@audited
def api_token_create(*, user, name: str, expires_at=None, acting_user) -> tuple[ApiToken, str]:
    """Create a token for the user; return it with its secret, which is never shown again."""
    secret = _new_secret()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:SHOWN_CHARACTERS], digest=token_digest(secret), expires_at=expires_at
    )
    return token, secret


@audited
def api_token_rotate(*, token: ApiToken, acting_user) -> tuple[ApiToken, str]:
    """Give the token a new secret; the old one stops working at once."""
    secret = _new_secret()
    token.prefix, token.digest = secret[:SHOWN_CHARACTERS], token_digest(secret)
    token.save(update_fields=["prefix", "digest"])
    return token, secret


@audited
def api_token_revoke(*, token: ApiToken, acting_user) -> ApiToken:
    """Revoke the token for good (it stays listed, marked revoked)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_list(*, viewer):
    """Return the viewer's tokens; a superuser sees every account's."""
    tokens = ApiToken.objects.select_related("user")
    return tokens if viewer.is_superuser else tokens.filter(user=viewer)


def token_owner(*, viewer, username: str | None):
    """Return the account a new token is for: the viewer's own, or, for a superuser, the account of that name."""
    if not username or username == viewer.get_username():
        return viewer
    if not viewer.is_superuser:
        raise Forbidden("Only a superuser makes tokens for another account")
    owner = get_user_model().objects.filter(username=username).first()
    if owner is None:
        raise InvalidRequest(f"No account is named {username!r}")
    return owner


def api_token_get(*, viewer, token_id) -> ApiToken:
    """Return one of the viewer's tokens; another account's answers as an unknown one."""
    try:
        return api_token_list(viewer=viewer).get(pk=int(token_id))
    except (ApiToken.DoesNotExist, ValueError, OverflowError):
        raise TokenNotFound() from None


def api_token_authenticate(secret: str) -> ApiToken | None:
    """Return the live token of an active account with this secret, noting when it was used; None otherwise."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    note_token_use(token)
    return token


def note_token_use(token: ApiToken) -> None:
    """Write the token's last-used time when it is older than LAST_USED_RESOLUTION (see `noted_token_use`)."""
    token.last_used_at = noted_token_use(token.pk, token.last_used_at)


def noted_token_use(token_pk: int, last_used_at):
    """Return the token's last-used time after a use now, writing it when older than LAST_USED_RESOLUTION.

    A token remembered by `access_cache` carries the time it had when remembered, so this process also
    remembers when it last wrote it, instead of writing on every request after the first minute.
    """
    now = timezone.now()
    written = _last_written.get(token_pk)
    if written is not None and written > now - LAST_USED_RESOLUTION:
        return max(last_used_at or written, written)
    if last_used_at is None or last_used_at < now - LAST_USED_RESOLUTION:
        # An update, not save(): no signal, so remembered access contexts stay valid.
        ApiToken.objects.filter(pk=token_pk).update(last_used_at=now)
        last_used_at = now
    if len(_last_written) >= 10_000:
        _last_written.clear()
    _last_written[token_pk] = last_used_at
    return last_used_at
