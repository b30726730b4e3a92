"""The fakes hold tool loops with reasoning to what the real services enforce."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.fakes.anthropic import AnthropicFake
from tests.fakes.behaviours import Reply, ToolCall
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake, encrypt_reasoning

CALL = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
RESULT = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1"}]}


async def post(url: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as r,
    ):
        return r.status, await r.json()


async def anthropic_turn(
    fake: AnthropicFake, assistant: list[dict], thinking: bool
) -> tuple[int, Any]:
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 4096,
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": assistant},
            RESULT,
        ],
    }
    if thinking:
        body["thinking"] = {"type": "enabled", "budget_tokens": 2048}
    headers = {"x-api-key": fake.key, "anthropic-version": "2023-06-01"}
    return await post(fake.base_url + "/v1/messages", body, headers)


async def test_anthropic_with_thinking_wants_the_tool_turn_to_start_with_thinking(
    anthropic_fake: AnthropicFake,
) -> None:
    status, body = await anthropic_turn(anthropic_fake, [CALL], thinking=True)
    assert status == 400
    assert "must start with a thinking block" in body["error"]["message"]
    status, _ = await anthropic_turn(anthropic_fake, [CALL], thinking=False)
    assert status == 200
    signed = {"type": "thinking", "thinking": "t", "signature": anthropic_fake.sign("t")}
    status, _ = await anthropic_turn(anthropic_fake, [signed, CALL], thinking=True)
    assert status == 200
    forged = {**signed, "thinking": "other"}
    status, body = await anthropic_turn(anthropic_fake, [forged, CALL], thinking=True)
    assert status == 400 and "signature" in body["error"]["message"]


async def gemini_turn(fake: GeminiFake, model: str, call: dict) -> tuple[int, Any]:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "q"}]},
            {"role": "model", "parts": [call]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
        ]
    }
    url = f"{fake.base_url}/v1beta/models/{model}:generateContent"
    return await post(url, body, {"x-goog-api-key": fake.key})


async def test_gemini_3_wants_a_signature_on_the_function_call(gemini_fake: GeminiFake) -> None:
    bare = {"functionCall": {"name": "f", "args": {}}}
    status, body = await gemini_turn(gemini_fake, "gemini-3-pro-preview", bare)
    assert status == 400 and "thought_signature" in body["error"]["message"]
    assert (await gemini_turn(gemini_fake, "gemini-2.5-flash", bare))[0] == 200
    for signature in (gemini_fake.issue_signature(), "skip_thought_signature_validator"):
        signed = {**bare, "thoughtSignature": signature}
        assert (await gemini_turn(gemini_fake, "gemini-3-pro-preview", signed))[0] == 200
    url_safe = gemini_fake.issue_signature().replace("+", "-").replace("/", "_").rstrip("=")
    assert gemini_fake.signature_is_ours(url_safe)  # as the SDKs send bytes back
    forged = {**bare, "thoughtSignature": "Zm9yZ2Vk"}
    assert (await gemini_turn(gemini_fake, "gemini-3-pro-preview", forged))[0] == 400


async def test_responses_checks_the_encrypted_reasoning_it_issued(openai_fake: OpenAIFake) -> None:
    openai_fake.script.always(Reply(text="ok"))

    async def turn(encrypted: str) -> int:
        body = {
            "model": "gpt-5",
            "input": [
                {"role": "user", "content": "q"},
                {"type": "reasoning", "summary": [], "encrypted_content": encrypted},
            ],
        }
        headers = {"Authorization": f"Bearer {openai_fake.key}"}
        return (await post(openai_fake.base_url + "/v1/responses", body, headers))[0]

    assert await turn(encrypt_reasoning("thought")) == 200
    assert await turn("bm90IG91cnM.deadbeef") == 400


async def test_chat_wants_the_reasoning_of_its_tool_call_turns_back(
    openai_fake: OpenAIFake,
) -> None:
    """As DeepSeek in thinking mode: reasoning_content given with a tool call must come back."""
    openai_fake.script.push(Reply(text="", reasoning="t", tool_calls=[ToolCall("f", {})]))
    openai_fake.script.always(Reply(text="ok"))
    headers = {"Authorization": f"Bearer {openai_fake.key}"}
    url = openai_fake.base_url + "/v1/chat/completions"
    question = {"role": "user", "content": "q"}
    status, first = await post(url, {"model": "gpt-4o", "messages": [question]}, headers)
    assert status == 200
    message = first["choices"][0]["message"]
    assert message["reasoning_content"] == "t"
    call_id = message["tool_calls"][0]["id"]

    async def turn(assistant: dict[str, Any]) -> tuple[int, Any]:
        result = {"role": "tool", "tool_call_id": call_id, "content": "r"}
        return await post(
            url, {"model": "gpt-4o", "messages": [question, assistant, result]}, headers
        )

    bare = {k: v for k, v in message.items() if k != "reasoning_content"}
    status, body = await turn(bare)
    assert status == 400
    assert "reasoning_content" in body["error"]["message"]
    assert (await turn(message))[0] == 200


async def test_responses_finds_no_reasoning_item_of_an_unstored_response(
    openai_fake: OpenAIFake,
) -> None:
    """As OpenAI: a reasoning item without encrypted content names a stored item; with
    store=false nothing was stored, so it is a 404."""
    openai_fake.script.push(Reply(text="", reasoning="t", tool_calls=[ToolCall("f", {})]))
    openai_fake.script.always(Reply(text="ok"))
    headers = {"Authorization": f"Bearer {openai_fake.key}"}
    url = openai_fake.base_url + "/v1/responses"
    question = {"role": "user", "content": "q"}
    body = {"model": "gpt-5", "input": [question], "store": False}
    status, first = await post(url, body, headers)
    assert status == 200
    reasoning, call = first["output"][0], first["output"][1]
    assert "encrypted_content" not in reasoning
    result = {"type": "function_call_output", "call_id": call["call_id"], "output": "r"}
    status, answer = await post(
        url, {**body, "input": [question, reasoning, call, result]}, headers
    )
    assert status == 404
    assert "not persisted" in answer["error"]["message"]
