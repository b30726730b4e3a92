"""The optional gpt4free sidecar (providers/webai), reached like any OpenAI-compatible API.

It is a provider named ``webai`` built from the ``webai`` section rather than from
``providers``: its models are the keys of ``webai.models`` (the sidecar maps them to g4f
model names) and it may be the last fallback of other models (``webai.fallback-for``).
"""

from __future__ import annotations

from router.config.schema import (
    WEBAI_PROVIDER,
    Credential,
    ModelEntry,
    ProviderConfig,
    TimeoutOverrides,
    Timeouts,
    WebAIConfig,
)
from router.upstreams.openai import OpenAICompatibleUpstream
from router.upstreams.probe import probe_health

# Extra seconds the router waits beyond the sidecar's own generation timeout, so that the
# sidecar's clean 504 arrives before the router gives up.
_GRACE = 5.0


class WebAIUpstream(OpenAICompatibleUpstream):
    def __init__(self, webai: WebAIConfig, timeouts: Timeouts) -> None:
        host = f"[{webai.host}]" if ":" in webai.host else webai.host
        self.service_url = f"http://{host}:{webai.port}"
        config = ProviderConfig(
            name=WEBAI_PROVIDER,
            kind="webai",
            base_url=f"{self.service_url}/v1",
            api_keys=(Credential(key=webai.key, name="shared-key"),),
            models=tuple(ModelEntry(name=model) for model in webai.models),
            timeouts=TimeoutOverrides(
                first_byte=webai.timeout + _GRACE, idle=webai.timeout + _GRACE
            ),
        )
        super().__init__(config, timeouts)

    async def probe(self) -> dict[str, object]:
        """The sidecar's own /health, or why it could not be read."""
        return await probe_health(self.pool.session(), self.service_url)
