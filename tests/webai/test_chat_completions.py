"""Chat completions through the real g4f client path with offline test providers."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import openai
import pytest

from tests.webai.g4f_test_providers import EVENTS
from tests.webai.helpers import CHAT_PATH, KEY, auth_headers, chat_body


async def post_chat(base_url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(base_url + CHAT_PATH, json=body, headers=auth_headers()) as response,
    ):
        return response.status, await response.json()


async def stream_events(base_url: str, body: dict[str, Any]) -> tuple[int, str, list[str]]:
    """POST a streaming request; returns status, content type and the SSE data payloads."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(base_url + CHAT_PATH, json=body, headers=auth_headers()) as response,
    ):
        text = await response.text()
        events = [
            line.removeprefix("data: ") for line in text.split("\n\n") if line.startswith("data: ")
        ]
        return response.status, response.headers["Content-Type"], events


async def test_non_stream_returns_chat_completion(start_service: Any) -> None:
    base_url = await start_service("FixedText")
    status, body = await post_chat(base_url, chat_body())
    assert status == 200
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-webai"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hello, world"}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert isinstance(body["usage"]["total_tokens"], int)


async def test_stream_emits_openai_chunks_then_done(start_service: Any) -> None:
    base_url = await start_service("FixedText")
    status, content_type, events = await stream_events(base_url, chat_body(stream=True))
    assert status == 200
    assert content_type.startswith("text/event-stream")
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert {chunk["model"] for chunk in chunks} == {"gpt-webai"}
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks)
    assert text == "Hello, world"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"][0]["delta"] == {}
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks[:-1])


async def test_openai_sdk_parses_non_stream_and_stream(start_service: Any) -> None:
    base_url = await start_service("FixedText")
    client = openai.AsyncOpenAI(base_url=base_url + "/v1", api_key=KEY, max_retries=0)
    async with client:
        completion = await client.chat.completions.create(
            model="gpt-webai", messages=[{"role": "user", "content": "hi"}]
        )
        assert completion.choices[0].message.content == "Hello, world"
        assert completion.choices[0].finish_reason == "stop"

        stream = await client.chat.completions.create(
            model="gpt-webai", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        pieces, finish_reasons = [], []
        async for chunk in stream:
            pieces.append(chunk.choices[0].delta.content or "")
            finish_reasons.append(chunk.choices[0].finish_reason)
        assert "".join(pieces) == "Hello, world"
        assert finish_reasons[-1] == "stop"


@pytest.mark.parametrize("stream", [False, True])
async def test_falls_back_to_next_provider_when_first_raises(
    start_service: Any, stream: bool
) -> None:
    base_url = await start_service("Broken", "FixedText")
    client = openai.AsyncOpenAI(base_url=base_url + "/v1", api_key=KEY, max_retries=0)
    async with client:
        if stream:
            chunks = await client.chat.completions.create(
                model="gpt-webai", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            text = "".join([chunk.choices[0].delta.content or "" async for chunk in chunks])
        else:
            completion = await client.chat.completions.create(
                model="gpt-webai", messages=[{"role": "user", "content": "hi"}]
            )
            text = completion.choices[0].message.content
    assert text == "Hello, world"


@pytest.mark.parametrize("stream", [False, True])
async def test_each_provider_gets_an_unmutated_copy_of_the_messages(
    start_service: Any, stream: bool
) -> None:
    base_url = await start_service("MutateThenRaise", "EchoLastMessage")
    body = chat_body(stream=stream, content="original question")
    if stream:
        _, _, events = await stream_events(base_url, body)
        text = "".join(
            json.loads(event)["choices"][0]["delta"].get("content") or "" for event in events[:-1]
        )
    else:
        _, completion = await post_chat(base_url, body)
        text = completion["choices"][0]["message"]["content"]
    assert text == "1:original question"


@pytest.mark.parametrize("stream", [False, True])
async def test_all_providers_failing_gives_502_with_each_reason(
    start_service: Any, stream: bool
) -> None:
    base_url = await start_service("Broken", "AlsoBroken")
    status, body = await post_chat(base_url, chat_body(stream=stream))
    assert status == 502
    error = body["error"]
    assert error["type"] == "upstream_error"
    assert "Broken: RuntimeError: broken provider exploded" in error["message"]
    assert "AlsoBroken: ValueError: second provider refused" in error["message"]
    assert "Traceback" not in error["message"]


async def test_provider_without_text_counts_as_failure(start_service: Any) -> None:
    base_url = await start_service("Silent")
    status, body = await post_chat(base_url, chat_body())
    assert status == 502
    assert "Silent: empty response" in body["error"]["message"]


async def test_openai_sdk_sees_502_as_api_status_error(start_service: Any) -> None:
    base_url = await start_service("Broken")
    client = openai.AsyncOpenAI(base_url=base_url + "/v1", api_key=KEY, max_retries=0)
    async with client:
        with pytest.raises(openai.APIStatusError) as caught:
            await client.chat.completions.create(
                model="gpt-webai", messages=[{"role": "user", "content": "hi"}]
            )
    assert caught.value.status_code == 502
    assert "broken provider exploded" in caught.value.message


@pytest.mark.parametrize("stream", [False, True])
async def test_timeout_gives_504_and_cancels_the_provider(start_service: Any, stream: bool) -> None:
    base_url = await start_service("Hang", timeout=0.3)
    status, body = await post_chat(base_url, chat_body(stream=stream))
    assert status == 504
    assert body["error"]["type"] == "timeout_error"
    assert "Hang: timed out after 0.3s" in body["error"]["message"]
    assert "Hang:cancelled" in EVENTS


async def test_failure_after_stream_started_ends_with_error_event(start_service: Any) -> None:
    base_url = await start_service("FailMidStream", "FixedText")
    status, _, events = await stream_events(base_url, chat_body(stream=True))
    assert status == 200
    chunks = [json.loads(event) for event in events]
    assert "[DONE]" not in events
    assert chunks[1]["choices"][0]["delta"]["content"] == "partial answer"
    error = chunks[-1]["error"]
    assert error["type"] == "upstream_error"
    assert "FailMidStream: RuntimeError: lost the upstream connection" in error["message"]


async def test_openai_sdk_raises_on_mid_stream_error(start_service: Any) -> None:
    base_url = await start_service("FailMidStream")
    client = openai.AsyncOpenAI(base_url=base_url + "/v1", api_key=KEY, max_retries=0)
    received = []
    async with client:
        stream = await client.chat.completions.create(
            model="gpt-webai", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        with pytest.raises(openai.APIError, match="lost the upstream connection"):
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "partial answer"


async def test_stall_after_stream_started_ends_with_timeout_event(start_service: Any) -> None:
    base_url = await start_service("StallMidStream", timeout=0.3)
    status, _, events = await stream_events(base_url, chat_body(stream=True))
    assert status == 200
    error = json.loads(events[-1])["error"]
    assert error["type"] == "timeout_error"
    assert "no data for 0.3s" in error["message"]
    assert "StallMidStream:cancelled" in EVENTS
