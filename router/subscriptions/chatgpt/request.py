"""What the Codex backend needs of a Responses request: its headers and a normalised body."""

from __future__ import annotations

import json
import uuid
from typing import Any

from router.config.subscriptions import ChatGPTSubscriptionConfig
from router.subscriptions.chatgpt.toolnames import ToolNames, shorten_request_names

ENCRYPTED_REASONING = "reasoning.encrypted_content"


class InvalidCodexRequest(ValueError):
    """The body is not a JSON object (the router only sends objects)."""


def codex_body(raw: bytes, settings: ChatGPTSubscriptionConfig) -> tuple[dict[str, Any], ToolNames]:
    """The request as the backend accepts it, and the tool names shortened on the way.

    Always streamed and never stored, parallel tool calls on, encrypted reasoning
    included (so reasoning survives ``store: false`` across turns), the parameters the
    backend refuses removed, ``instructions`` always present (the client's own when it
    gave some) and ``input`` always a list.
    """
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidCodexRequest("request body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidCodexRequest("request body is not a JSON object")
    for name in settings.drop_params:
        body.pop(name, None)
    body["stream"] = True
    body["store"] = False
    body["parallel_tool_calls"] = True
    include = body.get("include")
    include = list(include) if isinstance(include, list) else []
    if ENCRYPTED_REASONING not in include:
        include.append(ENCRYPTED_REASONING)
    body["include"] = include
    prompt = body.get("input")
    if isinstance(prompt, str):
        body["input"] = [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]}
        ]
    elif prompt is None:
        body["input"] = []
    _fold_instructions(body)
    instructions = body.get("instructions")
    if not isinstance(instructions, str) or not instructions.strip():
        body["instructions"] = settings.default_instructions
    return body, shorten_request_names(body)


def _fold_instructions(body: dict[str, Any]) -> None:
    """The backend takes no system or developer message in ``input``: their text joins
    ``instructions``, in order, after the client's own."""
    items = body["input"]
    if not isinstance(items, list):
        return
    folded = [item for item in items if _is_instruction(item)]
    if not folded:
        return
    texts = [body["instructions"]] if isinstance(body.get("instructions"), str) else []
    texts += [_message_text(item.get("content")) for item in folded]
    body["instructions"] = "\n\n".join(t for t in texts if t.strip())
    body["input"] = [item for item in items if not _is_instruction(item)]


def _is_instruction(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and item.get("type", "message") == "message"
        and item.get("role") in ("system", "developer")
    )


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text") or "")
            for part in content
            if isinstance(part, dict) and part.get("type") in ("input_text", "text", "output_text")
        )
    return ""


def session_id_for(body: dict[str, Any]) -> str:
    """The conversation's ``prompt_cache_key`` when the client set one (stable across its
    turns, as the Codex CLI does), else a fresh id for this request."""
    key = body.get("prompt_cache_key")
    if isinstance(key, str) and key:
        return key
    return str(uuid.uuid4())


def codex_headers(
    access_token: str, account_id: str, session_id: str, settings: ChatGPTSubscriptionConfig
) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {access_token}",
        "chatgpt-account-id": account_id,
        "originator": settings.originator,
        "OpenAI-Beta": settings.openai_beta,
        "session_id": session_id,
        "Accept": "text/event-stream",
        "Content-Type": "application/json",
    }
