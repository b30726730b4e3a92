"""ChatGPT/Codex wire facts; each is the default of a ``subscriptions.chatgpt`` key."""

PROVIDER = "chatgpt"
UPSTREAM_NAME = "llmux-chatgpt"

AUTHORIZE_URL = "https://auth.openai.com/oauth/authorize"
TOKEN_URL = "https://auth.openai.com/oauth/token"
CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
SCOPES = "openid email profile offline_access"
REFRESH_SCOPE = "openid profile email"
REDIRECT_URI = "http://localhost:1455/auth/callback"
AUTHORIZE_EXTRA = {
    "prompt": "login",
    "id_token_add_organizations": "true",
    "codex_cli_simplified_flow": "true",
}
ACCOUNT_CLAIM = "https://api.openai.com/auth"

BACKEND_URL = "https://chatgpt.com/backend-api/codex"
ORIGINATOR = "codex_cli_rs"
OPENAI_BETA = "responses=experimental"
DEFAULT_INSTRUCTIONS = "You are a helpful coding assistant."
DROP_PARAMS = (
    "max_output_tokens",
    "temperature",
    "top_p",
    "service_tier",
    "previous_response_id",
)

# The models of the catalog bundled with the pinned Codex CLI (@openai/codex 0.171.0,
# tests/clients/package.json), in its order: the first is what Codex asks for with no
# model configured. tests/clients/test_codex_catalog.py reads the pinned binary's catalog
# and fails when a model of it is missing here.
CODEX_CATALOG = (
    "gpt-6.2-sol",
    "gpt-6.2-astra",
    "gpt-6-astra",
    "gpt-6.1-sol",
    "gpt-6.1-terra",
    "gpt-6-sol",
    "gpt-6-luna",
    "gpt-5.6-sol",
    "gpt-5.6-terra",
    "gpt-5.6-luna",
    "gpt-daybreak-blue-latest",
    "gpt-daybreak-red-latest",
    "gpt-5.5",
    "codex-auto-review",
)
MODELS = ("gpt-5", "gpt-5-*", "gpt-5.*", "codex-*", *CODEX_CATALOG)
