"""Claude Pro/Max through Claude Code's OAuth login ("LLMux Claude")."""
