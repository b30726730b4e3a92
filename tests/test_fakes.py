"""Self-tests of the fake upstreams: wire format, strictness, scripting, disconnects.

The openai_fake / anthropic_fake / gemini_fake fixtures come from tests.fakes.fixtures,
registered in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from tests.conftest import closing_genai
from tests.fakes.anthropic import CLAUDE_CODE_SYSTEM, AnthropicFake
from tests.fakes.behaviours import (
    Delay,
    Drop,
    Garbage,
    Hang,
    MidStreamError,
    Reply,
    Stall,
    Status,
    Stream,
    ToolCall,
    Usage,
)
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake

REPO_ROOT = Path(__file__).resolve().parents[1]
USER_HI = [{"role": "user", "content": "hi there"}]


def sdk(fake: OpenAIFake, **options: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=fake.base_url + "/v1", api_key=fake.key, max_retries=0, **options
    )


async def post(
    fake: Any, path: str, body: Any, headers: dict[str, str]
) -> tuple[int, dict[str, str], Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.base_url + path, json=body, headers=headers) as response,
    ):
        raw = await response.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw
        return response.status, dict(response.headers), parsed


async def sse_lines(fake: Any, path: str, body: Any, headers: dict[str, str]) -> list[str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.base_url + path, json=body, headers=headers) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        text = (await response.read()).decode()
    return [line for line in text.split("\n") if line]


def bearer(fake: OpenAIFake) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.key}"}


# OpenAI: chat completions --------------------------------------------------------------


async def test_openai_chat_default_echo_and_usage(openai_fake: OpenAIFake) -> None:
    result = await sdk(openai_fake).chat.completions.create(model="gpt-x", messages=USER_HI)
    assert result.choices[0].message.content == "echo: hi there"
    assert result.model == "gpt-x"
    assert result.choices[0].finish_reason == "stop"
    assert result.usage is not None and result.usage.prompt_tokens > 0
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    recorded = openai_fake.last_request
    assert recorded.method == "POST" and recorded.path == "/v1/chat/completions"
    assert recorded.json["messages"] == USER_HI
    assert recorded.headers["Authorization"] == f"Bearer {openai_fake.key}"
    assert recorded.status == 200


async def test_openai_chat_stream_with_usage_and_done(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(Stream(chunks=4, interval=0.001))
    body = {
        "model": "m",
        "messages": USER_HI,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    lines = await sse_lines(openai_fake, "/v1/chat/completions", body, bearer(openai_fake))
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "w0 w1 w2 w3"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


async def test_openai_chat_tool_calls_parse_in_sdk_stream(openai_fake: OpenAIFake) -> None:
    calls = [ToolCall("get_weather", {"city": "Paris"}), ToolCall("get_time", {"tz": "UTC"})]
    openai_fake.script.push(Reply(text="", tool_calls=calls), times=2)
    client = sdk(openai_fake)
    whole = await client.chat.completions.create(model="m", messages=USER_HI)
    assert whole.choices[0].finish_reason == "tool_calls"
    got = [
        (c.function.name, json.loads(c.function.arguments))
        for c in whole.choices[0].message.tool_calls
    ]
    assert got == [("get_weather", {"city": "Paris"}), ("get_time", {"tz": "UTC"})]
    stream = await client.chat.completions.create(model="m", messages=USER_HI, stream=True)
    arguments: dict[int, str] = {}
    async for chunk in stream:
        for call in chunk.choices[0].delta.tool_calls or []:
            arguments[call.index] = arguments.get(call.index, "") + (call.function.arguments or "")
    assert json.loads(arguments[1]) == {"tz": "UTC"}


async def test_openai_reply_usage_override(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(Reply(text="x", usage=Usage(10, 20, cached_tokens=3)))
    result = await sdk(openai_fake).chat.completions.create(model="m", messages=USER_HI)
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (10, 20)
    assert result.usage.prompt_tokens_details.cached_tokens == 3


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            {"model": "m", "messages": USER_HI, "foo": 1},
            "Unrecognized request argument supplied: foo",
        ),
        ({"messages": USER_HI}, "you must provide a model parameter"),
        ({"model": "m"}, "Missing required parameter: 'messages'"),
        ({"model": "m", "messages": []}, "empty array"),
        ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "Invalid value: 'robot'"),
        (
            {
                "model": "m",
                "messages": [*USER_HI, {"role": "tool", "tool_call_id": "c1", "content": "r"}],
            },
            "must be a response to a preceeding message with 'tool_calls'",
        ),
        (
            {
                "model": "m",
                "messages": [
                    *USER_HI,
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "c1",
                                "type": "function",
                                "function": {"name": "f", "arguments": "{}"},
                            }
                        ],
                    },
                    {"role": "user", "content": "and?"},
                ],
            },
            "did not have response messages: c1",
        ),
        (
            {"model": "m", "messages": USER_HI, "stream_options": {"include_usage": True}},
            "only allowed when 'stream'",
        ),
        (
            {
                "model": "m",
                "messages": USER_HI,
                "tools": [{"type": "function", "function": {"name": "a" * 65}}],
            },
            "maximum length 64",
        ),
        (
            {
                "model": "m",
                "messages": USER_HI,
                "tools": [{"type": "function", "function": {"name": "a.b"}}],
            },
            "does not match pattern",
        ),
    ],
)
async def test_openai_chat_rejects_invalid_requests(
    openai_fake: OpenAIFake, body: dict[str, Any], fragment: str
) -> None:
    status, _, payload = await post(openai_fake, "/v1/chat/completions", body, bearer(openai_fake))
    assert status == 400
    assert fragment in payload["error"]["message"]
    assert payload["error"]["type"] == "invalid_request_error"
    assert set(payload["error"]) == {"message", "type", "param", "code"}


async def test_openai_chat_accepts_answered_tool_call(openai_fake: OpenAIFake) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        *USER_HI,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
    ]
    status, _, _ = await post(
        openai_fake,
        "/v1/chat/completions",
        {"model": "m", "messages": messages},
        bearer(openai_fake),
    )
    assert status == 200


async def test_openai_auth_required(openai_fake: OpenAIFake) -> None:
    body = {"model": "m", "messages": USER_HI}
    status, _, payload = await post(openai_fake, "/v1/chat/completions", body, {})
    assert status == 401 and "didn't provide an API key" in payload["error"]["message"]
    wrong = {"Authorization": "Bearer sk-wrong-key-123456"}
    status, _, payload = await post(openai_fake, "/v1/chat/completions", body, wrong)
    assert status == 401 and payload["error"]["code"] == "invalid_api_key"
    assert "sk-wrong-key-123456" not in payload["error"]["message"]


async def test_openai_models_list(openai_fake: OpenAIFake) -> None:
    models = await sdk(openai_fake).models.list()
    assert "gpt-4o" in [m.id for m in models.data]


# OpenAI: scripted failures -------------------------------------------------------------


async def test_status_429_with_retry_after_then_default(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(Status(429, retry_after=7), times=2)
    client = sdk(openai_fake)
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(model="m", messages=USER_HI)
        assert caught.value.response.headers["Retry-After"] == "7"
    result = await client.chat.completions.create(model="m", messages=USER_HI)
    assert result.choices[0].message.content == "echo: hi there"
    assert [r.status for r in openai_fake.requests] == [429, 429, 200]


async def test_always_and_path_filtered_entries(openai_fake: OpenAIFake) -> None:
    openai_fake.script.always(Status(503))
    openai_fake.script.push(Reply(text="models ok"), path="/v1/chat/completions")
    client = sdk(openai_fake)
    with pytest.raises(openai.InternalServerError):
        await client.models.list()
    result = await client.chat.completions.create(model="m", messages=USER_HI)
    assert result.choices[0].message.content == "models ok"
    with pytest.raises(openai.InternalServerError):
        await client.chat.completions.create(model="m", messages=USER_HI)


async def test_hang_detects_client_disconnect(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(Hang())
    with pytest.raises(openai.APITimeoutError):
        await sdk(openai_fake, timeout=0.2).chat.completions.create(model="m", messages=USER_HI)
    await openai_fake.wait_for_disconnect(1, timeout=2)
    assert openai_fake.last_request.disconnected
    await openai_fake.wait_idle(timeout=2)
    assert openai_fake.active_requests == 0


async def test_stall_mid_stream_then_client_leaves(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(Stall(after_chunks=2))
    body = {"model": "m", "messages": USER_HI, "stream": True}
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            openai_fake.base_url + "/v1/chat/completions", json=body, headers=bearer(openai_fake)
        )
        received = b""
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                async for piece in response.content.iter_any():
                    received += piece
        assert openai_fake.active_requests == 1
        response.close()
    assert b'"content":"w0"' in received and b'"content":" w1"' in received
    assert b"w2" not in received
    await openai_fake.wait_for_disconnect(1, timeout=2)


async def test_drop_mid_stream_is_not_a_client_disconnect(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(Drop(after_chunks=2))
    stream = await sdk(openai_fake).chat.completions.create(
        model="m", messages=USER_HI, stream=True
    )
    seen = []
    with pytest.raises(openai.APIConnectionError):
        async for chunk in stream:
            seen.append(chunk.choices[0].delta.content)
    assert seen[1:] == ["w0", " w1"]
    await openai_fake.wait_idle(timeout=2)
    assert openai_fake.last_request.dropped_by_fake
    assert openai_fake.disconnect_count == 0


async def test_drop_before_headers(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(Drop())
    with pytest.raises(openai.APIConnectionError):
        await sdk(openai_fake).chat.completions.create(model="m", messages=USER_HI)


async def test_garbage_and_mid_stream_error(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(Garbage())
    status, _, payload = await post(
        openai_fake,
        "/v1/chat/completions",
        {"model": "m", "messages": USER_HI},
        bearer(openai_fake),
    )
    assert status == 200 and isinstance(payload, bytes)
    openai_fake.script.push(MidStreamError(after_chunks=1, message="boom"))
    body = {"model": "m", "messages": USER_HI, "stream": True}
    lines = await sse_lines(openai_fake, "/v1/chat/completions", body, bearer(openai_fake))
    assert json.loads(lines[-1][6:])["error"]["message"] == "boom"
    assert "data: [DONE]" not in lines


async def test_delay_before_headers(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(Delay(0.2, then=Reply(text="late")))
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await sdk(openai_fake).chat.completions.create(model="m", messages=USER_HI)
    assert result.choices[0].message.content == "late"
    assert loop.time() - started >= 0.2


# OpenAI: Responses API -----------------------------------------------------------------

RESPONSES_ORDER = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "response.reasoning_summary_part.done",
    "response.output_item.done",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.output_item.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "response.completed",
]


async def test_responses_stream_event_order_in_sdk(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(
        Reply(text="hello", reasoning="thinking", tool_calls=[ToolCall("lookup", {"q": 1})])
    )
    stream = await sdk(openai_fake).responses.create(model="gpt-5", input="hi", stream=True)
    events = [event async for event in stream]
    kinds = [e.type for e in events]
    collapsed = [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1]]
    assert collapsed == RESPONSES_ORDER
    assert [e.sequence_number for e in events] == list(range(len(events)))
    final = events[-1].response
    assert final.output_text == "hello"
    assert final.output[2].name == "lookup" and json.loads(final.output[2].arguments) == {"q": 1}


async def test_responses_non_stream_and_function_call_output(openai_fake: OpenAIFake) -> None:
    client = sdk(openai_fake)
    result = await client.responses.create(model="gpt-5", input="ping")
    assert result.output_text == "echo: ping" and result.usage is not None
    items = [
        {"role": "user", "content": "go"},
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "done"},
    ]
    result = await client.responses.create(model="gpt-5", input=items)
    assert result.status == "completed"
    with pytest.raises(openai.BadRequestError, match="No tool call found"):
        await client.responses.create(model="gpt-5", input=[items[0], items[2]])
    with pytest.raises(openai.BadRequestError, match="Unknown parameter"):
        await client.responses.create(model="gpt-5", input="x", extra_body={"bogus": 1})


async def test_previous_response_id_links_function_calls(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(Reply(text="", tool_calls=[ToolCall("f", {}, id="call_9")]))
    client = sdk(openai_fake)
    first = await client.responses.create(model="gpt-5", input="go")
    output = [{"type": "function_call_output", "call_id": "call_9", "output": "ok"}]
    second = await client.responses.create(
        model="gpt-5", input=output, previous_response_id=first.id
    )
    assert second.status == "completed"


# Standalone process --------------------------------------------------------------------


async def test_standalone_process_prints_port_and_serves() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.openai", "--port", "0", "--print-port",
        "--mode", "instant",
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO_ROOT,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        port = int(await asyncio.wait_for(process.stdout.readline(), 10))
        headers = {"Authorization": f"Bearer {OpenAIFake.default_keys[0]}"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{port}/v1/chat/completions",
                json={"model": "m", "messages": USER_HI},
                headers=headers,
            ) as response,
        ):
            payload = await response.json()
        assert payload["choices"][0]["message"]["content"] == "ok"
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0


# Anthropic -----------------------------------------------------------------------------

CLAUDE_HI = [{"role": "user", "content": "hi there"}]


def claude(fake: AnthropicFake, **options: Any) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        base_url=fake.base_url, api_key=fake.key, max_retries=0, **options
    )


def claude_headers(fake: AnthropicFake) -> dict[str, str]:
    return {"x-api-key": fake.key, "anthropic-version": "2023-06-01"}


async def test_anthropic_default_echo(anthropic_fake: AnthropicFake) -> None:
    message = await claude(anthropic_fake).messages.create(
        model="claude-x", max_tokens=100, messages=CLAUDE_HI
    )
    assert message.content[0].text == "echo: hi there"
    assert message.model == "claude-x" and message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert "anthropic-version" in anthropic_fake.last_request.headers


async def test_anthropic_stream_event_order_and_sdk_assembly(
    anthropic_fake: AnthropicFake,
) -> None:
    calls = [ToolCall("get_weather", {"city": "Paris"}), ToolCall("get_time", {"tz": "UTC"})]
    anthropic_fake.script.push(
        Reply(text="hello there", reasoning="let me think", tool_calls=calls)
    )
    kinds: list[str] = []
    async with claude(anthropic_fake).messages.stream(
        model="claude-x", max_tokens=4096, messages=CLAUDE_HI
    ) as stream:
        async for item in stream:
            if item.type in ("content_block_delta",):
                kinds.append(f"delta:{item.delta.type}")
            elif item.type in ("message_start", "content_block_start", "content_block_stop",
                               "message_delta", "message_stop"):  # fmt: skip
                kinds.append(item.type)
        final = await stream.get_final_message()
    collapsed = [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1]]
    assert collapsed == [
        "message_start",
        "content_block_start", "delta:thinking_delta", "delta:signature_delta",
        "content_block_stop",
        "content_block_start", "delta:text_delta", "content_block_stop",
        "content_block_start", "delta:input_json_delta", "content_block_stop",
        "content_block_start", "delta:input_json_delta", "content_block_stop",
        "message_delta", "message_stop",
    ]  # fmt: skip
    assert [b.type for b in final.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert final.content[1].text == "hello there"
    assert final.content[3].input == {"tz": "UTC"} and final.stop_reason == "tool_use"
    assert final.content[0].signature == anthropic_fake.sign("let me think")


async def test_anthropic_raw_stream_has_ping_after_first_block(
    anthropic_fake: AnthropicFake,
) -> None:
    body = {"model": "m", "max_tokens": 10, "messages": CLAUDE_HI, "stream": True}
    lines = await sse_lines(anthropic_fake, "/v1/messages", body, claude_headers(anthropic_fake))
    events = [line[7:] for line in lines if line.startswith("event: ")]
    assert events[:3] == ["message_start", "content_block_start", "ping"]
    assert events[-2:] == ["message_delta", "message_stop"]


async def test_anthropic_thinking_signature_round_trip(anthropic_fake: AnthropicFake) -> None:
    anthropic_fake.script.push(Reply(text="", reasoning="deep", tool_calls=[ToolCall("f", {})]))
    client = claude(anthropic_fake)
    first = await client.messages.create(model="m", max_tokens=50, messages=CLAUDE_HI)
    history = [
        *CLAUDE_HI,
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": first.content[1].id, "content": "ok"}
        ]},
    ]  # fmt: skip
    again = await client.messages.create(model="m", max_tokens=50, messages=history)
    assert again.stop_reason == "end_turn"
    history[1]["content"][0]["signature"] = AnthropicFake().sign("deep")
    with pytest.raises(anthropic.BadRequestError, match="Invalid `signature`"):
        await client.messages.create(model="m", max_tokens=50, messages=history)


TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"model": "m", "max_tokens": 5, "messages": CLAUDE_HI, "foo": 1},
         "foo: Extra inputs are not permitted"),
        ({"model": "m", "messages": CLAUDE_HI}, "max_tokens: Field required"),
        ({"model": "m", "max_tokens": 5, "messages": [{"role": "assistant", "content": "x"}]},
         'first message must use the "user" role'),
        ({"model": "m", "max_tokens": 5,
          "messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]},
         "text content blocks must be non-empty"),
        ({"model": "m", "max_tokens": 5, "messages": [*CLAUDE_HI, {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "r"}]}]},
         "unexpected `tool_use_id`"),
        ({"model": "m", "max_tokens": 5, "messages": [
            *CLAUDE_HI, {"role": "assistant", "content": [TOOL_USE]}, *CLAUDE_HI]},
         "`tool_use` ids were found without `tool_result`"),
        ({"model": "m", "max_tokens": 5, "messages": [
            *CLAUDE_HI, {"role": "assistant", "content": [{**TOOL_USE, "id": "bad id!"}]}]},
         "tool_use.id: String should match pattern"),
        ({"model": "m", "max_tokens": 5, "messages": CLAUDE_HI,
          "tools": [{"name": "x" * 65, "input_schema": {"type": "object"}}]},
         "custom.name: String should match pattern"),
        ({"model": "m", "max_tokens": 5, "messages": [
            *CLAUDE_HI, {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "t", "signature": "forged"}]}]},
         "Invalid `signature`"),
        ({"model": "m", "max_tokens": 2000, "messages": CLAUDE_HI,
          "thinking": {"type": "enabled", "budget_tokens": 4000}},
         "`max_tokens` must be greater than `thinking.budget_tokens`"),
    ],
)  # fmt: skip
async def test_anthropic_rejects_invalid_requests(
    anthropic_fake: AnthropicFake, body: dict[str, Any], fragment: str
) -> None:
    status, _, payload = await post(
        anthropic_fake, "/v1/messages", body, claude_headers(anthropic_fake)
    )
    assert status == 400
    assert payload["type"] == "error"
    assert payload["error"]["type"] == "invalid_request_error"
    assert fragment in payload["error"]["message"]


async def test_anthropic_consecutive_user_turns_allowed(anthropic_fake: AnthropicFake) -> None:
    body = {"model": "m", "max_tokens": 5, "messages": [*CLAUDE_HI, *CLAUDE_HI]}
    status, _, _ = await post(anthropic_fake, "/v1/messages", body, claude_headers(anthropic_fake))
    assert status == 200


async def test_anthropic_auth_and_version_header(anthropic_fake: AnthropicFake) -> None:
    body = {"model": "m", "max_tokens": 5, "messages": CLAUDE_HI}
    status, _, payload = await post(anthropic_fake, "/v1/messages", body, {"x-api-key": "k"})
    assert status == 400 and "anthropic-version" in payload["error"]["message"]
    wrong = {"x-api-key": "sk-ant-wrong", "anthropic-version": "2023-06-01"}
    status, _, payload = await post(anthropic_fake, "/v1/messages", body, wrong)
    assert status == 401 and payload["error"]["type"] == "authentication_error"


async def test_anthropic_oauth_requires_beta_and_claude_code_system(
    anthropic_fake: AnthropicFake,
) -> None:
    base = {"Authorization": f"Bearer {anthropic_fake.oauth_token}",
            "anthropic-version": "2023-06-01"}  # fmt: skip
    with_beta = {**base, "anthropic-beta": "claude-code-20250219,oauth-2025-04-20"}
    body: dict[str, Any] = {"model": "m", "max_tokens": 5, "messages": CLAUDE_HI}
    status, _, payload = await post(anthropic_fake, "/v1/messages", body, base)
    assert status == 401 and "OAuth" in payload["error"]["message"]
    status, _, payload = await post(anthropic_fake, "/v1/messages", body, with_beta)
    assert (
        status == 400 and "only authorized for use with Claude Code" in payload["error"]["message"]
    )
    body["system"] = [
        {"type": "text", "text": CLAUDE_CODE_SYSTEM},
        {"type": "text", "text": "Be brief."},
    ]
    status, _, payload = await post(anthropic_fake, "/v1/messages", body, with_beta)
    assert status == 200 and payload["content"][0]["text"] == "echo: hi there"


async def test_anthropic_count_tokens_and_models(anthropic_fake: AnthropicFake) -> None:
    client = claude(anthropic_fake)
    small = await client.messages.count_tokens(model="m", messages=CLAUDE_HI)
    big = await client.messages.count_tokens(
        model="m", messages=[{"role": "user", "content": "word " * 100}]
    )
    assert 0 < small.input_tokens < big.input_tokens
    again = await client.messages.count_tokens(model="m", messages=CLAUDE_HI)
    assert again.input_tokens == small.input_tokens
    models = await client.models.list()
    assert models.data[0].id.startswith("claude-")


async def test_anthropic_scripted_errors(anthropic_fake: AnthropicFake) -> None:
    anthropic_fake.script.push(Status(429, retry_after=4), Status(529))
    client = claude(anthropic_fake)
    with pytest.raises(anthropic.RateLimitError) as rate_limited:
        await client.messages.create(model="m", max_tokens=5, messages=CLAUDE_HI)
    assert rate_limited.value.response.headers["retry-after"] == "4"
    assert rate_limited.value.body["error"]["type"] == "rate_limit_error"
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        await client.messages.create(model="m", max_tokens=5, messages=CLAUDE_HI)
    assert overloaded.value.status_code == 529
    assert overloaded.value.body["error"]["type"] == "overloaded_error"


async def test_anthropic_mid_stream_error_event(anthropic_fake: AnthropicFake) -> None:
    anthropic_fake.script.push(MidStreamError(after_chunks=2))
    body = {"model": "m", "max_tokens": 10, "messages": CLAUDE_HI, "stream": True}
    lines = await sse_lines(anthropic_fake, "/v1/messages", body, claude_headers(anthropic_fake))
    assert lines[-2] == "event: error"
    assert json.loads(lines[-1][6:])["error"]["type"] == "overloaded_error"
    assert sum(1 for line in lines if "text_delta" in line) == 2


async def test_anthropic_hang_disconnect(anthropic_fake: AnthropicFake) -> None:
    anthropic_fake.script.push(Hang(after_headers=True))
    with pytest.raises(anthropic.APITimeoutError):
        await claude(anthropic_fake, timeout=0.2).messages.create(
            model="m", max_tokens=5, messages=CLAUDE_HI
        )
    await anthropic_fake.wait_for_disconnect(1, timeout=2)


# Gemini --------------------------------------------------------------------------------

GEMINI_HI = {"contents": [{"role": "user", "parts": [{"text": "hi there"}]}]}
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"


def gemini_client(fake: GeminiFake) -> genai.Client:
    return genai.Client(
        api_key=fake.key,
        http_options=genai_types.HttpOptions(
            base_url=fake.base_url, retry_options=genai_types.HttpRetryOptions(attempts=1)
        ),
    )


def goog(fake: GeminiFake) -> dict[str, str]:
    return {"x-goog-api-key": fake.key}


async def test_gemini_sdk_generate_and_stream(gemini_fake: GeminiFake) -> None:
    async with closing_genai(gemini_client(gemini_fake)) as client:
        result = await client.aio.models.generate_content(
            model="gemini-2.5-flash", contents="hi there"
        )
        assert result.text == "echo: hi there"
        assert result.usage_metadata is not None and result.usage_metadata.prompt_token_count > 0
        gemini_fake.script.push(Stream(chunks=3))
        pieces = [
            chunk.text or ""
            async for chunk in await client.aio.models.generate_content_stream(
                model="gemini-2.5-flash", contents="hi"
            )
        ]
        assert "".join(pieces) == "w0 w1 w2"
        assert gemini_fake.last_request.query["alt"] == "sse"


async def test_gemini_thoughts_calls_and_signature_round_trip(gemini_fake: GeminiFake) -> None:
    gemini_fake.script.push(
        Reply(text="", reasoning="pondering", tool_calls=[ToolCall("a", {"x": 1}), ToolCall("b")],
              usage=Usage(5, 7, cached_tokens=2, reasoning_tokens=3))
    )  # fmt: skip
    status, _, payload = await post(gemini_fake, GENERATE, GEMINI_HI, goog(gemini_fake))
    assert status == 200
    parts = payload["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True and parts[0]["thoughtSignature"]
    assert [p["functionCall"]["name"] for p in parts[1:]] == ["a", "b"]
    usage = payload["usageMetadata"]
    assert (usage["thoughtsTokenCount"], usage["cachedContentTokenCount"]) == (3, 2)
    answer = {"role": "user", "parts": [
        {"functionResponse": {"name": "a", "response": {"ok": 1}}},
        {"functionResponse": {"name": "b", "response": {"ok": 2}}},
    ]}  # fmt: skip
    history = {"contents": [*GEMINI_HI["contents"], {"role": "model", "parts": parts}, answer]}
    status, _, _ = await post(gemini_fake, GENERATE, history, goog(gemini_fake))
    assert status == 200
    parts[1]["thoughtSignature"] = GeminiFake().issue_signature()
    status, _, payload = await post(gemini_fake, GENERATE, history, goog(gemini_fake))
    assert status == 400 and "thought signature" in payload["error"]["message"]


async def test_gemini_sse_and_array_streams(gemini_fake: GeminiFake) -> None:
    gemini_fake.script.push(Stream(chunks=2), times=2)
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    lines = await sse_lines(gemini_fake, path + "?alt=sse", GEMINI_HI, goog(gemini_fake))
    chunks = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert [c["candidates"][0].get("finishReason") for c in chunks] == [None, None, "STOP"]
    status, headers, payload = await post(gemini_fake, path, GEMINI_HI, goog(gemini_fake))
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert [c["candidates"][0]["content"]["parts"][0]["text"] for c in payload] == ["w0", " w1", ""]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({**GEMINI_HI, "foo": 1}, 'Unknown name "foo": Cannot find field.'),
        ({}, "contents is not specified"),
        ({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]},
         "valid role: user, model"),
        ({"contents": [{"role": "user", "parts": []}]}, "parts must not be empty"),
        ({**GEMINI_HI, "generationConfig": {"maxTokens": 5}},
         "Unknown name \"maxTokens\" at 'generation_config'"),
        ({**GEMINI_HI, "tools": [{"functionDeclarations": [{"name": "f", "parameters": {
            "type": "object", "additionalProperties": False}}]}]},
         "Unknown name \"additionalProperties\" at "
         "'tools[0].function_declarations[0].parameters'"),
        ({**GEMINI_HI, "tools": [{"functionDeclarations": [{"name": "f", "parameters": {
            "type": "object", "properties": {"a": {"type": "string", "$ref": "#/x"}}}}]}]},
         "Unknown name \"$ref\" at "
         "'tools[0].function_declarations[0].parameters.properties[0].value'"),
        ({"contents": [*GEMINI_HI["contents"], {"role": "user", "parts": [
            {"functionResponse": {"name": "f", "response": {}}}]}]},
         "function response turn comes immediately after a function call turn"),
        ({"contents": [*GEMINI_HI["contents"],
                       {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                       {"role": "user", "parts": [
                           {"functionResponse": {"name": "g", "response": {}}}]}]},
         "function response turn comes immediately after a function call turn"),
    ],
)  # fmt: skip
async def test_gemini_rejects_invalid_requests(
    gemini_fake: GeminiFake, body: dict[str, Any], fragment: str
) -> None:
    status, _, payload = await post(gemini_fake, GENERATE, body, goog(gemini_fake))
    assert status == 400
    assert payload["error"]["status"] == "INVALID_ARGUMENT" and payload["error"]["code"] == 400
    assert fragment in payload["error"]["message"]


async def test_gemini_snake_case_and_allowed_schema(gemini_fake: GeminiFake) -> None:
    body = {
        **GEMINI_HI,
        "system_instruction": {"parts": [{"text": "be brief"}]},
        "generation_config": {"max_output_tokens": 5, "thinking_config": {"thinking_budget": 0}},
        "tools": [{"functionDeclarations": [{"name": "f", "parameters": {
            "type": "OBJECT", "properties": {"a": {"type": "string", "enum": ["x"]}},
            "required": ["a"]}}]}],
    }  # fmt: skip
    status, _, _ = await post(gemini_fake, GENERATE, body, goog(gemini_fake))
    assert status == 200


async def test_gemini_auth(gemini_fake: GeminiFake) -> None:
    status, _, payload = await post(gemini_fake, GENERATE, GEMINI_HI, {})
    assert status == 403 and payload["error"]["status"] == "PERMISSION_DENIED"
    status, _, payload = await post(gemini_fake, GENERATE, GEMINI_HI, {"x-goog-api-key": "bad"})
    assert status == 400 and "API key not valid" in payload["error"]["message"]
    status, _, _ = await post(gemini_fake, f"{GENERATE}?key={gemini_fake.key}", GEMINI_HI, {})
    assert status == 200


async def test_gemini_errors_models_and_count(gemini_fake: GeminiFake) -> None:
    async with closing_genai(gemini_client(gemini_fake)) as client:
        gemini_fake.script.push(Status(429, retry_after=5), path=":generateContent")
        with pytest.raises(genai_errors.APIError) as caught:
            await client.aio.models.generate_content(model="gemini-2.5-flash", contents="hi")
        assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
        assert caught.value.details["error"]["details"][0]["retryDelay"] == "5s"
        models = [m.name async for m in await client.aio.models.list()]
        assert "models/gemini-2.5-pro" in models
        one = await client.aio.models.get(model="gemini-2.5-pro")
        assert one.display_name == "Gemini 2.5 Pro"
        counted = await client.aio.models.count_tokens(model="gemini-2.5-flash", contents="hello")
        assert counted.total_tokens and counted.total_tokens > 0


async def test_gemini_drop_mid_stream(gemini_fake: GeminiFake) -> None:
    gemini_fake.script.push(Drop(after_chunks=1))
    async with closing_genai(gemini_client(gemini_fake)) as client:
        seen = []
        with pytest.raises(Exception) as caught:
            async for chunk in await client.aio.models.generate_content_stream(
                model="gemini-2.5-flash", contents="hi"
            ):
                seen.append(chunk.text)
        assert seen == ["w0"]
        assert not isinstance(caught.value, AssertionError)
        await gemini_fake.wait_idle(timeout=2)
        assert gemini_fake.last_request.dropped_by_fake and gemini_fake.disconnect_count == 0


async def test_responses_mid_stream_failure_keeps_sequence(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(MidStreamError(after_chunks=2, message="overloaded"))
    body = {"model": "gpt-5", "input": "hi", "stream": True}
    lines = await sse_lines(openai_fake, "/v1/responses", body, bearer(openai_fake))
    events = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"]["message"] == "overloaded"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert sum(1 for e in events if e["type"] == "response.output_text.delta") == 2
    assert not any(e["type"] == "response.completed" for e in events)


async def test_gemini_array_stream_mid_error_is_valid_json(gemini_fake: GeminiFake) -> None:
    gemini_fake.script.push(MidStreamError(after_chunks=1, status=503, message="busy"))
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    status, _, payload = await post(gemini_fake, path, GEMINI_HI, goog(gemini_fake))
    assert status == 200
    assert payload[-1]["error"]["status"] == "UNAVAILABLE" and len(payload) == 2


async def test_wait_for_requests_and_active_count_while_hanging(
    anthropic_fake: AnthropicFake,
) -> None:
    anthropic_fake.script.push(Hang(), times=2)
    body = {"model": "m", "max_tokens": 5, "messages": CLAUDE_HI}
    calls = [
        asyncio.create_task(
            post(anthropic_fake, "/v1/messages", body, claude_headers(anthropic_fake))
        )
        for _ in range(2)
    ]
    await anthropic_fake.wait_for_requests(2, timeout=2)
    await asyncio.sleep(0.05)
    assert anthropic_fake.active_requests == 2
    for call in calls:
        call.cancel()
    await anthropic_fake.wait_for_disconnect(2, timeout=2)
    await anthropic_fake.wait_idle(timeout=2)


async def test_model_list_endpoints_follow_the_script(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(Hang())
    with pytest.raises(openai.APITimeoutError):
        await sdk(openai_fake, timeout=0.2).models.list()
    await openai_fake.wait_for_disconnect(1, timeout=2)
    assert openai_fake.last_request.path == "/v1/models"
