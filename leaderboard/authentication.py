"""API token authentication: `Authorization: Token <key>` with a key created on the account page."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request



class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # not ours: session authentication may still apply
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                'Authorization header: expected "Token <key>" with the key from your account page'
            )
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Authorization header: the token contains invalid characters") from None
        from leaderboard import services  # here, not at import: DRF imports this class while loading its settings

        authenticated = services.api_token_authenticate(key)
        if authenticated is None:
            raise exceptions.AuthenticationFailed("invalid or revoked API token; create a new one on your account page")
        return authenticated  # (user, token id): request.auth is the token's id

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
