"""The token endpoint: exchanging an authorization code and refreshing tokens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

from router.config.proxy import DIRECT_CONNECTION, ProxySetting
from router.config.subscriptions import OAuthSubscription
from router.errors import OAuthError
from router.outbound import ProxyUnreachable, client_session

_TIMEOUT = aiohttp.ClientTimeout(total=30.0)


@dataclass(frozen=True)
class OAuthEndpoints:
    """One provider's OAuth client: where to send the user and how to talk to its token URL."""

    authorize_url: str
    token_url: str
    client_id: str
    scopes: str
    redirect_uri: str
    form_encoded: bool
    authorize_extra: Mapping[str, str] = field(default_factory=dict)
    # Sent with refresh grants when the provider wants a scope there.
    refresh_scope: str = ""
    # Claude's token endpoint wants the state back with the code.
    state_in_exchange: bool = False
    # The outbound proxy token requests go through.
    proxy: ProxySetting = DIRECT_CONNECTION

    @classmethod
    def of(
        cls,
        config: OAuthSubscription,
        proxy: ProxySetting,
        *,
        form_encoded: bool,
        authorize_extra: Mapping[str, str] | None = None,
        refresh_scope: str = "",
        state_in_exchange: bool = False,
    ) -> OAuthEndpoints:
        """A subscription's client from its config section (endpoints, client id, scopes)
        and what its provider's flow needs besides."""
        return cls(
            authorize_url=config.authorize_url,
            token_url=config.token_url,
            client_id=config.client_id,
            scopes=config.scopes,
            redirect_uri=config.redirect_uri,
            proxy=proxy,
            form_encoded=form_encoded,
            authorize_extra=authorize_extra or {},
            refresh_scope=refresh_scope,
            state_in_exchange=state_in_exchange,
        )


def authorize_url(endpoints: OAuthEndpoints, challenge: str, state: str) -> str:
    params = {
        **endpoints.authorize_extra,
        "client_id": endpoints.client_id,
        "response_type": "code",
        "redirect_uri": endpoints.redirect_uri,
        "scope": endpoints.scopes,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
    }
    return f"{endpoints.authorize_url}?{urlencode(params)}"


async def exchange_code(
    endpoints: OAuthEndpoints, code: str, verifier: str, state: str
) -> dict[str, Any]:
    grant = {
        "grant_type": "authorization_code",
        "client_id": endpoints.client_id,
        "code": code,
        "redirect_uri": endpoints.redirect_uri,
        "code_verifier": verifier,
    }
    if endpoints.state_in_exchange:
        grant["state"] = state
    return await _post_token(endpoints, grant)


async def refresh_tokens(endpoints: OAuthEndpoints, refresh_token: str) -> dict[str, Any]:
    grant = {
        "grant_type": "refresh_token",
        "client_id": endpoints.client_id,
        "refresh_token": refresh_token,
    }
    if endpoints.refresh_scope:
        grant["scope"] = endpoints.refresh_scope
    return await _post_token(endpoints, grant)


async def _post_token(endpoints: OAuthEndpoints, grant: dict[str, str]) -> dict[str, Any]:
    headers = {"Accept": "application/json"}
    if endpoints.form_encoded:
        kwargs: dict[str, Any] = {"data": grant}
    else:
        kwargs = {"json": grant}
    try:
        async with (
            client_session(endpoints.proxy, timeout=_TIMEOUT) as session,
            session.post(endpoints.token_url, headers=headers, **kwargs) as response,
        ):
            try:
                answer = await response.json(content_type=None)
            except ValueError:
                answer = None
            status = response.status
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        reason = str(exc) if isinstance(exc, ProxyUnreachable) else type(exc).__name__
        raise OAuthError(f"token endpoint unreachable: {reason}", rejected=False) from None
    if status == 200 and isinstance(answer, dict) and answer.get("access_token"):
        return answer
    reason = _error_reason(answer)
    rejected = 400 <= status < 500 and status != 429
    raise OAuthError(f"token endpoint answered {status}{reason}", rejected=rejected)


def _error_reason(answer: Any) -> str:
    """``": invalid_grant (description)"`` from an OAuth error body; never token values."""
    if not isinstance(answer, dict):
        return ""
    error = answer.get("error")
    if isinstance(error, dict):
        error = error.get("type") or error.get("code")
    description = answer.get("error_description")
    if not isinstance(error, str):
        return ""
    if isinstance(description, str) and description:
        return f": {error} ({description[:200]})"
    return f": {error}"
