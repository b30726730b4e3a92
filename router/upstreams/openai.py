"""OpenAI-compatible Chat Completions upstreams (OpenAI, OpenRouter, vLLM, Ollama, ...)."""

from __future__ import annotations

from router.upstreams.base import UpstreamCall, UpstreamCredential
from router.upstreams.http import HttpUpstream


class OpenAICompatibleUpstream(HttpUpstream):
    """``POST {base-url}/chat/completions`` with ``Authorization: Bearer``."""

    wire_format = "openai-chat"

    def url(self, call: UpstreamCall) -> str:
        return self.config.base_url.rstrip("/") + "/chat/completions"

    def auth_headers(self, credential: UpstreamCredential) -> dict[str, str]:
        return {"Authorization": f"Bearer {credential.secret}"}
