"""Client API keys: where clients put them, and a constant-time check.

The sidecars (providers/) check their one shared key with the same two pieces,
``bearer_token`` and ``key_matches``."""

from __future__ import annotations

import hmac

from aiohttp import web

from router.config.schema import ClientKey


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header (any case), else None."""
    authorization = request.headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


def key_matches(presented: str | None, secret: str) -> bool:
    """Whether ``presented`` is ``secret``, compared in constant time."""
    return hmac.compare_digest((presented or "").encode(), secret.encode())


def presented_key(request: web.Request) -> str | None:
    """The key a client sent, from any header or query parameter real clients use."""
    token = bearer_token(request)
    if token is not None:
        return token
    for header in ("x-api-key", "x-goog-api-key"):
        value = request.headers.get(header)
        if value:
            return value.strip()
    return request.query.get("key") or request.query.get("auth_token")


class ClientKeys:
    """The configured client keys; ``identify`` answers which one (by name) was presented."""

    def __init__(self, keys: tuple[ClientKey, ...]) -> None:
        self._keys = [
            (key.name or f"key{i + 1}", key.key.encode()) for i, key in enumerate(keys) if key.key
        ]

    @property
    def required(self) -> bool:
        return bool(self._keys)

    def identify(self, presented: str | None) -> str | None:
        """The name of the matching key; every key is compared so timing reveals nothing."""
        candidate = (presented or "").encode()
        found = None
        for name, secret in self._keys:
            if hmac.compare_digest(candidate, secret) and found is None:
                found = name
        return found
