"""Provider kind (config ``kind``) to the class that talks to it."""

from __future__ import annotations

from router.config.proxy import DIRECT_CONNECTION, ProxySetting
from router.config.schema import ProviderConfig, Timeouts
from router.upstreams.anthropic import AnthropicUpstream
from router.upstreams.base import Upstream
from router.upstreams.gemini import GeminiUpstream
from router.upstreams.http import HttpUpstream
from router.upstreams.openai import OpenAICompatibleUpstream, OpenAIResponsesUpstream

UPSTREAM_KINDS: dict[str, type[HttpUpstream]] = {
    "openai": OpenAICompatibleUpstream,
    "openai-responses": OpenAIResponsesUpstream,
    "anthropic": AnthropicUpstream,
    "gemini": GeminiUpstream,
}


def build_upstream(
    config: ProviderConfig,
    timeouts: Timeouts,
    unset_env: tuple[str, ...],
    proxy: ProxySetting = DIRECT_CONNECTION,
) -> Upstream:
    return UPSTREAM_KINDS[config.kind](config, timeouts, unset_env, proxy)
