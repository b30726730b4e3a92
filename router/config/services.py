"""Config sections of the services around the router: the webai and AI Studio sidecars
and Amp's own backend."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from router.config.binder import (
    Problems,
    check_port,
    check_positive,
    check_url,
    join,
    unique_names,
)
from router.config.proxy import check_proxy_url


@dataclass(frozen=True)
class WebAIConfig:
    """The optional gpt4free sidecar (providers/webai)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8406
    key: str = ""
    timeout: float = 60.0
    providers: tuple[str, ...] = ()
    cookies_dir: str = "auth/webai-cookies"
    models: dict[str, str] = field(
        default_factory=lambda: {"gpt-webai": "gpt-4o-mini", "gemini-webai": "gemini-2.5-flash"}
    )
    fallback_for: dict[str, str] = field(default_factory=dict)
    # The proxy g4f's providers go out through ("" inherits the top-level proxy-url;
    # providers/webai/main.py puts the one in force here).
    proxy_url: str = field(default="", repr=False)

    def check(self, path: str, problems: Problems) -> None:
        check_proxy_url(self.proxy_url, join(path, "proxy-url"), problems)
        check_port(self.port, join(path, "port"), problems)
        for pattern, model in self.fallback_for.items():
            where = join(join(path, "fallback-for"), pattern)
            if model not in self.models:
                problems.add(where, f"expected one of the webai models {sorted(self.models)}")
            if pattern.startswith("re:"):
                try:
                    re.compile(pattern[3:])
                except re.error as exc:
                    problems.add(where, f"invalid regular expression: {exc}")
        check_positive({"timeout": self.timeout}, path, problems)
        if self.enabled and not self.key:
            problems.add(join(path, "key"), "expected a shared secret when webai is enabled")
        if self.enabled:
            _check_sidecar_providers(self.providers, join(path, "providers"), problems)


@dataclass(frozen=True)
class AIStudioConfig:
    """The AI Studio browser service (providers/aistudio)."""

    enabled: bool = False
    relay_url: str = ""
    relay_key: str = ""
    session_name: str = "aistudio"
    chromium_path: str = "/usr/bin/chromium"
    headless: bool = True
    origin: str = "https://aistudio.google.com"
    api_base: str = "https://generativelanguage.googleapis.com"
    pages: int = 2
    queue_size: int = 16
    queue_timeout: float = 30.0
    storage_state: str = "aistudio-storage.json"
    control_port: int = 8407
    diagnostics_dir: str = "logs/aistudio"
    model_pattern: str = "gemini-*-aistudio"
    quota_cooldown: float = 60.0
    storage_refresh_interval: float = 300.0

    def check(self, path: str, problems: Problems) -> None:
        check_port(self.control_port, join(path, "control-port"), problems)
        if self.relay_url:
            check_url(self.relay_url, join(path, "relay-url"), problems, ("ws", "wss"))
        check_url(self.origin, join(path, "origin"), problems, ("http", "https"))
        check_url(self.api_base, join(path, "api-base"), problems, ("http", "https"))
        check_positive(
            {
                "pages": self.pages,
                "queue_size": self.queue_size,
                "queue_timeout": self.queue_timeout,
                "quota_cooldown": self.quota_cooldown,
                "storage_refresh_interval": self.storage_refresh_interval,
            },
            path,
            problems,
        )


@dataclass(frozen=True)
class AmpConfig:
    """Amp CLI's own backend (user, plugins, threads, telemetry), proxied by router/api/amp.py."""

    upstream_url: str = "https://ampcode.com"
    api_key: str = ""
    proxy_url: str = field(default="", repr=False)

    def check(self, path: str, problems: Problems) -> None:
        check_proxy_url(self.proxy_url, join(path, "proxy-url"), problems)
        check_url(self.upstream_url, join(path, "upstream-url"), problems, ("http", "https"))


def _check_sidecar_providers(names: tuple[str, ...], path: str, problems: Problems) -> None:
    """What the webai sidecar refuses at start: no provider, or one listed twice."""
    if not names:
        problems.add(path, "expected at least one g4f provider name when webai is enabled")
    unique_names([name.rpartition(":")[2] for name in names], path, problems)
