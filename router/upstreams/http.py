"""HTTP upstreams reached with an API key: where a call goes and how it is authenticated."""

from __future__ import annotations

import abc

from router.config.proxy import DIRECT_CONNECTION, ProxySetting
from router.config.schema import ProviderConfig, Timeouts
from router.upstreams.base import UpstreamCall, UpstreamCredential, UpstreamReply
from router.upstreams.pool import PooledUpstream, UpstreamPool


class HttpUpstream(PooledUpstream):
    """Base for upstreams reached over HTTP; subclasses say where and how to authenticate."""

    credentials: tuple[UpstreamCredential, ...] = ()
    unconfigured_reason: str | None = None

    def __init__(
        self,
        config: ProviderConfig,
        timeouts: Timeouts,
        unset_env: tuple[str, ...] = (),
        proxy: ProxySetting = DIRECT_CONNECTION,
    ):
        """``unset_env``: environment variables this provider's api-keys refer to but lack;
        ``proxy``: the outbound proxy that applies to it (config.Config.proxy_for)."""
        self.name = config.name
        self.kind = config.kind
        self.config = config
        self.merge_system = config.system_messages == "merge"
        self.models = config.models
        self.timeouts = config.timeouts.over(timeouts)
        self.credentials = tuple(
            UpstreamCredential(name=c.name or f"key{i + 1}", secret=c.key, weight=c.weight)
            for i, c in enumerate(config.api_keys)
            if c.key
        )
        self.unconfigured_reason = _unconfigured_reason(self.credentials, unset_env)
        self.pool = UpstreamPool(lambda: self.timeouts, proxy=proxy, lean=True)

    @abc.abstractmethod
    def url(self, call: UpstreamCall) -> str:
        """Where ``call`` goes."""

    def default_headers(self) -> dict[str, str]:
        """Headers the API needs on every request; config ``headers`` may override them."""
        return {}

    @abc.abstractmethod
    def auth_headers(self, credential: UpstreamCredential) -> dict[str, str]:
        """Headers that carry the credential."""

    async def open(self, call: UpstreamCall) -> UpstreamReply:
        headers = {
            "Content-Type": "application/json",
            "X-Request-Id": call.request_id,
            **self.default_headers(),
            **self.config.headers,
            **call.headers,
        }
        headers.update(self.auth_headers(call.credential))
        if call.stream:
            headers["Accept"] = "text/event-stream"
        return await self.pool.post(self.url(call), call.body, headers)


def _unconfigured_reason(
    credentials: tuple[UpstreamCredential, ...], unset_env: tuple[str, ...]
) -> str | None:
    if credentials:
        return None
    if unset_env:
        return f"no api key: environment variable {', '.join(unset_env)} is not set"
    return "no api key configured (add api-keys to this provider in config.yaml)"
