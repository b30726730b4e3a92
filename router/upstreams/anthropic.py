"""Anthropic Messages API with an API key (``x-api-key``)."""

from __future__ import annotations

from router.formats import Format
from router.upstreams.base import COUNT_TOKENS, UpstreamCall, UpstreamCredential
from router.upstreams.http import HttpUpstream

ANTHROPIC_VERSION = "2023-06-01"


class AnthropicUpstream(HttpUpstream):
    """``POST {base-url}/v1/messages`` and ``/v1/messages/count_tokens``.

    The client's ``anthropic-beta`` (and ``anthropic-version``) arrive in the call's
    headers and pass through.
    """

    wire_format = Format.ANTHROPIC
    counts_tokens = True

    def url(self, call: UpstreamCall) -> str:
        path = "/v1/messages/count_tokens" if call.operation == COUNT_TOKENS else "/v1/messages"
        return self.config.base_url.rstrip("/") + path

    def default_headers(self) -> dict[str, str]:
        return {"anthropic-version": ANTHROPIC_VERSION}

    def auth_headers(self, credential: UpstreamCredential) -> dict[str, str]:
        return {"x-api-key": credential.secret}
