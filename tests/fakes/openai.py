"""Fake OpenAI API: Chat Completions, Responses and the model list.

Strict like the real API: Bearer key required, unknown top-level fields rejected, roles
and tool-call/tool-result pairing checked. Run standalone with
`python -m tests.fakes.openai --port 0 --print-port [--mode instant|stream]`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
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

CHAT_FIELDS = frozenset(
    {
        "model", "messages", "audio", "frequency_penalty", "function_call", "functions",
        "logit_bias", "logprobs", "max_completion_tokens", "max_tokens", "metadata",
        "modalities", "n", "parallel_tool_calls", "prediction", "presence_penalty",
        "prompt_cache_key", "prompt_cache_retention", "reasoning_effort", "response_format",
        "safety_identifier", "seed", "service_tier", "stop", "store", "stream",
        "stream_options", "temperature", "tool_choice", "tools", "top_logprobs", "top_p",
        "user", "verbosity", "web_search_options",
    }
)  # fmt: skip
RESPONSES_FIELDS = frozenset(
    {
        "model", "input", "instructions", "stream", "stream_options", "tools", "tool_choice",
        "parallel_tool_calls", "reasoning", "max_output_tokens", "max_tool_calls",
        "temperature", "top_p", "top_logprobs", "store", "include", "metadata",
        "previous_response_id", "conversation", "text", "truncation", "user", "service_tier",
        "prompt", "prompt_cache_key", "prompt_cache_retention", "safety_identifier",
        "background",
        # Sent by Codex CLI on every request (tests/clients/corpus/codex), which works
        # against api.openai.com.
        "client_metadata",
    }
)  # fmt: skip


class ReasoningSeal:
    """Encrypted reasoning as the fake issues it (the text and its HMAC under one key),
    verified when sent back. Fakes share one per-process key unless given their own (the
    corpus key, so recorded turns replay)."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def encrypt(self, text: str) -> str:
        mac = hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()
        return base64.b64encode(text.encode()).decode() + "." + mac

    def is_ours(self, content: Any) -> bool:
        body, _, mac = str(content).partition(".")
        try:
            text = base64.b64decode(body, validate=True)
        except ValueError:
            return False
        expected = hmac.new(self.key, text, hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, expected)


PROCESS_SEAL = ReasoningSeal(secrets.token_bytes(32))
encrypt_reasoning = PROCESS_SEAL.encrypt
reasoning_is_ours = PROCESS_SEAL.is_ours


CHAT_ROLES = ("system", "assistant", "user", "function", "tool", "developer")
RESPONSES_ROLES = ("user", "assistant", "system", "developer")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-5", "o3-mini")

ERROR_KINDS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Bad request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", None, "You are not allowed to access this resource."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    408: ("timeout", None, "Request timed out."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The server is overloaded or not ready yet."),
}


def openai_error(
    status: int,
    message: str,
    error_type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return json_response(body, status, headers)


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(openai_error(400, message, param=param, code=code))


def status_response(behaviour: Status) -> web.Response:
    """Render a scripted Status in the OpenAI error shape."""
    headers = dict(behaviour.headers or {})
    if behaviour.retry_after is not None:
        headers["Retry-After"] = f"{behaviour.retry_after:g}"
    if behaviour.body is not None:
        raw = behaviour.body if isinstance(behaviour.body, str) else json.dumps(behaviour.body)
        return web.Response(
            status=behaviour.status, text=raw, content_type="application/json", headers=headers
        )
    error_type, code, message = ERROR_KINDS.get(
        behaviour.status, ("server_error", None, "Upstream error.")
    )
    return openai_error(
        behaviour.status,
        behaviour.message or message,
        behaviour.error_type or error_type,
        code=code,
        headers=headers,
    )


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12)}"


def text_of(content: Any) -> str:
    """Plain text of a message content (string or list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def check_fields(body: Any, allowed: frozenset[str], chat: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)"
        )
    for name in body:
        if name not in allowed:
            if chat:
                raise invalid(f"Unrecognized request argument supplied: {name}")
            raise invalid(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    if "model" not in body:
        if chat:
            raise invalid("you must provide a model parameter")
        raise invalid("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    if not isinstance(body["model"], str):
        raise invalid("Invalid type for 'model': expected a string.", "model", "invalid_type")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise invalid(
            "Invalid type for 'stream': expected a boolean, but got a "
            f"{type(body['stream']).__name__} instead.",
            "stream",
            "invalid_type",
        )
    if "stream_options" in body and not body.get("stream"):
        raise invalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )
    identifier = body.get("safety_identifier")
    if isinstance(identifier, str) and len(identifier) > SAFETY_IDENTIFIER_MAX:
        raise invalid(
            "Invalid 'safety_identifier': string too long. Expected a string with maximum "
            f"length {SAFETY_IDENTIFIER_MAX}, but got a string with length "
            f"{len(identifier)} instead.",
            "safety_identifier",
            "string_above_max_length",
        )
    return body


SAFETY_IDENTIFIER_MAX = 128


def check_tools(tools: Any, chat: bool) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise invalid("Invalid type for 'tools': expected an array.", "tools", "invalid_type")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or "type" not in tool:
            raise invalid(
                f"Missing required parameter: 'tools[{i}].type'.",
                f"tools[{i}].type",
                "missing_required_parameter",
            )
        if tool["type"] != "function":
            continue
        spec = tool.get("function") if chat else tool
        where = f"tools[{i}].function.name" if chat else f"tools[{i}].name"
        name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(name, str):
            raise invalid(
                f"Missing required parameter: '{where}'.", where, "missing_required_parameter"
            )
        if len(name) > 64:
            raise invalid(
                f"Invalid '{where}': string too long. Expected a string with maximum length "
                f"64, but got a string with length {len(name)} instead.",
                where,
                "string_above_max_length",
            )
        if not TOOL_NAME.match(name):
            raise invalid(
                f"Invalid '{where}': string does not match pattern. Expected a string that "
                "matches the pattern '^[a-zA-Z0-9_-]+$'.",
                where,
                "invalid_value",
            )
        bad = bad_schema_type(spec.get("parameters"))
        if bad is not None:
            raise invalid(
                f"Invalid schema for function '{name}': '{bad}' is not valid under any of "
                "the given schemas.",
                where.replace(".name", ".parameters"),
                "invalid_function_parameters",
            )


def check_tool_choice(body: dict[str, Any], chat: bool) -> None:
    """A forced function must be one of `tools`; any tool_choice needs tools."""
    choice = body.get("tool_choice")
    if choice is None:
        return
    tools = list(body.get("tools") or [])
    if not chat and isinstance(body.get("input"), list):
        tools += [  # Codex's additional_tools items offer tools too
            tool
            for item in body["input"]
            if isinstance(item, dict) and item.get("type") == "additional_tools"
            for tool in item.get("tools") or []
        ]
    if not tools:
        raise invalid(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
            "tool_choice",
        )
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise invalid(f"Invalid value: '{choice}'.", "tool_choice", "invalid_value")
        return
    spec = choice.get("function") if chat else choice
    name = spec.get("name") if isinstance(spec, dict) else None
    names = {(t.get("function") or {}).get("name") if chat else t.get("name") for t in tools}
    if choice.get("type") != "function" or name not in names:
        raise invalid(
            f"Invalid value for 'tool_choice': function '{name}' not found in 'tools'.",
            "tool_choice",
        )


def check_output_format(body: dict[str, Any], chat: bool) -> None:
    """response_format (Chat) / text.format (Responses): json_schema needs name and schema."""
    if chat:
        spec = body.get("response_format")
        where = "response_format"
        if not isinstance(spec, dict) or spec.get("type") != "json_schema":
            return
        spec = spec.get("json_schema")
        where = "response_format.json_schema"
    else:
        spec = (body.get("text") or {}).get("format")
        where = "text.format"
        if not isinstance(spec, dict) or spec.get("type") != "json_schema":
            return
    for name in ("name", "schema"):
        if not isinstance(spec, dict) or name not in spec:
            raise invalid(
                f"Missing required parameter: '{where}.{name}'.",
                f"{where}.{name}",
                "missing_required_parameter",
            )


def check_image_url(url: Any, where: str) -> None:
    """An image URL is http(s) or a base64 data URL of an image."""
    if not isinstance(url, str):
        raise invalid(f"Invalid type for '{where}': expected a string.", where, "invalid_type")
    if url.startswith(("http://", "https://")):
        return
    header, _, data = url.partition(",")
    if not (header.startswith("data:image/") and header.endswith(";base64")):
        raise invalid(f"Invalid '{where}': expected a URL or a base64 data URL.", where)
    try:
        base64.b64decode(data, validate=True)
    except ValueError:
        raise invalid(f"Invalid '{where}': the image data is not valid base64.", where) from None


def check_images(body: dict[str, Any], chat: bool) -> None:
    if chat:
        entries = [(f"messages[{i}]", m) for i, m in enumerate(body.get("messages") or [])]
        kind, field = "image_url", "image_url"
    else:
        raw = body.get("input")
        entries = [(f"input[{i}]", m) for i, m in enumerate(raw if isinstance(raw, list) else [])]
        kind, field = "input_image", "image_url"
    for where, message in entries:
        content = message.get("content") if isinstance(message, dict) else None
        for j, part in enumerate(content if isinstance(content, list) else []):
            if not isinstance(part, dict) or part.get("type") != kind:
                continue
            url = part.get(field)
            if chat:
                url = url.get("url") if isinstance(url, dict) else None
            elif url is None and "file_id" in part:
                continue
            check_image_url(url, f"{where}.content[{j}].{field}")


def check_chat_messages(messages: Any) -> None:
    check_messages_present(messages)
    open_calls: dict[str, int] = {}
    for i, message in enumerate(messages):
        role = check_chat_role(message, i)
        if role != "tool" and open_calls:
            raise unanswered_calls(open_calls)
        if role == "tool":
            close_call(message, i, open_calls)
        elif role == "assistant":
            for call in message.get("tool_calls") or []:
                open_calls[call.get("id", "")] = i
            if message.get("content") is None and not message.get("tool_calls"):
                raise missing(f"messages[{i}].content")
        elif "content" not in message:
            raise missing(f"messages[{i}].content")
    if open_calls:
        raise unanswered_calls(open_calls)


def missing(param: str) -> ApiError:
    return invalid(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def check_messages_present(messages: Any) -> None:
    if messages is None:
        raise missing("messages")
    if not isinstance(messages, list):
        raise invalid("Invalid type for 'messages': expected an array.", "messages")
    if not messages:
        raise invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but "
            "got an empty array instead.",
            "messages",
            "empty_array",
        )


def check_chat_role(message: Any, i: int) -> str:
    role = message.get("role") if isinstance(message, dict) else None
    if role is None:
        raise missing(f"messages[{i}].role")
    if role not in CHAT_ROLES:
        raise invalid(
            f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', "
            "'user', 'function', 'tool', and 'developer'.",
            f"messages[{i}].role",
            "invalid_value",
        )
    return str(role)


def close_call(message: dict[str, Any], i: int, open_calls: dict[str, int]) -> None:
    """A tool message answers one call still open, else 400."""
    call_id = message.get("tool_call_id")
    if call_id is None:
        raise missing(f"messages[{i}].tool_call_id")
    if call_id not in open_calls:
        raise invalid(
            "Invalid parameter: messages with role 'tool' must be a response to a "
            "preceeding message with 'tool_calls'.",
            f"messages.[{i}].role",
        )
    del open_calls[call_id]


def unanswered_calls(open_calls: dict[str, int]) -> ApiError:
    return invalid(
        "An assistant message with 'tool_calls' must be followed by tool messages "
        "responding to each 'tool_call_id'. The following tool_call_ids did not have "
        f"response messages: {', '.join(open_calls)}",
        f"messages.[{next(iter(open_calls.values()))}].role",
    )


def check_reasoning_returned(messages: list[dict[str, Any]], reasoned_calls: set[str]) -> None:
    """DeepSeek's thinking-mode rule (Kimi's too): an assistant message whose tool calls
    came with `reasoning_content` must carry that reasoning back on every later request,
    else 400. This fake applies it to the tool calls it answered with reasoning."""
    for message in messages:
        if message.get("role") != "assistant" or message.get("reasoning_content"):
            continue
        ids = {call.get("id") for call in message.get("tool_calls") or []}
        if ids & reasoned_calls:
            raise invalid(
                "The `reasoning_content` in the thinking mode must be passed back to the API.",
                code="invalid_request_error",
            )


def check_responses_input(
    body: dict[str, Any],
    stored_responses: Mapping[str, list[dict[str, Any]]],
    seal: ReasoningSeal = PROCESS_SEAL,
) -> list[dict[str, Any]]:
    """The input items of a Responses request, checked like the real API does."""
    raw = body.get("input")
    if raw is None and "prompt" not in body:
        raise missing("input")
    # call_id -> the item type of the call (function_call or custom_tool_call)
    known_calls = previous_calls(body, stored_responses)
    if isinstance(raw, str) or raw is None:
        return [{"type": "message", "role": "user", "content": raw or ""}]
    if not isinstance(raw, list):
        raise invalid("Invalid type for 'input': expected a string or an array.", "input")
    for i, item in enumerate(raw):
        check_input_item(item, i, known_calls, stored_responses, seal)
    return list(raw)


def previous_calls(
    body: dict[str, Any], stored_responses: Mapping[str, list[dict[str, Any]]]
) -> dict[str, str]:
    """The calls of the stored response a request continues (``previous_response_id``)."""
    previous = body.get("previous_response_id")
    if previous is None:
        return {}
    if previous not in stored_responses:
        raise invalid(
            f"Previous response with id '{previous}' not found.",
            "previous_response_id",
            "previous_response_not_found",
        )
    return {
        item["call_id"]: item["type"]
        for item in stored_responses[previous]
        if item.get("type") in CALL_OUTPUTS
    }


def check_input_item(
    item: Any,
    i: int,
    known_calls: dict[str, str],
    stored_responses: Mapping[str, list[dict[str, Any]]],
    seal: ReasoningSeal,
) -> None:
    if not isinstance(item, dict):
        raise invalid(f"Invalid type for 'input[{i}]': expected an object.", "input")
    kind = item.get("type", "message" if "role" in item else None)
    if kind == "message":
        check_input_message(item, i)
    elif kind in CALL_OUTPUTS:
        for name in ("call_id", "name", CALL_OUTPUTS[kind][1]):
            if name not in item:
                raise missing(f"input[{i}].{name}")
        known_calls[item["call_id"]] = kind
    elif kind in OUTPUT_CALLS:
        check_call_output(item, kind, known_calls)
    elif kind == "reasoning":
        check_reasoning_item(item, i, stored_responses, seal)
    elif kind == "additional_tools":
        # where Codex offers its tools for the models it marks use_responses_lite
        # (tests/clients/corpus/codex-lite); validated like `tools`
        check_tools(item.get("tools"), chat=False)
    elif kind != "item_reference":
        raise invalid(
            f"Invalid value: '{kind}'. Supported values are: 'message', "
            "'function_call', 'function_call_output', 'custom_tool_call', "
            "'custom_tool_call_output', 'reasoning' and 'item_reference'.",
            f"input[{i}].type",
            "invalid_value",
        )


def check_input_message(item: dict[str, Any], i: int) -> None:
    role = item.get("role")
    if role not in RESPONSES_ROLES:
        raise invalid(
            f"Invalid value: '{role}'. Supported values are: 'user', 'assistant', "
            "'system', and 'developer'.",
            f"input[{i}].role",
            "invalid_value",
        )
    if "content" not in item:
        raise missing(f"input[{i}].content")


# A call item type -> (its output's item type, the field holding what the model sent).
CALL_OUTPUTS = {
    "function_call": ("function_call_output", "arguments"),
    "custom_tool_call": ("custom_tool_call_output", "input"),
}
OUTPUT_CALLS = {output: call for call, (output, _) in CALL_OUTPUTS.items()}


def check_call_output(item: dict[str, Any], kind: str, known_calls: Mapping[str, str]) -> None:
    """A tool's output answers an earlier call of the same kind (a custom tool's output a
    custom_tool_call, a function's a function_call)."""
    call_id = item.get("call_id")
    if known_calls.get(call_id) != OUTPUT_CALLS[kind]:
        what = "custom tool call" if kind == "custom_tool_call_output" else "function call"
        raise invalid(f"No tool call found for {what} output with call_id {call_id}.", "input")
    if "output" not in item:
        raise invalid(
            "Missing required parameter: 'output'.", "output", "missing_required_parameter"
        )


def check_reasoning_item(
    item: dict[str, Any],
    i: int,
    stored_responses: Mapping[str, list[dict[str, Any]]],
    seal: ReasoningSeal,
) -> None:
    """Reasoning comes back as the encrypted content this fake issued, or by the id of an
    item of a stored response (a store=false response's items are not kept)."""
    if item.get("encrypted_content"):
        if not seal.is_ours(item["encrypted_content"]):
            raise invalid(
                f"The encrypted content for item {item.get('id') or f'input[{i}]'} could "
                "not be verified.",
                f"input[{i}].encrypted_content",
                "invalid_encrypted_content",
            )
        return
    item_id = item.get("id")
    if not item_id:
        raise invalid(
            f"Missing required parameter: 'input[{i}].id'.",
            f"input[{i}].id",
            "missing_required_parameter",
        )
    if not any(o.get("id") == item_id for out in stored_responses.values() for o in out):
        raise ApiError(
            openai_error(
                404,
                f"Item with id '{item_id}' not found. Items are not persisted when `store` "
                "is set to false. Try again with `store` set to true, or remove this item "
                "from your input.",
                param="input",
            )
        )


def tool_call_id(call: ToolCall, index: int) -> str:
    return call.id or f"call_{hashlib.sha1(f'{call.name}{index}'.encode()).hexdigest()[:24]}"


def call_text(call: ToolCall) -> str:
    return call.custom_input if call.custom_input is not None else json.dumps(call.arguments)


def call_item(call: ToolCall, index: int) -> dict[str, Any]:
    """A Responses output item for a call: `custom_tool_call` with its raw input for a
    custom (free-form) tool, else `function_call`; `namespace` when declared in one."""
    item: dict[str, Any]
    if call.custom_input is not None:
        item = {"id": new_id("ctc_"), "type": "custom_tool_call", "status": "completed"}
        item |= {"call_id": tool_call_id(call, index), "name": call.name}
        item["input"] = call.custom_input
    else:
        item = {"id": new_id("fc_"), "type": "function_call", "status": "completed"}
        item |= {"call_id": tool_call_id(call, index), "name": call.name}
        item["arguments"] = json.dumps(call.arguments)
    if call.namespace is not None:
        item["namespace"] = call.namespace
    return item


class OpenAIFake(FakeServer):
    """OpenAI-compatible upstream: /v1/chat/completions, /v1/responses, /v1/models."""

    def malformed(self, exc: Exception) -> web.Response:
        return invalid(f"Invalid request: {exc}").response

    default_keys = ("sk-test-openai",)

    def __init__(
        self,
        keys: Sequence[str] | None = None,
        *,
        record: bool = True,
        signing_key: bytes | None = None,
    ) -> None:
        super().__init__(keys, record=record)
        self.seal = ReasoningSeal(signing_key) if signing_key else PROCESS_SEAL
        self.stored_responses: dict[str, list[dict[str, Any]]] = {}
        # Tool-call ids this fake answered with reasoning_content (check_reasoning_returned).
        self.reasoned_calls: set[str] = set()

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [
            ("POST", "/v1/chat/completions", self.chat_completions),
            ("POST", "/v1/responses", self.responses),
            ("GET", "/v1/models", self.list_models),
        ]

    def authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            raise ApiError(
                openai_error(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                    "YOUR_KEY).",
                )
            )
        key = header[7:].strip()
        if key not in self.keys:
            masked = f"{key[:3]}***{key[-4:]}" if len(key) > 8 else "***"
            raise ApiError(
                openai_error(
                    401,
                    f"Incorrect API key provided: {masked}. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    code="invalid_api_key",
                )
            )

    # /v1/models ---------------------------------------------------------------------------

    async def list_models(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        self.authenticate(request)
        data = [
            {"id": m, "object": "model", "created": 1715367049, "owned_by": "system"}
            for m in MODELS
        ]
        payload = {"object": "list", "data": data}
        return await self.respond_fixed(request, record, payload, status_response)

    # /v1/chat/completions -----------------------------------------------------------------

    async def chat_completions(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        self.authenticate(request)
        body = check_fields(record.json, CHAT_FIELDS, chat=True)
        check_chat_messages(body.get("messages"))
        check_tools(body.get("tools"), chat=True)
        check_tool_choice(body, chat=True)
        check_output_format(body, chat=True)
        check_images(body, chat=True)
        messages = body["messages"]
        check_reasoning_returned(messages, self.reasoned_calls)
        last_user = next(
            (text_of(m.get("content")) for m in reversed(messages) if m["role"] == "user"), ""
        )
        prompt_tokens = sum(4 + estimate_tokens(text_of(m.get("content"))) for m in messages)
        if body.get("tools"):
            prompt_tokens += estimate_tokens(json.dumps(body["tools"]))
        chat = ChatRender(
            model=body["model"],
            default_text=f"echo: {last_user}",
            prompt_tokens=prompt_tokens,
            include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        )
        render = Renderer(
            stream=bool(body.get("stream")),
            body=chat.completion,
            plan=chat.plan,
            error=status_response,
        )
        behaviour = self.next_behaviour(record)
        if isinstance(behaviour, Reply) and behaviour.reasoning:
            self.reasoned_calls.update(
                tool_call_id(call, i) for i, call in enumerate(behaviour.tool_calls)
            )
        return await self.perform(request, record, behaviour, render)

    # /v1/responses ------------------------------------------------------------------------

    async def responses(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        self.authenticate(request)
        body = check_fields(record.json, RESPONSES_FIELDS, chat=False)
        check_tools(body.get("tools"), chat=False)
        check_tool_choice(body, chat=False)
        check_output_format(body, chat=False)
        check_images(body, chat=False)
        items = self.check_responses_input(body)
        render_state = responses_render(body, items, self.remember_response, self.seal)
        render = Renderer(
            stream=bool(body.get("stream")),
            body=render_state.final,
            plan=render_state.plan,
            error=status_response,
        )
        return await self.perform(request, record, self.next_behaviour(record), render)

    def remember_response(self, response: dict[str, Any]) -> None:
        if response.get("store") is not False:
            self.stored_responses[response["id"]] = response["output"]

    def check_responses_input(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return check_responses_input(body, self.stored_responses, self.seal)


class ChatRender:
    """Chat Completions shapes for one request."""

    def __init__(
        self, model: str, default_text: str, prompt_tokens: int, include_usage: bool
    ) -> None:
        self.model = model
        self.default_text = default_text
        self.prompt_tokens = prompt_tokens
        self.include_usage = include_usage
        self.id = new_id("chatcmpl-")
        self.created = int(time.time())

    def usage(self, reply: Reply) -> dict[str, Any]:
        if reply.usage is not None:
            u = reply.usage
            prompt, completion, cached, reasoning = (
                u.input_tokens, u.output_tokens, u.cached_tokens, u.reasoning_tokens,
            )  # fmt: skip
        else:
            reasoning = estimate_tokens(reply.reasoning or "")
            completion = estimate_tokens(reply_text(reply, self.default_text)) + reasoning
            completion += sum(estimate_tokens(json.dumps(c.arguments)) for c in reply.tool_calls)
            prompt, cached = self.prompt_tokens, 0
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def finish_reason(self, reply: Reply) -> str:
        return reply.stop_reason or ("tool_calls" if reply.tool_calls else "stop")

    def completion(self, reply: Reply) -> dict[str, Any]:
        text = reply_text(reply, self.default_text)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": text if text or not reply.tool_calls else None,
            "refusal": None,
            "annotations": [],
        }
        if reply.reasoning is not None:
            message["reasoning_content"] = reply.reasoning
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": tool_call_id(call, i),
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                }
                for i, call in enumerate(reply.tool_calls)
            ]
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": self.finish_reason(reply),
                }
            ],
            "usage": self.usage(reply),
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        payload: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if self.include_usage:
            payload["usage"] = None
        return sse(payload)

    def plan(self, reply: Reply) -> StreamPlan:
        events = [StreamEvent(self.chunk({"role": "assistant", "content": "", "refusal": None}))]
        for piece in split_text(reply.reasoning or "", None):
            events.append(StreamEvent(self.chunk({"reasoning_content": piece}), content=True))
        for piece in reply_deltas(reply, self.default_text):
            events.append(StreamEvent(self.chunk({"content": piece}), content=True))
        for i, call in enumerate(reply.tool_calls):
            start = {
                "index": i,
                "id": tool_call_id(call, i),
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            events.append(StreamEvent(self.chunk({"tool_calls": [start]})))
            for piece in split_text(json.dumps(call.arguments), 3):
                delta = {"tool_calls": [{"index": i, "function": {"arguments": piece}}]}
                events.append(StreamEvent(self.chunk(delta), content=True))
        events.append(StreamEvent(self.chunk({}, self.finish_reason(reply))))
        if self.include_usage:
            usage_chunk = {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "service_tier": "default",
                "system_fingerprint": "fp_fake",
                "choices": [],
                "usage": self.usage(reply),
            }
            events.append(StreamEvent(sse(usage_chunk)))
        events.append(StreamEvent(sse("[DONE]")))
        return StreamPlan(events, error_event=self.error_event)

    def error_event(self, error: MidStreamError, events_sent: int) -> bytes:
        return sse(
            {
                "error": {
                    "message": error.message,
                    "type": error.error_type or "server_error",
                    "param": None,
                    "code": None,
                }
            }
        )


class ResponsesRender:
    """Responses API shapes for one request, with the real streaming event sequence."""

    def __init__(
        self,
        request_body: dict[str, Any],
        default_text: str,
        input_tokens: int,
        on_complete: Any,
        seal: ReasoningSeal = PROCESS_SEAL,
    ) -> None:
        self.request = request_body
        self.seal = seal
        self.default_text = default_text
        self.input_tokens = input_tokens
        self.on_complete = on_complete
        self.id = new_id("resp_")
        self.created = int(time.time())
        self.sequence = 0

    def envelope(self, status: str, output: list[dict[str, Any]], usage: Any) -> dict[str, Any]:
        body = self.request
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created,
            "status": status,
            "background": False,
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": body["model"],
            "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
            "store": body.get("store", True),
            "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools", []),
            "top_p": body.get("top_p", 1.0),
            "truncation": body.get("truncation", "disabled"),
            "usage": usage,
            "user": body.get("user"),
            "metadata": body.get("metadata") or {},
        }

    def usage(self, reply: Reply) -> dict[str, Any]:
        if reply.usage is not None:
            u = reply.usage
            inp, out, cached, reasoning = (
                u.input_tokens, u.output_tokens, u.cached_tokens, u.reasoning_tokens,
            )  # fmt: skip
        else:
            reasoning = estimate_tokens(reply.reasoning or "")
            out = estimate_tokens(reply_text(reply, self.default_text)) + reasoning
            out += sum(estimate_tokens(call_text(c)) for c in reply.tool_calls)
            inp, cached = self.input_tokens, 0
        return {
            "input_tokens": inp,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": out,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": inp + out,
        }

    def items(self, reply: Reply) -> list[dict[str, Any]]:
        """Completed output items: reasoning, message (when there is text), function calls."""
        output: list[dict[str, Any]] = []
        if reply.reasoning is not None:
            item: dict[str, Any] = {
                "id": new_id("rs_"),
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": reply.reasoning}],
            }
            if "reasoning.encrypted_content" in (self.request.get("include") or []):
                item["encrypted_content"] = self.seal.encrypt(reply.reasoning)
            output.append(item)
        text = reply_text(reply, self.default_text)
        if text or not reply.tool_calls:
            output.append(
                {
                    "id": new_id("msg_"),
                    "type": "message",
                    "status": "completed",
                    "role": "assistant",
                    "content": [
                        {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
                    ],
                }
            )
        for i, call in enumerate(reply.tool_calls):
            output.append(call_item(call, i))
        return output

    def finished(self, reply: Reply, items: list[dict[str, Any]]) -> dict[str, Any]:
        """The final response: "incomplete" (with its reason) when the Reply's stop_reason
        is an incomplete_details reason such as "max_output_tokens", else "completed"."""
        if reply.stop_reason is None:
            return self.envelope("completed", items, self.usage(reply))
        response = self.envelope("incomplete", items, self.usage(reply))
        response["incomplete_details"] = {"reason": reply.stop_reason}
        return response

    def final(self, reply: Reply) -> dict[str, Any]:
        response = self.finished(reply, self.items(reply))
        self.on_complete(response)
        return response

    def event(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return sse(payload, event=kind)

    def plan(self, reply: Reply) -> StreamPlan:
        items = self.items(reply)
        final = self.finished(reply, items)
        self.on_complete(final)
        pending = self.envelope("in_progress", [], None)
        ev = [
            StreamEvent(self.event("response.created", response=pending)),
            StreamEvent(self.event("response.in_progress", response=pending)),
        ]
        for index, item in enumerate(items):
            ev.extend(self.item_events(index, item, reply))
        terminal = "response.completed" if final["status"] == "completed" else "response.incomplete"
        ev.append(StreamEvent(self.event(terminal, response=final)))
        return StreamPlan(ev, error_event=self.error_event)

    def item_events(self, index: int, item: dict[str, Any], reply: Reply) -> list[StreamEvent]:
        kind, item_id = item["type"], item["id"]
        ev: list[StreamEvent] = []
        if kind == "reasoning":
            text = item["summary"][0]["text"]
            ev.append(StreamEvent(self.event(
                "response.output_item.added", output_index=index, item={**item, "summary": []}
            )))  # fmt: skip
            where = {"item_id": item_id, "output_index": index, "summary_index": 0}
            ev.append(StreamEvent(self.event(
                "response.reasoning_summary_part.added", **where,
                part={"type": "summary_text", "text": ""},
            )))  # fmt: skip
            for piece in split_text(text, None):
                ev.append(StreamEvent(
                    self.event("response.reasoning_summary_text.delta", **where, delta=piece),
                    content=True,
                ))  # fmt: skip
            ev.append(StreamEvent(self.event(
                "response.reasoning_summary_text.done", **where, text=text
            )))  # fmt: skip
            ev.append(StreamEvent(self.event(
                "response.reasoning_summary_part.done", **where,
                part={"type": "summary_text", "text": text},
            )))  # fmt: skip
        elif kind == "message":
            text = item["content"][0]["text"]
            added = {**item, "status": "in_progress", "content": []}
            ev.append(StreamEvent(self.event(
                "response.output_item.added", output_index=index, item=added
            )))  # fmt: skip
            where = {"item_id": item_id, "output_index": index, "content_index": 0}
            empty_part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            ev.append(StreamEvent(self.event(
                "response.content_part.added", **where, part=empty_part
            )))  # fmt: skip
            for piece in reply_deltas(reply, self.default_text):
                ev.append(StreamEvent(
                    self.event("response.output_text.delta", **where, delta=piece, logprobs=[]),
                    content=True,
                ))  # fmt: skip
            ev.append(StreamEvent(self.event(
                "response.output_text.done", **where, text=text, logprobs=[]
            )))  # fmt: skip
            ev.append(StreamEvent(self.event(
                "response.content_part.done", **where, part=item["content"][0]
            )))  # fmt: skip
        elif kind == "custom_tool_call":
            ev += self.custom_call_events(index, item)
        else:
            added = {**item, "status": "in_progress", "arguments": ""}
            ev.append(StreamEvent(self.event(
                "response.output_item.added", output_index=index, item=added
            )))  # fmt: skip
            for piece in split_text(item["arguments"], 3):
                ev.append(StreamEvent(self.event(
                    "response.function_call_arguments.delta",
                    item_id=item_id, output_index=index, delta=piece,
                ), content=True))  # fmt: skip
            ev.append(StreamEvent(self.event(
                "response.function_call_arguments.done",
                item_id=item_id, output_index=index, arguments=item["arguments"],
            )))  # fmt: skip
        ev.append(
            StreamEvent(self.event("response.output_item.done", output_index=index, item=item))
        )
        return ev

    def custom_call_events(self, index: int, item: dict[str, Any]) -> list[StreamEvent]:
        """A custom tool call streams its raw input, then the whole input once more."""
        added = {**item, "status": "in_progress", "input": ""}
        where = {"item_id": item["id"], "output_index": index}
        ev = [StreamEvent(self.event("response.output_item.added", output_index=index, item=added))]
        for piece in split_text(item["input"], 3):
            ev.append(StreamEvent(
                self.event("response.custom_tool_call_input.delta", **where, delta=piece),
                content=True,
            ))  # fmt: skip
        ev.append(StreamEvent(
            self.event("response.custom_tool_call_input.done", **where, input=item["input"])
        ))  # fmt: skip
        return ev

    def error_event(self, error: MidStreamError, events_sent: int) -> bytes:
        failed = self.envelope("failed", [], None)
        failed["error"] = {"code": error.error_type or "server_error", "message": error.message}
        self.sequence = events_sent
        return self.event("response.failed", response=failed)


def responses_render(
    body: dict[str, Any],
    items: list[dict[str, Any]],
    on_complete: Any,
    seal: ReasoningSeal = PROCESS_SEAL,
) -> ResponsesRender:
    """The renderer of one checked Responses request: echoes the last user text and
    estimates input tokens from the instructions and every input item."""
    last_user = ""
    input_text = str(body.get("instructions") or "")
    for item in items:
        text = text_of(item.get("content")) or str(item.get("output", ""))
        input_text += text + str(item.get("arguments", ""))
        if item.get("role") == "user":
            last_user = text
    return ResponsesRender(
        request_body=body,
        default_text=f"echo: {last_user}",
        input_tokens=estimate_tokens(input_text) + 4 * len(items),
        on_complete=on_complete,
        seal=seal,
    )


def main() -> None:
    run_standalone(lambda keys: OpenAIFake(keys))


if __name__ == "__main__":
    main()
