"""HTTP upstreams: one pooled aiohttp ClientSession per provider, reused across requests."""

from __future__ import annotations

import abc
from typing import Protocol

import aiohttp

from router.config.schema import ProviderConfig, Timeouts
from router.upstreams.base import Upstream, UpstreamCall, UpstreamCredential, UpstreamReply

_CONNECTION_LIMIT = 512


class CountsReplies(Protocol):
    """An upstream that counts its open replies in ``_active``."""

    _active: int


def pooled_session(timeouts: Timeouts) -> aiohttp.ClientSession:
    """A keep-alive connection pool for one upstream."""
    connector = aiohttp.TCPConnector(limit=_CONNECTION_LIMIT, ttl_dns_cache=300)
    timeout = aiohttp.ClientTimeout(
        total=None, connect=timeouts.connect, sock_connect=timeouts.connect
    )
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, skip_auto_headers=("User-Agent",)
    )


class HttpReply(UpstreamReply):
    """Wraps an aiohttp response; counts itself out of its upstream exactly once."""

    __slots__ = ("_closed", "_owner", "_response", "headers", "status")

    def __init__(self, owner: CountsReplies, response: aiohttp.ClientResponse) -> None:
        self._owner = owner
        self._response = response
        self._closed = False
        self.status = response.status
        self.headers = response.headers

    async def next_chunk(self) -> bytes:
        return await self._response.content.readany()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._owner._active -= 1
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


class HttpUpstream(Upstream):
    """Base for upstreams reached over HTTP; subclasses say where and how to authenticate."""

    def __init__(self, config: ProviderConfig, timeouts: Timeouts, unset_env: tuple[str, ...] = ()):
        """``unset_env``: environment variables this provider's api-keys refer to but lack."""
        self.name = config.name
        self.kind = config.kind
        self.config = config
        self.merge_system = config.system_messages == "merge"
        self.models = config.models
        self.timeouts = config.timeouts.over(timeouts)
        self.credentials = tuple(
            UpstreamCredential(name=c.name or f"key{i + 1}", secret=c.key)
            for i, c in enumerate(config.api_keys)
            if c.key
        )
        self.unconfigured_reason = _unconfigured_reason(self.credentials, unset_env)
        self._active = 0
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = pooled_session(self.timeouts)
        return self._session

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
        response = await self.session().post(self.url(call), data=call.body, headers=headers)
        self._active += 1
        return HttpReply(self, response)

    def active_requests(self) -> int:
        return self._active

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _unconfigured_reason(
    credentials: tuple[UpstreamCredential, ...], unset_env: tuple[str, ...]
) -> str | None:
    if credentials:
        return None
    if unset_env:
        return f"no api key: environment variable {', '.join(unset_env)} is not set"
    return "no api key configured (add api-keys to this provider in config.yaml)"
