"""Gemini API with an API key (``x-goog-api-key``); streams are always asked as SSE."""

from __future__ import annotations

from urllib.parse import quote

from router.formats import Format
from router.upstreams.base import COUNT_TOKENS, UpstreamCall, UpstreamCredential
from router.upstreams.http import HttpUpstream


def gemini_model_url(base: str, model: str, call: UpstreamCall) -> str:
    """``{base}/v1beta/models/{model}:method`` for ``call``'s operation and stream mode."""
    if call.operation == COUNT_TOKENS:
        method = "countTokens"
    elif call.stream:
        method = "streamGenerateContent?alt=sse"
    else:
        method = "generateContent"
    return f"{base.rstrip('/')}/v1beta/models/{quote(model, safe='-._')}:{method}"


class GeminiUpstream(HttpUpstream):
    """``POST {base-url}/v1beta/models/{model}:generateContent`` and friends."""

    wire_format = Format.GEMINI
    counts_tokens = True

    def url(self, call: UpstreamCall) -> str:
        return gemini_model_url(self.config.base_url, call.model, call)

    def auth_headers(self, credential: UpstreamCredential) -> dict[str, str]:
        return {"x-goog-api-key": credential.secret}
