"""Claude subscription wire facts; each is the default of a ``subscriptions.claude`` key."""

PROVIDER = "claude"
UPSTREAM_NAME = "llmux-claude"

AUTHORIZE_URL = "https://claude.ai/oauth/authorize"
TOKEN_URL = "https://console.anthropic.com/v1/oauth/token"
CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
SCOPES = "org:create_api_key user:profile user:inference"
REDIRECT_URI = "http://localhost:54545/callback"

API_BASE = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
BETAS = (
    "oauth-2025-04-20",
    "claude-code-20250219",
    "interleaved-thinking-2025-05-14",
    "fine-grained-tool-streaming-2025-05-14",
)
SYSTEM_PROMPT = "You are Claude Code, Anthropic's official CLI for Claude."
TOOL_PREFIX = "proxy_"

MODELS = ("claude-*",)
