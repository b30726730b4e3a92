"""Claude Pro/Max through Claude Code's OAuth login (upstream ``llmux-claude``;
router/api/auth_oauth.py says why "llmux")."""
