"""AI Studio browser service: serves relayed Gemini requests from a logged-in Chromium."""
