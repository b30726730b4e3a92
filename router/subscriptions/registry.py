"""The subscription providers of one config: their upstreams, token keepers and routes.

Claude and ChatGPT serve the model patterns in their config section for models no
provider lists by name; cto.new serves its own model names and is appended as the last
fallback of its ``fallback-for`` patterns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from router.config.schema import Config
from router.config.subscriptions import OAuthSubscription
from router.config.wire.ctonew import PROVIDER as CTONEW
from router.credentials import CredentialStore, StoredCredential, TokenKeeper
from router.oauth.client import refresh_tokens
from router.oauth.login import OAuthProvider
from router.subscriptions.base import SubscriptionUpstream
from router.subscriptions.chatgpt.oauth import ChatGPTOAuth
from router.subscriptions.chatgpt.upstream import ChatGPTSubscriptionUpstream
from router.subscriptions.claude.oauth import ClaudeOAuth
from router.subscriptions.claude.upstream import ClaudeSubscriptionUpstream
from router.subscriptions.ctonew.upstream import CtoNewUpstream
from router.upstreams.base import Upstream
from router.upstreams.faults import MIB


def login_hint(provider: str) -> str:
    return (
        f"log in with ./scripts/login.sh {provider} "
        f"(or open GET /v1/auth/llmux/{provider}/login on the router)"
    )


def oauth_refresher(
    oauth: OAuthProvider,
) -> Callable[[StoredCredential], Awaitable[Mapping[str, Any]]]:
    """The TokenKeeper refresher for ``oauth``: a refresh grant, as credential fields."""

    async def refresh(credential: StoredCredential) -> Mapping[str, Any]:
        tokens = await refresh_tokens(oauth.endpoints, str(credential.data["refresh_token"]))
        return oauth.credential_data(tokens, time.time())

    return refresh


class Subscriptions:
    def __init__(self, config: Config, store: CredentialStore) -> None:
        self.store = store
        self.oauth: dict[str, OAuthProvider] = {}
        self.keepers: dict[str, TokenKeeper] = {}
        self.upstreams: list[Upstream] = []
        self.by_provider: dict[str, Upstream] = {}
        self.patterns: list[tuple[str, Upstream]] = []
        self.fallbacks: list[tuple[str, Upstream, str]] = []
        sections = config.subscriptions
        if sections.claude.enabled:
            proxy = config.proxy_for(sections.claude.proxy_url)
            oauth: OAuthProvider = ClaudeOAuth(sections.claude, proxy)
            keeper = self._keeper(oauth, sections.claude)
            self._add(
                ClaudeSubscriptionUpstream(
                    sections.claude, config.timeouts, store, keeper, proxy=proxy
                ),
                sections.claude.models,
            )
        if sections.chatgpt.enabled:
            proxy = config.proxy_for(sections.chatgpt.proxy_url)
            oauth = ChatGPTOAuth(sections.chatgpt, proxy)
            keeper = self._keeper(oauth, sections.chatgpt)
            self._add(
                ChatGPTSubscriptionUpstream(
                    sections.chatgpt,
                    config.timeouts,
                    store,
                    keeper,
                    answer_limit=int(config.answer_limit_mb * MIB),
                    proxy=proxy,
                ),
                sections.chatgpt.models,
            )
        if sections.ctonew.enabled:
            ctonew = CtoNewUpstream(
                sections.ctonew,
                config.timeouts,
                store,
                proxy=config.proxy_for(sections.ctonew.proxy_url),
            )
            self.upstreams.append(ctonew)
            self.by_provider[CTONEW] = ctonew
            self.fallbacks += [(p, ctonew, m) for p, m in sections.ctonew.fallback_for.items()]

    def _keeper(self, oauth: OAuthProvider, section: OAuthSubscription) -> TokenKeeper:
        keeper = TokenKeeper(
            self.store,
            oauth.provider,
            oauth_refresher(oauth),
            refresh_ahead=section.refresh_ahead,
            check_interval=section.refresh_check_interval,
            login_hint=login_hint(oauth.provider),
        )
        self.oauth[oauth.provider] = oauth
        self.keepers[oauth.provider] = keeper
        return keeper

    def _add(self, upstream: SubscriptionUpstream, patterns: tuple[str, ...]) -> None:
        self.upstreams.append(upstream)
        self.by_provider[upstream.provider] = upstream
        self.patterns += [(p, upstream) for p in patterns]

    async def refresh_forever(self) -> None:
        """Every keeper's background refresh loop; runs until cancelled."""
        await asyncio.gather(*(keeper.run() for keeper in self.keepers.values()))
