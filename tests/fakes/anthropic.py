"""Fake Anthropic Messages API: /v1/messages, /v1/messages/count_tokens, /v1/models.

Strict like the real API: `anthropic-version` required; `x-api-key` auth, or OAuth
(`Authorization: Bearer sk-ant-oat...`) which also needs the `oauth-2025-04-20` beta and the
Claude Code system block; unknown fields, empty text blocks, unpaired tool_use/tool_result,
bad ids/names and thinking signatures not issued by this fake are rejected.
Run standalone with `python -m tests.fakes.anthropic --port 0 --print-port`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from aiohttp import web

from tests.fakes.base import (
    ApiError,
    FakeServer,
    Handler,
    RecordedRequest,
    Renderer,
    StreamEvent,
    StreamPlan,
    estimate_tokens,
    json_response,
    reply_deltas,
    reply_text,
    run_standalone,
    split_text,
    sse,
)
from tests.fakes.behaviours import MidStreamError, Reply, Status, ToolCall
from tests.fakes.schemas import bad_schema_type

CLAUDE_CODE_SYSTEM = "You are Claude Code, Anthropic's official CLI for Claude."
OAUTH_BETA = "oauth-2025-04-20"
MESSAGES_FIELDS = frozenset(
    {
        "model", "messages", "max_tokens", "metadata", "stop_sequences", "stream", "system",
        "temperature", "thinking", "tool_choice", "tools", "top_k", "top_p", "container",
        "mcp_servers", "service_tier", "context_management", "output_config",
    }
)  # fmt: skip
COUNT_FIELDS = frozenset(
    {"model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers",
     "context_management"}
)  # fmt: skip
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
TOOL_USE_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MODELS = (
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
    ("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z"),
)
ERROR_KINDS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "Not found."),
    408: ("timeout_error", "Request timed out."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
    500: ("api_error", "Internal server error"),
    503: ("api_error", "Service unavailable"),
    529: ("overloaded_error", "Overloaded"),
}


def anthropic_error(
    status: int, error_type: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    request_id = f"req_{secrets.token_hex(12)}"
    body = {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }
    return json_response(body, status, {"request-id": request_id, **(headers or {})})


def invalid(message: str) -> ApiError:
    return ApiError(anthropic_error(400, "invalid_request_error", message))


def status_response(behaviour: Status) -> web.Response:
    """Render a scripted Status in the Anthropic error shape."""
    headers = dict(behaviour.headers or {})
    if behaviour.retry_after is not None:
        headers["retry-after"] = f"{behaviour.retry_after:g}"
    if behaviour.body is not None:
        raw = behaviour.body if isinstance(behaviour.body, str) else json.dumps(behaviour.body)
        return web.Response(
            status=behaviour.status, text=raw, content_type="application/json", headers=headers
        )
    error_type, message = ERROR_KINDS.get(behaviour.status, ("api_error", "Upstream error"))
    return anthropic_error(
        behaviour.status,
        behaviour.error_type or error_type,
        behaviour.message or message,
        headers,
    )


def blocks_of(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def text_of(content: Any) -> str:
    return "".join(str(b.get("text", "")) for b in blocks_of(content) if b.get("type") == "text")


def input_text(body: dict[str, Any]) -> str:
    """Everything in the request that counts as input tokens, flattened."""
    parts = [text_of(body.get("system") or [])]
    for message in body.get("messages") or []:
        for block in blocks_of(message.get("content")):
            parts.append(str(block.get("text") or block.get("thinking") or ""))
            if block.get("type") == "tool_use":
                parts.append(json.dumps(block.get("input")))
            if block.get("type") == "tool_result":
                parts.append(json.dumps(block.get("content")))
    if body.get("tools"):
        parts.append(json.dumps(body["tools"]))
    return " ".join(parts)


class AnthropicFake(FakeServer):
    """Anthropic upstream accepting API keys (`keys`) and OAuth tokens (`oauth_tokens`)."""

    def malformed(self, exc: Exception) -> web.Response:
        return invalid(f"Invalid request: {exc}").response

    default_keys = ("sk-ant-api03-test",)
    default_oauth_tokens = ("sk-ant-oat01-test",)

    def __init__(
        self,
        keys: Sequence[str] | None = None,
        *,
        oauth_tokens: Sequence[str] | None = None,
        record: bool = True,
        signing_key: bytes | None = None,
    ) -> None:
        super().__init__(keys, record=record)
        self.oauth_tokens = list(
            oauth_tokens if oauth_tokens is not None else self.default_oauth_tokens
        )
        # A fixed key lets recorded conversations (tests/clients/corpus) replay.
        self._signing_key = signing_key or secrets.token_bytes(32)

    @property
    def oauth_token(self) -> str:
        return self.oauth_tokens[0]

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [
            ("POST", "/v1/messages", self.messages),
            ("POST", "/v1/messages/count_tokens", self.count_tokens),
            ("GET", "/v1/models", self.list_models),
        ]

    def sign(self, thinking: str) -> str:
        """The signature this fake issues for a thinking text (verified when sent back)."""
        digest = hmac.new(self._signing_key, thinking.encode(), hashlib.sha256).digest()
        return base64.b64encode(b"fake-sig:" + digest).decode()

    # auth ---------------------------------------------------------------------------------

    def authenticate(self, request: web.Request) -> bool:
        """Check headers; returns True for an OAuth request (body checks follow).

        API keys are accepted in `x-api-key` or as `Authorization: Bearer` (newer SDKs send
        them that way); OAuth tokens only as Bearer.
        """
        if "anthropic-version" not in request.headers:
            raise invalid("anthropic-version: header is required")
        api_key = request.headers.get("x-api-key")
        authorization = request.headers.get("Authorization", "")
        if api_key is not None:
            if api_key not in self.keys:
                raise ApiError(anthropic_error(401, "authentication_error", "invalid x-api-key"))
            return False
        if authorization.startswith("Bearer "):
            token = authorization[7:].strip()
            if token in self.keys:
                return False
            if token not in self.oauth_tokens:
                raise ApiError(anthropic_error(401, "authentication_error", "Invalid bearer token"))
            betas = {
                beta.strip()
                for value in request.headers.getall("anthropic-beta", [])
                for beta in value.split(",")
            }
            if OAUTH_BETA not in betas:
                raise ApiError(
                    anthropic_error(
                        401,
                        "authentication_error",
                        "OAuth authentication is currently not supported.",
                    )
                )
            return True
        raise ApiError(anthropic_error(401, "authentication_error", "x-api-key header is required"))

    def check_claude_code_identity(self, body: dict[str, Any]) -> None:
        system = body.get("system")
        first = system if isinstance(system, str) else None
        if isinstance(system, list) and system and isinstance(system[0], dict):
            first = system[0].get("text")
        if first != CLAUDE_CODE_SYSTEM:
            raise invalid(
                "This credential is only authorized for use with Claude Code and cannot be "
                "used for other API requests."
            )

    # validation ---------------------------------------------------------------------------

    def check_body(self, body: Any, allowed: frozenset[str], needs_max_tokens: bool) -> dict:
        if not isinstance(body, dict):
            raise invalid("There was an error parsing the body: invalid JSON")
        for name in body:
            if name not in allowed:
                raise invalid(f"{name}: Extra inputs are not permitted")
        required = ["model", "messages"] + (["max_tokens"] if needs_max_tokens else [])
        for name in required:
            if name not in body:
                raise invalid(f"{name}: Field required")
        if needs_max_tokens and (
            not isinstance(body["max_tokens"], int)
            or isinstance(body["max_tokens"], bool)
            or body["max_tokens"] < 1
        ):
            raise invalid("max_tokens: Input should be a valid integer greater than or equal to 1")
        if "stream" in body and not isinstance(body["stream"], bool):
            raise invalid("stream: Input should be a valid boolean")
        self.check_thinking_config(body, needs_max_tokens)
        self.check_tools(body.get("tools"))
        self.check_tool_choice(body)
        self.check_output_config(body.get("output_config"))
        self.check_messages(body["messages"])
        self.check_thinking_leads(body)
        return body

    def check_thinking_leads(self, body: dict[str, Any]) -> None:
        """With thinking on, the assistant turn whose tool calls the last message answers
        must start with its (signed, checked in check_block) thinking block."""
        thinking = body.get("thinking") or {}
        messages = body["messages"]
        if thinking.get("type") not in ("enabled", "adaptive") or len(messages) < 2:
            return
        i = len(messages) - 2
        turn, last = messages[i], messages[-1]
        blocks = blocks_of(turn.get("content"))
        answers = any(b.get("type") == "tool_result" for b in blocks_of(last.get("content")))
        if turn.get("role") != "assistant" or not answers or not blocks:
            return
        first = blocks[0].get("type")
        if first not in ("thinking", "redacted_thinking"):
            raise invalid(
                f"messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but "
                f"found `{first}`. When `thinking` is enabled, a final `assistant` message "
                "must start with a thinking block (preceeding the lastmost set of `tool_use` "
                "and `tool_result` blocks)."
            )

    def check_output_config(self, config: Any) -> None:
        if config is None:
            return
        for name in config:
            if name not in ("effort", "format"):
                raise invalid(f"output_config.{name}: Extra inputs are not permitted")
        fmt = config.get("format")
        if fmt is not None and (fmt.get("type") != "json_schema" or "schema" not in fmt):
            raise invalid("output_config.format: expected {type: json_schema, schema: {...}}")

    def check_tool_choice(self, body: dict[str, Any]) -> None:
        choice = body.get("tool_choice")
        if choice is None:
            return
        kind = choice.get("type") if isinstance(choice, dict) else None
        if kind not in ("auto", "any", "tool", "none"):
            raise invalid(
                "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', "
                "'tool', 'none'"
            )
        names = {t.get("name") for t in body.get("tools") or []}
        if kind in ("any", "tool") and not names:
            raise invalid("tool_choice: tool_choice may only be specified while providing tools")
        if kind == "tool" and choice.get("name") not in names:
            raise invalid(f"tool_choice: tool '{choice.get('name')}' not found in tools")
        thinking = body.get("thinking") or {}
        if kind in ("any", "tool") and thinking.get("type") == "enabled":
            raise invalid("Thinking may not be enabled when tool_choice forces tool use.")

    def check_thinking_config(self, body: dict[str, Any], needs_max_tokens: bool) -> None:
        thinking = body.get("thinking")
        if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
            return
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024:
            raise invalid(
                "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
            )
        if needs_max_tokens and body["max_tokens"] <= budget:
            raise invalid("`max_tokens` must be greater than `thinking.budget_tokens`.")

    def check_tools(self, tools: Any) -> None:
        for i, tool in enumerate(tools or []):
            name = tool.get("name") if isinstance(tool, dict) else None
            if not isinstance(name, str) or not TOOL_NAME.match(name):
                raise invalid(
                    f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
                )
            if bad_schema_type(tool.get("input_schema")) is not None:
                raise invalid(
                    f"tools.{i}.custom.input_schema: JSON schema is invalid. It must match "
                    "JSON Schema draft 2020-12 (https://json-schema.org/draft/2020-12)."
                )

    def check_messages(self, messages: Any) -> None:
        if not isinstance(messages, list):
            raise invalid("messages: Input should be a valid list")
        if messages and messages[0].get("role") != "user":
            raise invalid('messages: first message must use the "user" role')
        pending_tool_uses: set[str] = set()
        pending_index = -1
        for i, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role == "system" and i > 0:
                # A mid-conversation instruction, as Claude Code 2.1 sends: text only.
                self.check_system_message(i, message)
                continue
            if role not in ("user", "assistant"):
                raise invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
            if "content" not in message:
                raise invalid(f"messages.{i}.content: Field required")
            content = message["content"]
            is_final_assistant = role == "assistant" and i == len(messages) - 1
            if (content == "" or content == []) and not is_final_assistant:
                raise invalid(
                    f"messages.{i}: all messages must have non-empty content except for the "
                    "optional final assistant message"
                )
            blocks = blocks_of(content)
            results = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
            if pending_tool_uses:
                missing = pending_tool_uses - results if role == "user" else pending_tool_uses
                if missing:
                    raise invalid(
                        f"messages.{pending_index}: `tool_use` ids were found without "
                        f"`tool_result` blocks immediately after: {', '.join(sorted(missing))}. "
                        "Each `tool_use` block must have a corresponding `tool_result` block "
                        "in the next message."
                    )
            for j, block in enumerate(blocks):
                self.check_block(i, j, block, role, pending_tool_uses)
            pending_tool_uses = {
                b["id"] for b in blocks if role == "assistant" and b.get("type") == "tool_use"
            }
            pending_index = i

    def check_system_message(self, i: int, message: dict[str, Any]) -> None:
        blocks = blocks_of(message.get("content"))
        if not blocks or any(b.get("type") != "text" or not b.get("text") for b in blocks):
            raise invalid(f"messages.{i}: a system message must hold non-empty text blocks")

    def check_block(
        self, i: int, j: int, block: dict[str, Any], role: str, open_uses: set[str]
    ) -> None:
        kind = block.get("type")
        where = f"messages.{i}.content.{j}"
        if kind == "text" and not block.get("text"):
            raise invalid("messages: text content blocks must be non-empty")
        if kind == "tool_use":
            if role != "assistant":
                raise invalid(f"{where}: tool_use blocks can only appear in assistant messages")
            if not TOOL_USE_ID.match(str(block.get("id", ""))):
                raise invalid(
                    f"{where}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
                )
        if kind == "tool_result" and block.get("tool_use_id") not in open_uses:
            raise invalid(
                f"{where}: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{block.get('tool_use_id')}. Each `tool_result` block must have a "
                "corresponding `tool_use` block in the previous message."
            )
        if kind == "image":
            self.check_image(block, where)
        if kind == "thinking":
            signature = block.get("signature")
            if not isinstance(signature, str) or not hmac.compare_digest(
                signature, self.sign(str(block.get("thinking", "")))
            ):
                raise invalid(f"{where}: Invalid `signature` in `thinking` block")

    def check_image(self, block: dict[str, Any], where: str) -> None:
        source = block.get("source") or {}
        if source.get("type") == "url":
            if not str(source.get("url", "")).startswith(("http://", "https://")):
                raise invalid(f"{where}.image.source.url: Input should be a valid URL")
            return
        if source.get("type") != "base64":
            raise invalid(f"{where}.image.source: Input tag does not match the expected tags")
        if source.get("media_type") not in IMAGE_MEDIA_TYPES:
            raise invalid(
                f"{where}.image.source.base64.media_type: Input should be 'image/jpeg', "
                "'image/png', 'image/gif' or 'image/webp'"
            )
        try:
            base64.b64decode(str(source.get("data", "")), validate=True)
        except ValueError:
            raise invalid(f"{where}.image.source.base64: invalid base64 data") from None

    # handlers -----------------------------------------------------------------------------

    async def messages(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        oauth = self.authenticate(request)
        body = self.check_body(record.json, MESSAGES_FIELDS, needs_max_tokens=True)
        if oauth:
            self.check_claude_code_identity(body)
        last_user = next(
            (text_of(m["content"]) for m in reversed(body["messages"]) if m["role"] == "user"),
            "",
        )
        state = MessagesRender(
            model=body["model"],
            default_text=f"echo: {last_user}",
            input_tokens=estimate_tokens(input_text(body)),
            sign=self.sign,
        )
        render = Renderer(
            stream=bool(body.get("stream")),
            body=state.message,
            plan=state.plan,
            error=status_response,
        )
        return await self.perform(request, record, self.next_behaviour(record), render)

    async def count_tokens(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        oauth = self.authenticate(request)
        body = self.check_body(record.json, COUNT_FIELDS, needs_max_tokens=False)
        if oauth:
            self.check_claude_code_identity(body)
        payload = {"input_tokens": estimate_tokens(input_text(body))}
        return await self.respond_fixed(request, record, payload, status_response)

    async def list_models(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        self.authenticate(request)
        data = [
            {"type": "model", "id": model, "display_name": name, "created_at": created}
            for model, name, created in MODELS
        ]
        payload = {
            "data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]
        }  # fmt: skip
        return await self.respond_fixed(request, record, payload, status_response)


def tool_use_id(call: ToolCall, index: int) -> str:
    return call.id or f"toolu_{hashlib.sha1(f'{call.name}{index}'.encode()).hexdigest()[:24]}"


class MessagesRender:
    """Anthropic message shapes for one request."""

    def __init__(self, model: str, default_text: str, input_tokens: int, sign: Any) -> None:
        self.model = model
        self.default_text = default_text
        self.input_tokens = input_tokens
        self.sign = sign
        self.id = f"msg_{secrets.token_hex(12)}"

    def usage(self, reply: Reply) -> dict[str, Any]:
        if reply.usage is not None:
            return {
                "input_tokens": reply.usage.input_tokens,
                "output_tokens": reply.usage.output_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": reply.usage.cached_tokens,
                "service_tier": "standard",
            }
        output = estimate_tokens(reply_text(reply, self.default_text))
        output += estimate_tokens(reply.reasoning or "")
        output += sum(estimate_tokens(json.dumps(c.arguments)) for c in reply.tool_calls)
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": output,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard",
        }

    def stop_reason(self, reply: Reply) -> str:
        return reply.stop_reason or ("tool_use" if reply.tool_calls else "end_turn")

    def blocks(self, reply: Reply) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if reply.reasoning is not None:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": reply.reasoning,
                    "signature": self.sign(reply.reasoning),
                }
            )
        text = reply_text(reply, self.default_text)
        if text or not reply.tool_calls:
            blocks.append({"type": "text", "text": text})
        for i, call in enumerate(reply.tool_calls):
            blocks.append(
                {"type": "tool_use", "id": tool_use_id(call, i), "name": call.name,
                 "input": call.arguments}
            )  # fmt: skip
        return blocks

    def message(self, reply: Reply) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": self.blocks(reply),
            "stop_reason": self.stop_reason(reply),
            "stop_sequence": None,
            "usage": self.usage(reply),
        }

    def plan(self, reply: Reply) -> StreamPlan:
        usage = self.usage(reply)
        start_usage = {**usage, "output_tokens": 1}
        start = {
            **self.message(reply),
            "content": [],
            "stop_reason": None,
            "usage": start_usage,
        }
        events = [StreamEvent(event("message_start", message=start))]
        for index, block in enumerate(self.blocks(reply)):
            events.extend(self.block_events(index, block, reply))
            if index == 0:
                events.insert(2, StreamEvent(event("ping")))
        events.append(
            StreamEvent(
                event(
                    "message_delta",
                    delta={"stop_reason": self.stop_reason(reply), "stop_sequence": None},
                    usage={"output_tokens": usage["output_tokens"]},
                )
            )
        )
        events.append(StreamEvent(event("message_stop")))
        return StreamPlan(events, error_event=error_event)

    def block_events(self, index: int, block: dict[str, Any], reply: Reply) -> list[StreamEvent]:
        kind = block["type"]
        if kind == "thinking":
            empty = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": piece}
                for piece in split_text(block["thinking"], None)
            ]
            tail = [{"type": "signature_delta", "signature": block["signature"]}]
        elif kind == "text":
            empty = {"type": "text", "text": ""}
            deltas = [
                {"type": "text_delta", "text": piece}
                for piece in reply_deltas(reply, self.default_text)
            ]
            tail = []
        else:
            empty = {**block, "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": piece}
                for piece in split_text(json.dumps(block["input"]), 3)
            ]
            tail = []
        result = [StreamEvent(event("content_block_start", index=index, content_block=empty))]
        result += [
            StreamEvent(event("content_block_delta", index=index, delta=d), content=True)
            for d in deltas
        ]
        result += [StreamEvent(event("content_block_delta", index=index, delta=d)) for d in tail]
        result.append(StreamEvent(event("content_block_stop", index=index)))
        return result


def event(kind: str, **fields: Any) -> bytes:
    return sse({"type": kind, **fields}, event=kind)


def error_event(error: MidStreamError, events_sent: int) -> bytes:
    error_type = error.error_type or ERROR_KINDS.get(error.status, ("api_error", ""))[0]
    return event("error", error={"type": error_type, "message": error.message})


def main() -> None:
    run_standalone(lambda keys: AnthropicFake(keys))


if __name__ == "__main__":
    main()
