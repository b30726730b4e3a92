"""ChatGPT Plus/Pro through the Codex CLI's OAuth login and backend (upstream ``llmux-chatgpt``;
router/api/auth_oauth.py says why "llmux")."""
