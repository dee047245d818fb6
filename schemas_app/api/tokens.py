"""/tokens: an account's API tokens, created, listed, rotated and revoked; a secret is shown only when it is made."""

from rest_framework import serializers
from rest_framework.response import Response

from schemas_app import tokens
from schemas_app.api.common import RegistryView
from schemas_app.api.openapi import documented
from schemas_app.api.permissions import IsSignedIn
from schemas_app.errors import InvalidRequest


class TokenInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expiresAt = serializers.DateTimeField(required=False, allow_null=True, default=None)
    # A superuser may make a token for another account (a service account, usually).
    user = serializers.CharField(required=False, allow_null=True, default=None)


def token_payload(token, secret: str | None = None) -> dict:
    """Return a token as the API shows it: never its secret, except `secret` right after it was made."""
    body = {
        "id": token.pk,
        "name": token.name,
        "user": token.user.get_username(),
        "prefix": token.prefix,
        "createdAt": token.created_at.isoformat(),
        "expiresAt": token.expires_at.isoformat() if token.expires_at else None,
        "lastUsedAt": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked": token.revoked_at is not None,
    }
    if secret is not None:
        body["token"] = secret
    return body


class TokenView(RegistryView):
    permission_classes = [IsSignedIn]


@documented(request=TokenInputSerializer)
class TokenListView(TokenView):
    """List the caller's API tokens, or create one (its secret is in this answer only)."""

    def get(self, request):
        return Response([token_payload(token) for token in tokens.api_token_list(viewer=request.user)])

    def post(self, request):
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        owner = tokens.token_owner(viewer=request.user, username=data["user"])
        token, secret = tokens.api_token_create(
            user=owner, name=data["name"], expires_at=data["expiresAt"], acting_user=request.user
        )
        return Response(token_payload(token, secret), status=201)


@documented()
class TokenDetailView(TokenView):
    """Show one token, or revoke it (DELETE); it stays listed as revoked."""

    def get(self, request, token_id):
        return Response(token_payload(tokens.api_token_get(viewer=request.user, token_id=token_id)))

    def delete(self, request, token_id):
        token = tokens.api_token_get(viewer=request.user, token_id=token_id)
        return Response(token_payload(tokens.api_token_revoke(token=token, acting_user=request.user)))


@documented()
class TokenRotateView(TokenView):
    """Give a token a new secret (in this answer only); the old secret stops working at once."""

    def post(self, request, token_id):
        token = tokens.api_token_get(viewer=request.user, token_id=token_id)
        if token.revoked_at is not None:
            raise InvalidRequest("A revoked token cannot be rotated; create a new one")
        token, secret = tokens.api_token_rotate(token=token, acting_user=request.user)
        return Response(token_payload(token, secret))
