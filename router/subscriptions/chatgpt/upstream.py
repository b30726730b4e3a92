"""ChatGPT Plus/Pro accounts: OpenAI Responses through the Codex backend.

The backend is always called streaming, with the account's OAuth token and account id
and the headers the Codex CLI sends; the body is normalised to what it accepts (see
``request.codex_body``). The answer is forwarded as a stream or assembled into one
response, with shortened tool names restored (see ``replies``).
"""

from __future__ import annotations

from router.config.proxy import DIRECT_CONNECTION, ProxySetting
from router.config.schema import Timeouts
from router.config.subscriptions import ChatGPTSubscriptionConfig
from router.config.wire.chatgpt import PROVIDER, UPSTREAM_NAME
from router.credentials import CredentialStore, StoredCredential, TokenKeeper
from router.errors import AttemptFailed, ErrorKind
from router.formats import Format
from router.formats.codec import dumps
from router.subscriptions.base import Prepared, SubscriptionUpstream
from router.subscriptions.chatgpt.replies import (
    CodexAssembly,
    CodexEvents,
    rate_limited_reply,
)
from router.subscriptions.chatgpt.request import codex_body, codex_headers, session_id_for
from router.subscriptions.chatgpt.toolnames import ToolNames
from router.upstreams.base import UpstreamCall, UpstreamReply
from router.upstreams.faults import MIB
from router.upstreams.transforms import TransformedStream, assembled


class ChatGPTSubscriptionUpstream(SubscriptionUpstream):
    """``POST {backend-url}/responses`` with an account's OAuth token and account id."""

    provider = PROVIDER
    kind = PROVIDER
    wire_format = Format.OPENAI_RESPONSES

    def __init__(
        self,
        config: ChatGPTSubscriptionConfig,
        timeouts: Timeouts,
        store: CredentialStore,
        keeper: TokenKeeper,
        name: str = UPSTREAM_NAME,
        *,
        answer_limit: int = 32 * MIB,
        proxy: ProxySetting = DIRECT_CONNECTION,
    ) -> None:
        super().__init__(name, timeouts, store, keeper, proxy=proxy)
        self.config = config
        self.answer_limit = answer_limit

    def prepare(self, call: UpstreamCall, credential: StoredCredential) -> Prepared:
        account_id = credential.data.get("account_id")
        if not isinstance(account_id, str) or not account_id:
            raise AttemptFailed(
                503,
                ErrorKind.OVERLOADED,
                f"{PROVIDER} credential {credential.id} has no account id; "
                f"{self.keeper.login_hint}",
                auth=True,
            )
        body, names = codex_body(call.body, self.config)
        headers = codex_headers(
            str(credential.data.get("access_token", "")),
            account_id,
            session_id_for(body),
            self.config,
        )
        headers.update(call.headers)  # what the client's own shape needs (Codex's Lite)
        url = self.config.backend_url.rstrip("/") + "/responses"
        return Prepared(url, headers, dumps(body).encode(), state=names)

    async def finish(
        self, call: UpstreamCall, reply: UpstreamReply, prepared: Prepared
    ) -> UpstreamReply:
        """A stream for a streaming client, one assembled response otherwise; a usage
        limit gains Retry-After; other errors pass as they are."""
        names: ToolNames = prepared.state
        if reply.status == 429:
            return await rate_limited_reply(reply, self.timeouts.idle)
        if reply.status != 200:
            return reply
        if call.stream:
            return TransformedStream(reply, CodexEvents(names))
        return await assembled(
            reply,
            CodexAssembly(names),
            idle=self.timeouts.idle,
            limit=self.answer_limit,
            upstream=self.name,
            wire_format=self.wire_format,
            awaited="response.completed",
        )
