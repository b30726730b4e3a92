"""Self-tests of the fake Codex backend: strictness, event stream, scripted behaviours."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from router.formats import SSEParser
from tests.fakes.behaviours import MidStreamError, Reply, ToolCall, Usage
from tests.fakes.codex import PATH, CodexFake, CutStream, usage_limit

REPO_ROOT = Path(__file__).resolve().parents[2]
LONG_NAME = "tool_" + "x" * 60


@pytest.fixture
async def codex() -> AsyncIterator[CodexFake]:
    async with CodexFake(tokens={"tok-a": "acct-a", "tok-b": "acct-b"}) as fake:
        yield fake


def good_headers(token: str = "tok-a", account: str = "acct-a") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "chatgpt-account-id": account,
        "originator": "codex_cli_rs",
        "OpenAI-Beta": "responses=experimental",
        "session_id": "3f1c7a2e-0000-4000-8000-000000000001",
        "Accept": "text/event-stream",
    }


def good_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "gpt-5",
        "instructions": "Be brief.",
        "input": [{"type": "message", "role": "user", "content": "hello"}],
        "stream": True,
        "store": False,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


async def post(
    fake: CodexFake, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, str, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.base_url + PATH, json=body, headers=headers) as response,
    ):
        return response.status, response.headers.get("Content-Type", ""), await response.read()


def events(raw: bytes) -> list[dict[str, Any]]:
    parser = SSEParser()
    found = parser.feed(raw) + parser.close()
    payloads = [json.loads(e.data) for e in found]
    assert all(p["type"] == e.event for p, e in zip(payloads, found, strict=True))
    return payloads


def error_of(raw: bytes) -> dict[str, Any]:
    error = json.loads(raw)["error"]
    assert set(error) >= {"message", "type", "param", "code"}
    return error


async def test_streams_text_then_completed_with_usage(codex: CodexFake) -> None:
    codex.script.push(Reply(text="Hi there", usage=Usage(11, 7, cached_tokens=3)))
    status, content_type, raw = await post(codex, good_body(), good_headers())
    assert status == 200
    assert content_type.startswith("text/event-stream")
    kinds = [e["type"] for e in events(raw)]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.content_part.added" in kinds
    deltas = [e["delta"] for e in events(raw) if e["type"] == "response.output_text.delta"]
    assert "".join(deltas) == "Hi there"
    usage = events(raw)[-1]["response"]["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (11, 7)
    assert usage["input_tokens_details"]["cached_tokens"] == 3


async def test_parallel_tool_calls_and_reasoning(codex: CodexFake) -> None:
    codex.script.push(
        Reply(
            text="",
            reasoning="thinking it over",
            tool_calls=[ToolCall("get_weather", {"city": "Paris"}), ToolCall("get_time", {})],
        )
    )
    body = good_body(include=["reasoning.encrypted_content"])
    status, _, raw = await post(codex, body, good_headers())
    assert status == 200
    payloads = events(raw)
    added = [e["item"] for e in payloads if e["type"] == "response.output_item.added"]
    assert [i["type"] for i in added] == ["reasoning", "function_call", "function_call"]
    assert [i["name"] for i in added[1:]] == ["get_weather", "get_time"]
    args = "".join(
        e["delta"]
        for e in payloads
        if e["type"] == "response.function_call_arguments.delta" and e["output_index"] == 1
    )
    assert json.loads(args) == {"city": "Paris"}
    final = payloads[-1]["response"]["output"]
    assert final[0]["encrypted_content"]


async def test_cut_stream_ends_cleanly_without_completed(codex: CodexFake) -> None:
    codex.script.push(CutStream(after_chunks=2, reply=Reply(text="one two three four")))
    status, _, raw = await post(codex, good_body(), good_headers())
    assert status == 200
    payloads = events(raw)
    kinds = [e["type"] for e in payloads]
    assert "response.completed" not in kinds
    assert [e["delta"] for e in payloads if e["type"] == "response.output_text.delta"] == [
        "one ",
        "two ",
    ]


async def test_mid_stream_failure_is_response_failed(codex: CodexFake) -> None:
    codex.script.push(MidStreamError(after_chunks=1, message="backend overloaded"))
    _, _, raw = await post(codex, good_body(), good_headers())
    last = events(raw)[-1]
    assert last["type"] == "response.failed"
    assert last["response"]["error"]["message"] == "backend overloaded"


async def test_usage_limit_429(codex: CodexFake) -> None:
    codex.script.push(usage_limit(1234))
    status, _, raw = await post(codex, good_body(), good_headers())
    assert status == 429
    error = json.loads(raw)["error"]
    assert error["type"] == "usage_limit_reached"
    assert error["resets_in_seconds"] == 1234


@pytest.mark.parametrize(
    ("change", "status", "fragment"),
    [
        ({"Authorization": None}, 401, "Missing bearer"),
        ({"Authorization": "Bearer nope"}, 401, "Could not validate"),
        ({"chatgpt-account-id": None}, 400, "chatgpt-account-id"),
        ({"chatgpt-account-id": "acct-b"}, 403, "does not match"),
        ({"originator": None}, 400, "originator"),
        ({"OpenAI-Beta": None}, 400, "OpenAI-Beta"),
        ({"OpenAI-Beta": "assistants=v2"}, 400, "OpenAI-Beta"),
        ({"session_id": None}, 400, "session_id"),
    ],
)
async def test_rejects_bad_headers(
    codex: CodexFake, change: dict[str, str | None], status: int, fragment: str
) -> None:
    headers = {**good_headers(), **change}
    sent = {k: v for k, v in headers.items() if v is not None}
    got, _, raw = await post(codex, good_body(), sent)
    assert got == status
    assert fragment in error_of(raw)["message"]
    assert codex.script.pending == 0


async def test_expired_token_401_until_a_new_one_is_granted(codex: CodexFake) -> None:
    codex.expire("tok-a")
    status, _, raw = await post(codex, good_body(), good_headers())
    assert status == 401
    assert error_of(raw)["code"] == "token_expired"
    codex.grant("tok-a2", "acct-a")
    status, _, _ = await post(codex, good_body(), good_headers("tok-a2"))
    assert status == 200


async def test_second_account_token(codex: CodexFake) -> None:
    status, _, _ = await post(codex, good_body(), good_headers("tok-b", "acct-b"))
    assert status == 200


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"instructions": None}, "instructions"),
        ({"instructions": "  "}, "instructions"),
        ({"stream": None}, "stream"),
        ({"stream": False}, "stream"),
        ({"store": None}, "store"),
        ({"store": True}, "store"),
        ({"input": "hello"}, "input"),
        ({"max_output_tokens": 100}, "max_output_tokens"),
        ({"temperature": 0.2}, "temperature"),
        ({"top_p": 0.9}, "top_p"),
        ({"service_tier": "auto"}, "service_tier"),
        ({"previous_response_id": "resp_1"}, "previous_response_id"),
        ({"tools": [{"type": "function", "name": LONG_NAME, "parameters": {}}]}, "tools[0].name"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
        ({"surprise": 1}, "surprise"),
        ({"input": [{"type": "message", "role": "developer", "content": "x"}]}, "input[0].role"),
        ({"input": [{"role": "system", "content": "x"}]}, "input[0].role"),
    ],
)
async def test_rejects_bad_bodies(codex: CodexFake, change: dict[str, Any], param: str) -> None:
    body = good_body()
    for key, value in change.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    status, _, raw = await post(codex, body, good_headers())
    assert status == 400
    assert error_of(raw)["param"] == param


async def test_accepts_64_char_tool_name_and_records_requests(codex: CodexFake) -> None:
    name = "t" * 64
    body = good_body(tools=[{"type": "function", "name": name, "parameters": {}}])
    status, _, _ = await post(codex, body, good_headers())
    assert status == 200
    recorded = codex.last_request
    assert recorded.json["tools"][0]["name"] == name
    assert recorded.headers["session_id"] == good_headers()["session_id"]


async def test_runs_standalone() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.codex",
        "--port",
        "0",
        "--print-port",
        "--key",
        "tok-cli",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        port = int(line)
        headers = good_headers("tok-cli", "acct-test-0001")
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{port}{PATH}", json=good_body(), headers=headers) as r,
        ):
            assert r.status == 200
            assert events(await r.read())[-1]["type"] == "response.completed"
    finally:
        process.terminate()
        await process.wait()
