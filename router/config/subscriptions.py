"""Config sections for subscription accounts and the management API.

Every default comes from the provider's constants module, so a drifting upstream fact is
changed in one place, and every value can be overridden in config.yaml (tests point them
at local fakes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from router.config.binder import Problems, check_url, join
from router.config.proxy import check_proxy_url
from router.config.secret import ManagementSecret
from router.config.wire import chatgpt, claude, ctonew

_URL_FIELDS = ("authorize_url", "token_url", "redirect_uri")


def _check_urls(
    values: dict[str, str], path: str, problems: Problems, schemes: tuple[str, ...]
) -> None:
    for key, url in values.items():
        check_url(url, join(path, key.replace("_", "-")), problems, schemes)


def _check_patterns(patterns: tuple[str, ...] | list[str], path: str, problems: Problems) -> None:
    for i, pattern in enumerate(patterns):
        if pattern.startswith("re:"):
            try:
                re.compile(pattern[3:])
            except re.error as exc:
                problems.add(join(path, i), f"invalid regular expression: {exc}")


@dataclass(frozen=True)
class OAuthSubscription:
    """What the Claude and ChatGPT sections share: login endpoints and refresh policy.

    ``api_urls``: the section's own URL keys, checked like the login endpoints.
    """

    api_urls: ClassVar[tuple[str, ...]] = ()
    enabled: bool = True
    models: tuple[str, ...] = ()
    authorize_url: str = ""
    token_url: str = ""
    client_id: str = ""
    scopes: str = ""
    redirect_uri: str = ""
    # Seconds before expiry at which the background refresher renews a token.
    refresh_ahead: float = 4 * 3600.0
    # Seconds between background checks for tokens due for refresh.
    refresh_check_interval: float = 60.0
    # Outbound proxy for this subscription's API, logins and token refreshes ("" inherits
    # the global proxy-url).
    proxy_url: str = field(default="", repr=False)

    def check(self, path: str, problems: Problems) -> None:
        check_proxy_url(self.proxy_url, join(path, "proxy-url"), problems)
        urls = {k: getattr(self, k) for k in _URL_FIELDS + self.api_urls}
        _check_urls(urls, path, problems, ("http", "https"))
        _check_patterns(self.models, join(path, "models"), problems)
        if not self.client_id:
            problems.add(join(path, "client-id"), "expected the OAuth client id")
        for key in ("refresh_ahead", "refresh_check_interval"):
            if getattr(self, key) <= 0:
                problems.add(join(path, key.replace("_", "-")), "expected a number > 0")


@dataclass(frozen=True)
class ClaudeSubscriptionConfig(OAuthSubscription):
    """Claude Pro/Max via Claude Code's OAuth login."""

    api_urls = ("api_base",)

    models: tuple[str, ...] = claude.MODELS
    authorize_url: str = claude.AUTHORIZE_URL
    token_url: str = claude.TOKEN_URL
    client_id: str = claude.CLIENT_ID
    scopes: str = claude.SCOPES
    redirect_uri: str = claude.REDIRECT_URI
    api_base: str = claude.API_BASE
    anthropic_version: str = claude.ANTHROPIC_VERSION
    betas: tuple[str, ...] = claude.BETAS
    system_prompt: str = claude.SYSTEM_PROMPT
    tool_prefix: str = claude.TOOL_PREFIX


@dataclass(frozen=True)
class ChatGPTSubscriptionConfig(OAuthSubscription):
    """ChatGPT Plus/Pro via the Codex CLI's OAuth login and backend."""

    api_urls = ("backend_url",)

    models: tuple[str, ...] = chatgpt.MODELS
    authorize_url: str = chatgpt.AUTHORIZE_URL
    token_url: str = chatgpt.TOKEN_URL
    client_id: str = chatgpt.CLIENT_ID
    scopes: str = chatgpt.SCOPES
    refresh_scope: str = chatgpt.REFRESH_SCOPE
    redirect_uri: str = chatgpt.REDIRECT_URI
    backend_url: str = chatgpt.BACKEND_URL
    originator: str = chatgpt.ORIGINATOR
    openai_beta: str = chatgpt.OPENAI_BETA
    default_instructions: str = chatgpt.DEFAULT_INSTRUCTIONS
    drop_params: tuple[str, ...] = chatgpt.DROP_PARAMS


@dataclass(frozen=True)
class CtoNewConfig:
    """cto.new (EngineLabs) through a stored Clerk session cookie."""

    enabled: bool = True
    clerk_url: str = ctonew.CLERK_URL
    clerk_api_version: str = ctonew.CLERK_API_VERSION
    origin: str = ctonew.ORIGIN
    api_base: str = ctonew.API_BASE
    ws_base: str = ctonew.WS_BASE
    # Model names clients use -> EngineLabs adapter names.
    models: dict[str, str] = field(default_factory=lambda: dict(ctonew.MODELS))
    # Model pattern -> one of ``models``: cto.new is tried after everything else for these.
    fallback_for: dict[str, str] = field(default_factory=lambda: dict(ctonew.FALLBACK_FOR))
    token_margin: float = ctonew.TOKEN_MARGIN
    max_prompt_bytes: int = ctonew.MAX_PROMPT_BYTES
    wire_version: str = ctonew.WIRE_VERSION
    proxy_url: str = field(default="", repr=False)

    def check(self, path: str, problems: Problems) -> None:
        check_proxy_url(self.proxy_url, join(path, "proxy-url"), problems)
        _check_urls(
            {"clerk_url": self.clerk_url, "origin": self.origin, "api_base": self.api_base},
            path,
            problems,
            ("http", "https"),
        )
        _check_urls({"ws_base": self.ws_base}, path, problems, ("ws", "wss"))
        for pattern, model in self.fallback_for.items():
            where = join(join(path, "fallback-for"), pattern)
            if model not in self.models:
                problems.add(where, f"expected one of the ctonew models {sorted(self.models)}")
            _check_patterns([pattern], where, problems)
        if self.wire_version not in ctonew.WIRE_VERSIONS:
            problems.add(
                join(path, "wire-version"), f"expected one of {', '.join(ctonew.WIRE_VERSIONS)}"
            )
        for key in ("token_margin", "max_prompt_bytes"):
            if getattr(self, key) <= 0:
                problems.add(join(path, key.replace("_", "-")), "expected a number > 0")


@dataclass(frozen=True)
class SubscriptionsConfig:
    """The subscription providers; each is on by default and idle until logged in."""

    claude: ClaudeSubscriptionConfig = field(default_factory=ClaudeSubscriptionConfig)
    chatgpt: ChatGPTSubscriptionConfig = field(default_factory=ChatGPTSubscriptionConfig)
    ctonew: CtoNewConfig = field(default_factory=CtoNewConfig)


@dataclass(frozen=True)
class ManagementConfig:
    """Who may use /v1/auth/* and /v1/management/*.

    ``secret`` is the plain secret (hashed in memory at load, then forgotten) or a hash
    from ``python -m router hash-secret``. Without one, management answers loopback only.
    """

    secret: str = field(default="", repr=False)
    allow_remote: bool = False
    max_failures: int = 5
    lockout: float = 1800.0
    max_delay: float = 10.0

    def check(self, path: str, problems: Problems) -> None:
        if not ManagementSecret.well_formed(self.secret):
            problems.add(
                join(path, "secret"),
                "expected a plain secret or a hash from `python -m router hash-secret`",
            )
        if self.allow_remote and not self.secret:
            problems.add(join(path, "allow-remote"), "expected management.secret to be set as well")
        if self.max_failures < 1:
            problems.add(join(path, "max-failures"), "expected an integer >= 1")
        if self.lockout <= 0:
            problems.add(join(path, "lockout"), "expected a number > 0")
        if not 0 <= self.max_delay <= 600:
            problems.add(join(path, "max-delay"), "expected a number of seconds from 0 to 600")
