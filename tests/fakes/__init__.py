"""Fake upstream servers (OpenAI, Anthropic, Gemini) used by the test suite."""
