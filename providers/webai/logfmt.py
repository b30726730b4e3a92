"""Plain key=value log lines."""

from __future__ import annotations

import json
import logging

LOGGER_NAME = "cliproxy.webai"
THIRD_PARTY_LOGGERS = ("g4f",)
LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"

logger = logging.getLogger(LOGGER_NAME)


def kv(**fields: object) -> str:
    """Render fields as key=value; values with spaces, quotes or '=' are JSON-quoted."""
    parts = []
    for key, value in fields.items():
        text = "-" if value is None else str(value)
        if not text or any(ch in text for ch in ' "=\n\t'):
            text = json.dumps(text)
        parts.append(f"{key}={text}")
    return " ".join(parts)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in THIRD_PARTY_LOGGERS:
        third_party = logging.getLogger(name)
        third_party.handlers.clear()
        third_party.propagate = True
