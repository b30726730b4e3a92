"""A login in progress, from authorize URL to stored credential.

The PKCE verifier and state stay on this side with an expiry; the callback (a browser
redirect, or the ``code#state`` a user pastes on a headless machine) is accepted once.
They are held in the shared state (router/shared/), so the worker process a pasted
callback reaches finishes the login another worker started.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from router.credentials.store import CredentialStore, StoredCredential, credential_id
from router.errors import OAuthError
from router.oauth.client import OAuthEndpoints, authorize_url, exchange_code
from router.oauth.pkce import challenge_for, new_state, new_verifier

LOGIN_TTL = 600.0


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

    def start(self, oauth: OAuthProvider) -> StartedLogin:
        verifier, state = new_verifier(), new_state()
        held = json.dumps([oauth.provider, verifier])
        self.store.shared.hold(f"login:{state}", held, self._clock() + LOGIN_TTL)
        url = authorize_url(oauth.endpoints, challenge_for(verifier), state)
        return StartedLogin(url=url, state=state, expires_in=LOGIN_TTL)

    async def complete(self, oauth: OAuthProvider, code: str, state: str) -> StoredCredential:
        """Exchange ``code`` for tokens and store them; each state works once."""
        held = self.store.shared.take(f"login:{state}", self._clock()) if state else None
        provider, verifier = json.loads(held) if held else ("", "")
        if provider != oauth.provider:
            raise LoginError(
                "unknown or expired login state: start the login again "
                f"(GET /v1/auth/llmux/{oauth.provider}/login)"
            )
        if not code:
            raise LoginError("the callback carried no authorization code")
        return await finish_login(self.store, oauth, code, verifier, state)


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
