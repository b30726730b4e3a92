"""The token fields every OAuth credential file holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def token_fields(tokens: Mapping[str, Any], now: float) -> dict[str, Any]:
    """access_token, refresh_token (when sent), expires_at and last_refresh, epoch seconds."""
    data: dict[str, Any] = {"access_token": tokens["access_token"], "last_refresh": now}
    if isinstance(tokens.get("refresh_token"), str):
        data["refresh_token"] = tokens["refresh_token"]
    expires_in = tokens.get("expires_in")
    if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
        data["expires_at"] = now + float(expires_in)
    return data
