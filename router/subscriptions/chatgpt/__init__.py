"""ChatGPT Plus/Pro through the Codex CLI's OAuth login and backend ("LLMux ChatGPT")."""
