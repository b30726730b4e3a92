"""Claude Pro/Max accounts: Anthropic Messages sent the way Claude Code sends them.

Every request carries the account's OAuth token as ``Authorization: Bearer``, the
configured betas merged with the client's, the Claude Code system block first, and client
tool names prefixed; answers come back with the client's tool names restored.
"""

from __future__ import annotations

from router.config.proxy import DIRECT_CONNECTION, ProxySetting
from router.config.schema import Timeouts
from router.config.subscriptions import ClaudeSubscriptionConfig
from router.config.wire.claude import PROVIDER, UPSTREAM_NAME
from router.credentials import CredentialStore, StoredCredential, TokenKeeper
from router.formats import Format
from router.subscriptions.base import Prepared, SubscriptionUpstream
from router.subscriptions.claude.request import merge_betas, rewrite_body
from router.subscriptions.claude.restore import RestoredMessageReply, RestoredStreamReply
from router.subscriptions.claude.toolnames import ToolNameMap
from router.upstreams.base import COUNT_TOKENS, UpstreamCall, UpstreamReply


class ClaudeSubscriptionUpstream(SubscriptionUpstream):
    """``POST {api-base}/v1/messages`` (and ``/count_tokens``) with an account's OAuth token."""

    provider = PROVIDER
    kind = PROVIDER
    wire_format = Format.ANTHROPIC
    counts_tokens = True

    def __init__(
        self,
        config: ClaudeSubscriptionConfig,
        timeouts: Timeouts,
        store: CredentialStore,
        keeper: TokenKeeper,
        name: str = UPSTREAM_NAME,
        *,
        proxy: ProxySetting = DIRECT_CONNECTION,
    ) -> None:
        super().__init__(name, timeouts, store, keeper, proxy=proxy)
        self.config = config

    def prepare(self, call: UpstreamCall, credential: StoredCredential) -> Prepared:
        config = self.config
        body, names = rewrite_body(call.body, config.system_prompt, config.tool_prefix)
        headers = {
            "Content-Type": "application/json",
            "X-Request-Id": call.request_id,
            "Authorization": f"Bearer {credential.data.get('access_token', '')}",
            "anthropic-version": config.anthropic_version,
            "anthropic-beta": merge_betas(config.betas, call.headers),
        }
        if call.stream:
            headers["Accept"] = "text/event-stream"
        path = "/v1/messages/count_tokens" if call.operation == COUNT_TOKENS else "/v1/messages"
        return Prepared(config.api_base.rstrip("/") + path, headers, body, state=names)

    async def finish(
        self, call: UpstreamCall, reply: UpstreamReply, prepared: Prepared
    ) -> UpstreamReply:
        """Answers naming tools get their names restored; errors and the rest pass as they are."""
        names: ToolNameMap = prepared.state
        if reply.status != 200 or call.operation == COUNT_TOKENS or not names.renames:
            return reply
        if "text/event-stream" in reply.headers.get("Content-Type", ""):
            return RestoredStreamReply(reply, names)
        return RestoredMessageReply(reply, names)
