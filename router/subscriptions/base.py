"""What the OAuth subscription upstreams share: accounts from the credential store, fresh
tokens from the TokenKeeper, and one refresh-and-retry when the API answers 401.

A subclass says how a call becomes an HTTP request (``prepare``) and may rewrite the
reply (``finish``) through an answer transform of router/upstreams/transforms.py:
restoring tool names, assembling a stream into one answer.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

from router.config.proxy import DIRECT_CONNECTION, ProxySetting
from router.config.schema import ModelEntry, Timeouts
from router.credentials import CredentialStore, CredentialUnusable, StoredCredential, TokenKeeper
from router.errors import AttemptFailed, ErrorKind
from router.upstreams.base import UpstreamCall, UpstreamCredential, UpstreamReply
from router.upstreams.pool import PooledUpstream, UpstreamPool


@dataclass
class Prepared:
    """One HTTP request ready to send, and whatever ``finish`` needs to read its answer."""

    url: str
    headers: dict[str, str]
    body: bytes
    state: Any = None


class SubscriptionUpstream(PooledUpstream):
    """An upstream whose credentials are the logged-in accounts of one provider."""

    provider: ClassVar[str]
    quota_limited = True
    login_based = True
    models: tuple[ModelEntry, ...] = ()

    def __init__(
        self,
        name: str,
        timeouts: Timeouts,
        store: CredentialStore,
        keeper: TokenKeeper,
        *,
        proxy: ProxySetting = DIRECT_CONNECTION,
    ) -> None:
        self.name = name
        self.timeouts = timeouts
        self.store = store
        self.keeper = keeper
        self.pool = UpstreamPool(lambda: self.timeouts, proxy=proxy)

    @property
    def credentials(self) -> tuple[UpstreamCredential, ...]:
        return tuple(
            UpstreamCredential(name=c.id, secret="")
            for c in self.store.list(self.provider)
            if self.keeper.usable(c)
        )

    def accounts(self) -> list[dict[str, Any]]:
        return [self.keeper.state(c) for c in self.store.list(self.provider)]

    @property
    def unconfigured_reason(self) -> str | None:
        if self.credentials:
            return None
        if self.store.list(self.provider):
            return f"every {self.provider} account needs a new login: {self.keeper.login_hint}"
        return f"no {self.provider} account is logged in: {self.keeper.login_hint}"

    @abc.abstractmethod
    def prepare(self, call: UpstreamCall, credential: StoredCredential) -> Prepared:
        """The HTTP request for ``call`` sent with ``credential``'s token."""

    async def finish(
        self, call: UpstreamCall, reply: UpstreamReply, prepared: Prepared
    ) -> UpstreamReply:
        """Wrap the reply when its body needs work on the way back; default: as it is."""
        return reply

    async def open(self, call: UpstreamCall) -> UpstreamReply:
        credential = await self._access(call.credential.name)
        prepared = self.prepare(call, credential)
        reply = await self._send(prepared)
        if reply.status == 401:
            reply.close()
            credential = await self._access(call.credential.name, refresh=True)
            prepared = self.prepare(call, credential)
            reply = await self._send(prepared)
        try:
            return await self.finish(call, reply, prepared)
        except BaseException:
            reply.close()
            raise

    async def _access(self, credential_id: str, *, refresh: bool = False) -> StoredCredential:
        try:
            if refresh:
                return await self.keeper.refresh(credential_id)
            return await self.keeper.access(credential_id)
        except CredentialUnusable as exc:
            raise AttemptFailed(503, ErrorKind.OVERLOADED, exc.message, auth=True) from None

    async def _send(self, prepared: Prepared) -> UpstreamReply:
        return await self.pool.post(prepared.url, prepared.body, prepared.headers)
