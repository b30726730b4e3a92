"""The shape of config.yaml: one frozen dataclass per section.

config.example.yaml documents every key; keep the two in step (a test checks that the
example binds and names every field).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from router.config.binder import (
    Problems,
    check_port,
    check_positive,
    check_url,
    did_you_mean,
    join,
    unique_names,
)
from router.config.cache import ResponseCacheConfig, RouteCacheConfig
from router.config.event_loop import AUTO as AUTO_EVENT_LOOP
from router.config.event_loop import check_event_loop
from router.config.origins import check_cors_origins, check_public_hosts
from router.config.proxy import ProxySetting, check_proxy_url, effective_proxy
from router.config.rules import RuleConfig, StickyConfig, check_rule_names
from router.config.services import AIStudioConfig, AmpConfig, WebAIConfig
from router.config.subscriptions import ManagementConfig, SubscriptionsConfig
from router.config.usage import MetricsConfig, UsageConfig
from router.config.wire.chatgpt import UPSTREAM_NAME as CHATGPT_PROVIDER
from router.config.wire.claude import UPSTREAM_NAME as CLAUDE_PROVIDER
from router.config.wire.ctonew import UPSTREAM_NAME as CTONEW_PROVIDER
from router.config.workers import check_workers

LOG_LEVELS = ("debug", "info", "warning", "error")
STRATEGIES = ("round-robin", "fill-first")
PROVIDER_KINDS = ("openai", "openai-responses", "anthropic", "gemini")
WEBAI_PROVIDER = "webai"
AISTUDIO_PROVIDER = "aistudio"
RESERVED_PROVIDERS = (AISTUDIO_PROVIDER, CLAUDE_PROVIDER, CHATGPT_PROVIDER, CTONEW_PROVIDER)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def compile_model_pattern(pattern: str) -> re.Pattern[str]:
    """An exact name, a glob, or a regex prefixed with ``re:``."""
    if pattern.startswith("re:"):
        return re.compile(pattern[3:])
    return re.compile(fnmatch.translate(pattern))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ClientKey:
    """A key that clients present to the router; ``name`` identifies it in logs."""

    key: str
    name: str = ""

    @classmethod
    def from_shorthand(cls, value: Any) -> Any:
        return {"key": value} if isinstance(value, str) else value


@dataclass(frozen=True)
class Credential:
    """One upstream API key of a provider; ``weight`` is its share under round-robin."""

    key: str
    name: str = ""
    weight: int = 1

    @classmethod
    def from_shorthand(cls, value: Any) -> Any:
        return {"key": value} if isinstance(value, str) else value

    def check(self, path: str, problems: Problems) -> None:
        if self.weight < 1:
            problems.add(join(path, "weight"), f"expected an integer >= 1, got {self.weight}")


@dataclass(frozen=True)
class ModelEntry:
    """An upstream model a provider serves, and the names clients may use for it."""

    name: str
    aliases: tuple[str, ...] = ()

    @classmethod
    def from_shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed to connect, to the first body byte, and between body chunks."""

    connect: float = 10.0
    first_byte: float = 300.0
    idle: float = 120.0

    def check(self, path: str, problems: Problems) -> None:
        check_positive(vars(self), path, problems)


@dataclass(frozen=True)
class TimeoutOverrides:
    """Per-provider overrides of the top-level ``timeouts``; unset keys inherit."""

    connect: float | None = None
    first_byte: float | None = None
    idle: float | None = None

    def check(self, path: str, problems: Problems) -> None:
        check_positive(vars(self), path, problems)

    def over(self, base: Timeouts) -> Timeouts:
        return Timeouts(
            connect=self.connect or base.connect,
            first_byte=self.first_byte or base.first_byte,
            idle=self.idle or base.idle,
        )


@dataclass(frozen=True)
class ProviderConfig:
    """An upstream service and the credentials and models cliproxy may use there."""

    name: str
    base_url: str
    kind: str = "openai"
    enabled: bool = True
    api_keys: tuple[Credential, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    timeouts: TimeoutOverrides = field(default_factory=TimeoutOverrides)
    models: tuple[ModelEntry, ...] = ()
    # "merge": the conversation's system messages join one leading system message, for
    # OpenAI-compatible servers that accept no other (default "keep": in place).
    system_messages: str = "keep"
    # Outbound proxy for this provider (router/config/proxy.py); "" inherits the global one.
    proxy_url: str = field(default="", repr=False)

    def check(self, path: str, problems: Problems) -> None:
        check_proxy_url(self.proxy_url, join(path, "proxy-url"), problems)
        if self.system_messages not in ("keep", "merge"):
            problems.add(
                join(path, "system-messages"),
                f"expected 'keep' or 'merge', got {self.system_messages!r}",
            )
        if not _NAME.match(self.name):
            problems.add(
                join(path, "name"),
                f"expected letters, digits, '.', '_' or '-' (at most 64), got {self.name!r}",
            )
        if self.kind not in PROVIDER_KINDS:
            problems.add(join(path, "kind"), f"expected one of {', '.join(PROVIDER_KINDS)}")
        check_url(self.base_url, join(path, "base-url"), problems, ("http", "https"))
        unique_names([c.name for c in self.api_keys if c.name], join(path, "api-keys"), problems)
        names = [m.name for m in self.models] + [a for m in self.models for a in m.aliases]
        unique_names(names, join(path, "models"), problems)


@dataclass(frozen=True)
class RouteConfig:
    """Sends models matching ``model`` to ``providers``, tried in order.

    ``model`` is an exact name, a glob (``gpt-*``) or a regex prefixed with ``re:``.
    A provider entry may name one credential as ``provider/credential``. ``cache``: answer
    identical requests from memory (router/config/cache.py); None (the default) never does.
    """

    model: str
    providers: tuple[str, ...]
    cache: RouteCacheConfig | None = None

    def check(self, path: str, problems: Problems) -> None:
        if self.model.startswith("re:"):
            try:
                re.compile(self.model[3:])
            except re.error as exc:
                problems.add(join(path, "model"), f"invalid regular expression: {exc}")
        if not self.providers:
            problems.add(join(path, "providers"), "expected at least one provider name")

    def compiled(self) -> re.Pattern[str]:
        return compile_model_pattern(self.model)


@dataclass(frozen=True)
class CooldownConfig:
    """How long a failing credential rests for a model (seconds)."""

    initial: float = 1.0
    max: float = 300.0
    auth_failure: float = 1800.0
    # Rest after a quota answer (429, usage limit) that says nothing about when to return.
    quota: float = 60.0
    # The longest rest an upstream's Retry-After can ask for.
    retry_after_max: float = 3600.0

    def check(self, path: str, problems: Problems) -> None:
        check_positive(vars(self), path, problems)


@dataclass(frozen=True)
class RoutingConfig:
    """How candidates are ordered and how failures are retried."""

    strategy: str = "round-robin"
    max_retries: int = 2
    retry_backoff: float = 0.1
    retry_backoff_max: float = 2.0
    cooldown: CooldownConfig = field(default_factory=CooldownConfig)
    # A credential whose streams die mid-way this many times within the window (seconds)
    # cools down like one that failed before answering.
    mid_stream_failures: int = 3
    mid_stream_window: float = 300.0
    # Issue 15 (router/config/rules.py): rules tried before the model table, and sticky
    # sessions.
    rules: tuple[RuleConfig, ...] = ()
    sticky: StickyConfig = field(default_factory=StickyConfig)

    def check(self, path: str, problems: Problems) -> None:
        if self.strategy not in STRATEGIES:
            problems.add(join(path, "strategy"), f"expected one of {', '.join(STRATEGIES)}")
        if self.max_retries < 0:
            problems.add(join(path, "max-retries"), "expected an integer >= 0")
        if self.retry_backoff < 0 or self.retry_backoff_max < 0:
            problems.add(join(path, "retry-backoff"), "expected a number >= 0")
        if self.mid_stream_failures < 1:
            problems.add(join(path, "mid-stream-failures"), "expected an integer >= 1")
        check_positive({"mid_stream_window": self.mid_stream_window}, path, problems)
        check_rule_names(self.rules, join(path, "rules"), problems)


@dataclass(frozen=True)
class StreamingConfig:
    """Keep-alive comments for long silent upstream streams (seconds)."""

    keepalive_interval: float = 15.0

    def check(self, path: str, problems: Problems) -> None:
        check_positive(vars(self), path, problems)


@dataclass(frozen=True)
class TranslationConfig:
    """What happens to a request field the target format cannot express.

    ``strict`` False (the default): hints, bookkeeping and unknown fields are dropped and
    named (``dropped=`` on the log line, ``X-Cliproxy-Dropped`` on the answer); True: they
    are a 400 naming the field. Fields whose loss would make the answer wrong are a 400
    either way.
    """

    strict: bool = False


@dataclass(frozen=True)
class ServerConfig:
    """How the router treats client connections and what it accepts in a request body.

    Timeouts are seconds: the whole header block of a request must arrive within
    ``header_timeout``, its whole body within ``body_timeout``, and an idle keep-alive
    connection is closed after ``keepalive_timeout``. ``max_json_depth`` bounds how deeply
    arrays and objects may nest in a JSON body. ``event_loop``: router/config/event_loop.py.
    """

    header_timeout: float = 20.0
    body_timeout: float = 120.0
    keepalive_timeout: float = 75.0
    max_json_depth: int = 128
    event_loop: str = AUTO_EVENT_LOOP

    def check(self, path: str, problems: Problems) -> None:
        limits = {key: value for key, value in vars(self).items() if key != "event_loop"}
        check_positive(limits, path, problems)
        check_event_loop(self.event_loop, join(path, "event-loop"), problems)


@dataclass(frozen=True)
class Config:
    """The whole of config.yaml."""

    host: str = "127.0.0.1"
    port: int = 8317
    log_level: str = "info"
    api_keys: tuple[ClientKey, ...] = ()
    body_limit_mb: float = 32.0
    # Largest non-streamed upstream answer read, in MiB (larger ones are a 502).
    answer_limit_mb: float = 32.0
    auth_dir: str = "~/.cliproxy/auth"
    timeouts: Timeouts = field(default_factory=Timeouts)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    streaming: StreamingConfig = field(default_factory=StreamingConfig)
    translation: TranslationConfig = field(default_factory=TranslationConfig)
    providers: tuple[ProviderConfig, ...] = ()
    routes: tuple[RouteConfig, ...] = ()
    webai: WebAIConfig = field(default_factory=WebAIConfig)
    aistudio: AIStudioConfig = field(default_factory=AIStudioConfig)
    subscriptions: SubscriptionsConfig = field(default_factory=SubscriptionsConfig)
    management: ManagementConfig = field(default_factory=ManagementConfig)
    # Request-origin policy (router/security/): Host names served besides loopback and
    # `host`, and the web origins whose pages may call the router.
    public_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    server: ServerConfig = field(default_factory=ServerConfig)
    # Issue 14: Prometheus metrics and the usage ledger (router/config/usage.py).
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    usage: UsageConfig = field(default_factory=UsageConfig)
    amp: AmpConfig = field(default_factory=AmpConfig)
    # Router processes serving the port (router/workers/): auto is one per core.
    workers: str = "auto"
    # Outbound proxy for everything that leaves the router (router/config/proxy.py); a
    # provider, subscription or amp section may set its own or "direct". no-proxy: the
    # hosts reached directly (NO_PROXY's syntax; the loader adds NO_PROXY itself).
    proxy_url: str = field(default="", repr=False)
    no_proxy: str = ""
    # Issue 15: the memory all routes' cached answers may take (router/config/cache.py).
    response_cache: ResponseCacheConfig = field(default_factory=ResponseCacheConfig)

    def check(self, path: str, problems: Problems) -> None:
        check_port(self.port, "port", problems)
        check_workers(self.workers, problems)
        check_proxy_url(self.proxy_url, "proxy-url", problems)
        check_public_hosts(self.public_hosts, problems)
        check_cors_origins(self.cors_origins, problems)
        if self.log_level not in LOG_LEVELS:
            problems.add("log-level", f"expected one of {', '.join(LOG_LEVELS)}")
        check_positive({"body_limit_mb": self.body_limit_mb}, path, problems)
        check_positive({"answer_limit_mb": self.answer_limit_mb}, path, problems)
        if not is_loopback(self.host) and not any(k.key for k in self.api_keys):
            problems.add(
                "host",
                f"refusing to serve {self.host!r} without api-keys: with no api-keys "
                "cliproxy serves loopback only, issued keys (cliproxy keys create) or not, "
                "since revoking the last issued key would open it to anyone. Set host: "
                "127.0.0.1, or add one api-keys entry (for yourself) and issue keys to others",
            )
        unique_names([p.name for p in self.providers], "providers", problems)
        if self.webai.enabled and self.provider(WEBAI_PROVIDER):
            problems.add("providers", f"the name {WEBAI_PROVIDER!r} is taken by webai.enabled")
        for reserved in RESERVED_PROVIDERS:
            if self.provider(reserved):
                problems.add("providers", f"the name {reserved!r} is reserved for a built-in")
        unique_names([k.name for k in self.api_keys if k.name], "api-keys", problems)
        known = {p.name: {c.name for c in p.api_keys} for p in self.providers}
        known.update({name: set() for name in self.builtin_providers()})
        for i, route in enumerate(self.routes):
            for j, target in enumerate(route.providers):
                where = join(join(join("routes", i), "providers"), j)
                provider, _, credential = target.partition("/")
                if provider not in known:
                    problems.add(
                        where, f"unknown provider {provider!r}{did_you_mean(provider, known)}"
                    )
                elif credential and provider in self.builtin_providers():
                    continue
                elif credential and credential not in known[provider]:
                    problems.add(
                        where, f"provider {provider!r} has no api key named {credential!r}"
                    )

    def builtin_providers(self) -> list[str]:
        """Provider names routes may use besides ``providers``: sidecars and subscriptions."""
        names = [AISTUDIO_PROVIDER]
        if self.webai.enabled:
            names.append(WEBAI_PROVIDER)
        subscriptions = self.subscriptions
        for name, section in (
            (CLAUDE_PROVIDER, subscriptions.claude),
            (CHATGPT_PROVIDER, subscriptions.chatgpt),
            (CTONEW_PROVIDER, subscriptions.ctonew),
        ):
            if section.enabled:
                names.append(name)
        return names

    def proxy_for(self, own: str) -> ProxySetting:
        """The outbound proxy for a section whose own ``proxy-url`` is ``own``."""
        return ProxySetting(effective_proxy(own, self.proxy_url), self.no_proxy)

    def provider(self, name: str) -> ProviderConfig | None:
        return next((p for p in self.providers if p.name == name), None)
