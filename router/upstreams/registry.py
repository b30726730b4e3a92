"""Provider kind (config ``kind``) to the class that talks to it."""

from __future__ import annotations

from router.config.schema import ProviderConfig, Timeouts
from router.upstreams.base import Upstream
from router.upstreams.openai import OpenAICompatibleUpstream

UPSTREAM_KINDS: dict[str, type[OpenAICompatibleUpstream]] = {
    "openai": OpenAICompatibleUpstream,
}


def build_upstream(
    config: ProviderConfig, timeouts: Timeouts, unset_env: tuple[str, ...]
) -> Upstream:
    return UPSTREAM_KINDS[config.kind](config, timeouts, unset_env)
