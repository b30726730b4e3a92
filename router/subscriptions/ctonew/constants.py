"""cto.new (EngineLabs) wire facts; each is the default of a ``subscriptions.ctonew`` key.

Unofficial and liable to change: keep every URL, header and version string here.
"""

PROVIDER = "ctonew"
UPSTREAM_NAME = "ctonew"

CLERK_URL = "https://clerk.cto.new"
CLERK_API_VERSION = "2025-04-10"
ORIGIN = "https://cto.new"
API_BASE = "https://api.enginelabs.ai"
WS_BASE = "wss://api.enginelabs.ai"

MODELS = {"ctonew-claude-sonnet": "ClaudeSonnet4_5", "ctonew-gpt-5": "GPT5"}
FALLBACK_FOR = {"claude-sonnet-*": "ctonew-claude-sonnet", "gpt-5*": "ctonew-gpt-5"}

# Seconds before a Clerk JWT's exp at which a new one is fetched.
TOKEN_MARGIN = 10.0
MAX_PROMPT_BYTES = 32 * 1024
WIRE_VERSION = "v1"
WIRE_VERSIONS = ("v1",)
