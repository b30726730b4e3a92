"""Reading a JWT's claims without checking its signature (the issuer already did)."""

from __future__ import annotations

import base64
import json
from typing import Any


class NotAJwt(ValueError):
    """The value is not three base64url parts with a JSON object in the middle."""


def jwt_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise NotAJwt("expected three dot-separated parts")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, TypeError) as exc:
        raise NotAJwt("payload is not base64url JSON") from exc
    if not isinstance(claims, dict):
        raise NotAJwt("payload is not a JSON object")
    return claims
