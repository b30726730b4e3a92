"""ChatGPT's OAuth client (the Codex CLI's) and what a credential file holds for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.config.proxy import DIRECT_CONNECTION, ProxySetting
from router.config.subscriptions import ChatGPTSubscriptionConfig
from router.config.wire.chatgpt import ACCOUNT_CLAIM, AUTHORIZE_EXTRA, PROVIDER
from router.oauth.client import OAuthEndpoints
from router.oauth.jwt import NotAJwt, jwt_claims
from router.subscriptions.tokens import token_fields


class ChatGPTOAuth:
    provider = PROVIDER

    def __init__(
        self, config: ChatGPTSubscriptionConfig, proxy: ProxySetting = DIRECT_CONNECTION
    ) -> None:
        self.endpoints = OAuthEndpoints.of(
            config,
            proxy,
            form_encoded=True,
            authorize_extra=AUTHORIZE_EXTRA,
            refresh_scope=config.refresh_scope,
        )

    def credential_data(self, tokens: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Tokens plus the account id and email read from the id token."""
        data = token_fields(tokens, now)
        id_token = tokens.get("id_token")
        if isinstance(id_token, str):
            data["id_token"] = id_token
            try:
                claims = jwt_claims(id_token)
            except NotAJwt:
                claims = {}
            auth = claims.get(ACCOUNT_CLAIM)
            if isinstance(auth, Mapping) and isinstance(auth.get("chatgpt_account_id"), str):
                data["account_id"] = auth["chatgpt_account_id"]
            if isinstance(auth, Mapping) and isinstance(auth.get("chatgpt_plan_type"), str):
                data["plan"] = auth["chatgpt_plan_type"]
            if isinstance(claims.get("email"), str):
                data["email"] = claims["email"]
        return data
