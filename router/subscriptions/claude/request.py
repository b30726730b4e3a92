"""Makes an Anthropic Messages request look like Claude Code's own, as OAuth tokens require."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from router.formats.codec import dumps
from router.subscriptions.claude.toolnames import ToolNameMap, map_tool_names


class InvalidRequestBody(ValueError):
    """The body is not a JSON object, so it cannot be an Anthropic Messages request."""


def merge_betas(configured: Iterable[str], client_headers: Mapping[str, str]) -> str:
    """The configured betas, then any other the client sent in ``anthropic-beta``, once each."""
    merged = dict.fromkeys(beta.strip() for beta in configured)
    for name, value in client_headers.items():
        if name.lower() == "anthropic-beta":
            merged.update(dict.fromkeys(beta.strip() for beta in value.split(",")))
    merged.pop("", None)
    return ",".join(merged)


def with_claude_code_system(system: Any, prompt: str) -> list[Any]:
    """System blocks that start with exactly ``prompt``, followed by the client's own.

    A client whose first block already is that text keeps its blocks untouched (including
    their cache_control); an empty client system adds nothing.
    """
    first = {"type": "text", "text": prompt}
    if system is None or system == "" or system == []:
        return [first]
    if isinstance(system, str):
        return [first] if system == prompt else [first, {"type": "text", "text": system}]
    if isinstance(system, list):
        head = system[0]
        if isinstance(head, dict) and head.get("type") == "text" and head.get("text") == prompt:
            return system
        return [first, *system]
    return [first, system]


def rewrite_body(raw: bytes, system_prompt: str, tool_prefix: str) -> tuple[bytes, ToolNameMap]:
    """The request as the OAuth path sends it, and the tool-name map to restore the answer."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidRequestBody("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequestBody("request body is not a JSON object")
    body["system"] = with_claude_code_system(body.get("system"), system_prompt)
    names = map_tool_names(body, tool_prefix)
    return dumps(body).encode(), names
