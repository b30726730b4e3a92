"""The one place the peers' versions are pinned.

Each is the newest release that installs from the public registries alone:
- claude-code-router 3.1.1 (newest) depends on ``@the-next-ai/ai-gateway`` and
  ``@the-next-ai/bot-gateway-sdk``, which the npm registry answers with 404; 2.0.0 bundles
  its dependencies.
- 9router's postinstall builds better-sqlite3 (its prebuilt binary comes from GitHub, out
  of reach here) under a 180 s limit a loaded 2-core machine misses, leaving a database
  driver that cannot start; ``runtime`` installs it again, without the limit, when missing.
- LiteLLM 1.110.x's ``[proxy]`` extra needs ``litellm-proxy`` (not on PyPI) and 1.107 to
  1.109 pin ``litellm-proxy-extras`` / ``litellm-enterprise`` post-releases PyPI does not
  serve; 1.106.12 is the newest whose ``[proxy]`` extra resolves.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pin:
    """A peer package: ``registry`` is "pypi" (own venv) or "npm" (own prefix);
    ``runtime`` an npm package the peer wants in its data folder's runtime/."""

    key: str
    title: str
    registry: str
    package: str
    version: str
    runtime: str = ""

    @property
    def spec(self) -> str:
        if self.registry == "pypi":
            return f"{self.package}=={self.version}"
        return f"{self.package}@{self.version}"

    @property
    def label(self) -> str:
        return f"{self.title} {self.version}"


CLAUDE_CODE_ROUTER = Pin(
    "claude-code-router", "claude-code-router", "npm", "@musistudio/claude-code-router", "2.0.0"
)
NINEROUTER = Pin("9router", "9router", "npm", "9router", "0.5.69", "better-sqlite3@12.6.2")
LITELLM = Pin("litellm", "LiteLLM proxy", "pypi", "litellm[proxy]", "1.106.12")

PINS = (CLAUDE_CODE_ROUTER, NINEROUTER, LITELLM)
