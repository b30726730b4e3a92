"""Upstream facts about AI Studio and Chromium, kept in one place (they drift)."""

from __future__ import annotations

CHROMIUM_FLAGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
HEADLESS_FLAG = "--headless"
INSTANCE_FLAG = "--cliproxy-aistudio-instance"

SIGN_IN_HOSTS: tuple[str, ...] = ("accounts.google.com",)
SIGN_IN_PATH_MARKERS: tuple[str, ...] = ("/signin", "/servicelogin", "/login")
LOGIN_BUTTON_SELECTOR = (
    'a:has-text("Sign in"), button:has-text("Sign in"), '
    'a:has-text("Log in"), button:has-text("Log in")'
)
RATE_LIMIT_MARKERS: tuple[str, ...] = (
    "RESOURCE_EXHAUSTED",
    "You've reached your rate limit",
    "rate limit exceeded",
)
SESSION_EXPIRED_STATUSES = frozenset({401, 403})
QUOTA_STATUS = 429

# Headers the browser sets itself or that would override the page's own session.
DROPPED_REQUEST_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "accept-encoding",
        "cookie",
        "authorization",
        "x-goog-api-key",
        "origin",
        "referer",
        "user-agent",
        "transfer-encoding",
    }
)
DROPPED_QUERY_PARAMS = frozenset({"key"})

INTERACTIVE_LOGIN_TIMEOUT_SECONDS = 300.0
PAGE_LOAD_TIMEOUT_MS = 20_000
BROWSER_RESTART_BASE_SECONDS = 0.5
BROWSER_RESTART_CAP_SECONDS = 30.0
BROWSER_MAX_CRASHES = 5
BROWSER_CRASH_WINDOW_SECONDS = 300.0
RELAY_BACKOFF_BASE_SECONDS = 0.5
RELAY_BACKOFF_CAP_SECONDS = 30.0
