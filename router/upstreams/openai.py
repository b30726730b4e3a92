"""OpenAI-compatible upstreams: Chat Completions (OpenAI, OpenRouter, vLLM, Ollama, ...)
and the Responses API."""

from __future__ import annotations

from router.formats import Format
from router.upstreams.base import UpstreamCall, UpstreamCredential
from router.upstreams.http import HttpUpstream


class OpenAICompatibleUpstream(HttpUpstream):
    """``POST {base-url}/chat/completions`` with ``Authorization: Bearer``."""

    wire_format = Format.OPENAI_CHAT

    def url(self, call: UpstreamCall) -> str:
        return self.config.base_url.rstrip("/") + "/chat/completions"

    def auth_headers(self, credential: UpstreamCredential) -> dict[str, str]:
        return {"Authorization": f"Bearer {credential.secret}"}


class OpenAIResponsesUpstream(OpenAICompatibleUpstream):
    """``POST {base-url}/responses`` (OpenAI Responses API)."""

    wire_format = Format.OPENAI_RESPONSES

    def url(self, call: UpstreamCall) -> str:
        return self.config.base_url.rstrip("/") + "/responses"
