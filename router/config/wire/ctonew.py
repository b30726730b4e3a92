"""cto.new (EngineLabs) wire facts; each is the default of a ``subscriptions.ctonew`` key.

The API is unofficial and reverse-engineered by public bridges, so every URL, header and
version string lives here and nowhere else.
"""

PROVIDER = "ctonew"
UPSTREAM_NAME = "ctonew"

# Clerk (the login service of cto.new).
CLERK_URL = "https://clerk.cto.new"
CLERK_API_VERSION = "2025-04-10"
ORIGIN = "https://cto.new"
CLIENT_COOKIE = "__client"
ROTATING_CLAIM = "rotating_token"
CLIENT_PATH = "/v1/client"
TOKENS_PATH = "/v1/client/sessions/{session_id}/tokens"
SIGNED_OUT = "Signed out"

# EngineLabs (the chat backend).
API_BASE = "https://api.enginelabs.ai"
WS_BASE = "wss://api.enginelabs.ai"
CHAT_PATH = "/engine-agent/chat"
STREAM_PATH = "/engine-agent/chat-histories/{chat_history_id}/buffer/stream"
PING_TEXT = "ping"
PONG_TEXT = "pong"
PING_INTERVAL = 30.0
# Seconds to wait for EngineLabs to acknowledge the close of a chat socket.
WS_CLOSE_TIMEOUT = 5.0

# Model names clients use -> EngineLabs adapter names.
MODELS = {"ctonew-claude-sonnet": "ClaudeSonnet4_5", "ctonew-gpt-5": "GPT5"}
# Model pattern -> ctonew model tried after every other provider for it.
FALLBACK_FOR = {"claude-sonnet-*": "ctonew-claude-sonnet", "gpt-5*": "ctonew-gpt-5"}

# Seconds before a Clerk JWT's ``exp`` at which a new one is fetched (they live ~60 s).
TOKEN_MARGIN = 10.0
# The request body is limited to about 32 KB; this bounds the prompt as it travels in the
# body (JSON-escaped UTF-8), leaving room for the other fields.
MAX_PROMPT_BYTES = 32_000
# "v1": plain prompt plus adapterName. Only v1 is implemented; the newer API
# (base64 prompt, model chosen per team) is not.
WIRE_VERSION = "v1"
WIRE_VERSIONS = ("v1",)
