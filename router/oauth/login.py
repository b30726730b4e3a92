"""A login in progress, from authorize URL to stored credential.

The PKCE verifier and state stay on this side with an expiry; the callback (a browser
redirect, or the ``code#state`` a user pastes on a headless machine) is accepted once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from router.credentials.store import CredentialStore, StoredCredential, credential_id
from router.errors import OAuthError
from router.oauth.client import OAuthEndpoints, authorize_url, exchange_code
from router.oauth.pkce import challenge_for, new_state, new_verifier

LOGIN_TTL = 600.0
_MAX_PENDING = 256


class OAuthProvider(Protocol):
    """What a subscription tells the login flow about itself."""

    provider: str
    endpoints: OAuthEndpoints

    def credential_data(self, tokens: Mapping[str, Any], now: float) -> dict[str, Any]:
        """The credential file's content from a token endpoint answer."""


class LoginError(Exception):
    """A login that cannot complete; the message is safe to show the user."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class PendingLogin:
    provider: str
    verifier: str
    expires_at: float


@dataclass(frozen=True)
class StartedLogin:
    url: str
    state: str
    expires_in: float


def split_pasted_code(pasted: str) -> tuple[str, str]:
    """``code#state`` (what Claude's page shows) -> (code, state)."""
    code, _, state = pasted.strip().partition("#")
    return code, state


class LoginFlows:
    """Logins started and not yet completed, for every OAuth provider."""

    def __init__(self, store: CredentialStore, clock: Callable[[], float] = time.monotonic):
        self.store = store
        self._clock = clock
        self._pending: dict[str, PendingLogin] = {}

    def start(self, oauth: OAuthProvider) -> StartedLogin:
        self._expire()
        if len(self._pending) >= _MAX_PENDING:
            oldest = min(self._pending, key=lambda s: self._pending[s].expires_at)
            del self._pending[oldest]
        verifier, state = new_verifier(), new_state()
        self._pending[state] = PendingLogin(oauth.provider, verifier, self._clock() + LOGIN_TTL)
        url = authorize_url(oauth.endpoints, challenge_for(verifier), state)
        return StartedLogin(url=url, state=state, expires_in=LOGIN_TTL)

    async def complete(self, oauth: OAuthProvider, code: str, state: str) -> StoredCredential:
        """Exchange ``code`` for tokens and store them; each state works once."""
        self._expire()
        pending = self._pending.pop(state, None) if state else None
        if pending is None or pending.provider != oauth.provider:
            raise LoginError(
                "unknown or expired login state: start the login again "
                f"(GET /v1/auth/llmux/{oauth.provider}/login)"
            )
        if not code:
            raise LoginError("the callback carried no authorization code")
        return await finish_login(self.store, oauth, code, pending.verifier, state)

    def _expire(self) -> None:
        now = self._clock()
        for state in [s for s, p in self._pending.items() if p.expires_at <= now]:
            del self._pending[state]


async def finish_login(
    store: CredentialStore, oauth: OAuthProvider, code: str, verifier: str, state: str
) -> StoredCredential:
    try:
        tokens = await exchange_code(oauth.endpoints, code, verifier, state)
    except OAuthError as exc:
        raise LoginError(f"{oauth.provider} login failed: {exc.message}", status=502) from None
    data = oauth.credential_data(tokens, time.time())
    label = str(data.get("email") or data.get("account_id") or "account")
    return store.save(oauth.provider, credential_id(oauth.provider, label), data)
