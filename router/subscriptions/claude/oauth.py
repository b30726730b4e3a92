"""Claude's OAuth client (Claude Code's) and what a credential file holds for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.config.proxy import DIRECT_CONNECTION, ProxySetting
from router.config.subscriptions import ClaudeSubscriptionConfig
from router.config.wire.claude import PROVIDER
from router.oauth.client import OAuthEndpoints
from router.subscriptions.tokens import token_fields


class ClaudeOAuth:
    provider = PROVIDER

    def __init__(
        self, config: ClaudeSubscriptionConfig, proxy: ProxySetting = DIRECT_CONNECTION
    ) -> None:
        self.endpoints = OAuthEndpoints.of(
            config,
            proxy,
            form_encoded=False,
            authorize_extra={"code": "true"},
            state_in_exchange=True,
        )

    def credential_data(self, tokens: Mapping[str, Any], now: float) -> dict[str, Any]:
        data = token_fields(tokens, now)
        account = tokens.get("account")
        if isinstance(account, Mapping) and isinstance(account.get("email_address"), str):
            data["email"] = account["email_address"]
        organization = tokens.get("organization")
        if isinstance(organization, Mapping) and isinstance(organization.get("name"), str):
            data["organization"] = organization["name"]
        return data
