"""Wire format of the AI Studio WebSocket relay (compatible with CLIProxyAPI's /v1/ws).

Every frame is a JSON object ``{"id": str, "type": str, "payload": {...}}``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

HTTP_REQUEST = "http_request"
HTTP_RESPONSE = "http_response"
STREAM_START = "stream_start"
STREAM_CHUNK = "stream_chunk"
STREAM_END = "stream_end"
ERROR = "error"
PING = "ping"
PONG = "pong"
CANCEL = "cancel"
# cliproxy extension, peer -> router: the peer signed in afresh (new login or imported
# session), so a quota rest earned before no longer applies. Other peers never send it.
SESSION_LOGIN = "session_login"

TERMINAL_TYPES = frozenset({HTTP_RESPONSE, STREAM_END, ERROR})
# The id of a frame that cannot be parsed, when it is the first key (as peers write it).
_LEADING_ID = re.compile(r'\s*\{\s*"id"\s*:\s*"([A-Za-z0-9_.:-]{1,128})"')


class ProtocolError(ValueError):
    """A frame that does not follow the envelope format."""


def encode(frame_id: str, frame_type: str, payload: dict[str, Any] | None = None) -> str:
    """Serialise one frame; ``cancel`` frames carry no payload, like the brief specifies."""
    frame: dict[str, Any] = {"id": frame_id, "type": frame_type}
    if payload is not None:
        frame["payload"] = payload
    return json.dumps(frame, separators=(",", ":"))


def decode(text: str) -> tuple[str, str, dict[str, Any]]:
    """Parse one frame into (id, type, payload)."""
    try:
        frame = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("frame is nested too deeply to parse") from None
    if not isinstance(frame, dict):
        raise ProtocolError("frame is not a JSON object")
    frame_id = frame.get("id")
    frame_type = frame.get("type")
    payload = frame.get("payload") or {}
    if not isinstance(frame_id, str) or not isinstance(frame_type, str):
        raise ProtocolError("frame lacks a string id or type")
    if not isinstance(payload, dict):
        raise ProtocolError("frame payload is not an object")
    return frame_id, frame_type, payload


def leading_id(text: str) -> str | None:
    """The id of a frame ``decode`` refused, so only its request fails; None if unknown."""
    found = _LEADING_ID.match(text[:200])
    return found.group(1) if found else None


def head_status(payload: dict[str, Any], default: int) -> int:
    """The HTTP status of a head frame; ``default`` when absent, ProtocolError when odd."""
    status = payload.get("status")
    if status is None:
        return default
    if type(status) is not int or not 100 <= status <= 599:
        raise ProtocolError(f"status must be an integer from 100 to 599, got {status!r:.40}")
    return status


def rfc3339_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request_payload(
    method: str, url: str, headers: dict[str, list[str]], body: str
) -> dict[str, Any]:
    return {
        "method": method,
        "url": url,
        "headers": {name: list(values) for name, values in headers.items()},
        "body": body,
        "sent_at": rfc3339_now(),
    }


def flatten_headers(raw: Any) -> dict[str, str]:
    """Peer headers come as name -> list (Go http.Header) or name -> str; join lists."""
    if not isinstance(raw, dict):
        return {}
    flat: dict[str, str] = {}
    for name, value in raw.items():
        if isinstance(value, list):
            flat[str(name)] = ", ".join(str(item) for item in value)
        elif value is not None:
            flat[str(name)] = str(value)
    return flat
