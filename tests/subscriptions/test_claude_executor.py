"""The Claude subscription executor against the fake Anthropic API in OAuth mode."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from router.config.schema import Timeouts
from router.config.subscriptions import ClaudeSubscriptionConfig
from router.credentials import CredentialStore, StoredCredential, TokenKeeper
from router.formats.sse import SSEParser
from router.formats.toolnames import shorten_tool_name
from router.subscriptions.base import Prepared
from router.subscriptions.claude.restore import RestoredMessageReply, RestoredStreamReply
from router.subscriptions.claude.upstream import ClaudeSubscriptionUpstream
from router.upstreams.base import COUNT_TOKENS, UpstreamCall, UpstreamCredential, UpstreamReply
from router.upstreams.pool import HttpReply
from tests.fakes.anthropic import CLAUDE_CODE_SYSTEM, AnthropicFake
from tests.fakes.behaviours import Reply, Status, Stream, ToolCall

ACCOUNT = "claude-ada@example.com"
CONFIGURED_BETAS = (
    "oauth-2025-04-20",
    "claude-code-20250219",
    "interleaved-thinking-2025-05-14",
    "fine-grained-tool-streaming-2025-05-14",
)
LONG_NAME = "mcp__company_knowledge_base__search_documents_by_semantic_similarity_v2"


class OneByteReply(UpstreamReply):
    """Hands out an upstream body one byte per call, however it arrived."""

    def __init__(self, inner: UpstreamReply) -> None:
        self._inner = inner
        self._buffer = b""
        self.status = inner.status
        self.headers = inner.headers

    async def next_chunk(self) -> bytes:
        if not self._buffer:
            self._buffer = await self._inner.next_chunk()
        byte, self._buffer = self._buffer[:1], self._buffer[1:]
        return byte

    def close(self) -> None:
        self._inner.close()


class OneByteClaudeUpstream(ClaudeSubscriptionUpstream):
    async def finish(
        self, call: UpstreamCall, reply: UpstreamReply, prepared: Prepared
    ) -> UpstreamReply:
        return await super().finish(call, OneByteReply(reply), prepared)


@dataclass
class Harness:
    fake: AnthropicFake
    upstream: ClaudeSubscriptionUpstream

    async def call(
        self,
        body: dict[str, Any],
        *,
        stream: bool = False,
        headers: Mapping[str, str] | None = None,
        operation: str = "generate",
    ) -> tuple[UpstreamReply, bytes]:
        if stream:
            body = {**body, "stream": True}
        call = UpstreamCall(
            credential=UpstreamCredential(ACCOUNT, ""),
            model=body["model"],
            body=json.dumps(body).encode(),
            stream=stream,
            request_id="req-test",
            headers=headers or {},
            operation=operation,
        )
        reply = await self.upstream.open(call)
        chunks = []
        try:
            while chunk := await reply.next_chunk():
                chunks.append(chunk)
        finally:
            reply.close()
        return reply, b"".join(chunks)

    @property
    def seen(self) -> dict[str, Any]:
        return self.fake.last_request.json


async def no_refresh(credential: StoredCredential) -> Mapping[str, Any]:
    raise AssertionError("the token is fresh; nothing should refresh it")


def make_upstream(
    fake: AnthropicFake, auth_dir: Path, cls: type[ClaudeSubscriptionUpstream], **config: Any
) -> ClaudeSubscriptionUpstream:
    store = CredentialStore(auth_dir)
    store.save(
        "claude",
        ACCOUNT,
        {
            "access_token": fake.oauth_token,
            "refresh_token": "sk-ant-ort01-test",
            "expires_at": time.time() + 3600,
            "email": "ada@example.com",
        },
    )
    keeper = TokenKeeper(
        store,
        "claude",
        no_refresh,
        refresh_ahead=60,
        check_interval=60,
        login_hint="python -m router login claude",
    )
    settings = ClaudeSubscriptionConfig(api_base=fake.base_url, **config)
    return cls(settings, Timeouts(connect=5, first_byte=10, idle=10), store, keeper)


@pytest.fixture
async def claude(anthropic_fake: AnthropicFake, tmp_path: Path) -> AsyncIterator[Harness]:
    upstream = make_upstream(anthropic_fake, tmp_path / "auth", ClaudeSubscriptionUpstream)
    yield Harness(anthropic_fake, upstream)
    await upstream.close()


@pytest.fixture
async def one_byte_claude(anthropic_fake: AnthropicFake, tmp_path: Path) -> AsyncIterator[Harness]:
    upstream = make_upstream(anthropic_fake, tmp_path / "auth", OneByteClaudeUpstream)
    yield Harness(anthropic_fake, upstream)
    await upstream.close()


def tool(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"the {name} tool",
        "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
    }


def request(*tools: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
        **extra,
    }
    if tools:
        body["tools"] = [tool(t) for t in tools]
    return body


def streamed_tool_names(raw: bytes) -> list[str]:
    parser = SSEParser()
    found = []
    for event in parser.feed(raw) + parser.close():
        block = json.loads(event.data).get("content_block") or {}
        if block.get("type") == "tool_use":
            found.append(block["name"])
    return found


def streamed_text(raw: bytes) -> str:
    parser = SSEParser()
    deltas = (json.loads(e.data).get("delta") or {} for e in parser.feed(raw) + parser.close())
    return "".join(d.get("text", "") for d in deltas)


async def test_oauth_headers_betas_and_system_block(claude: Harness) -> None:
    reply, raw = await claude.call(
        request(system="Answer in French."),
        headers={"anthropic-beta": "context-1m-2025-08-07,oauth-2025-04-20"},
    )
    assert reply.status == 200
    assert json.loads(raw)["content"][0]["text"] == "echo: What is the weather in Paris?"
    seen = claude.fake.last_request
    assert seen.headers["Authorization"] == f"Bearer {claude.fake.oauth_token}"
    assert "x-api-key" not in seen.headers
    assert seen.headers["anthropic-version"] == "2023-06-01"
    assert seen.headers["anthropic-beta"].split(",") == [
        *CONFIGURED_BETAS,
        "context-1m-2025-08-07",
    ]
    assert seen.json["system"] == [
        {"type": "text", "text": CLAUDE_CODE_SYSTEM},
        {"type": "text", "text": "Answer in French."},
    ]


async def test_client_system_blocks_keep_cache_control_and_no_duplicate(claude: Harness) -> None:
    system = [
        {"type": "text", "text": CLAUDE_CODE_SYSTEM},
        {"type": "text", "text": "Project rules.", "cache_control": {"type": "ephemeral"}},
    ]
    reply, _ = await claude.call(request(system=system))
    assert reply.status == 200
    assert claude.seen["system"] == system


async def test_count_tokens_goes_to_its_endpoint_with_oauth_rules(claude: Harness) -> None:
    body = request("get_weather")
    del body["max_tokens"]
    reply, raw = await claude.call(body, operation=COUNT_TOKENS)
    assert reply.status == 200
    assert json.loads(raw)["input_tokens"] > 0
    assert claude.fake.last_request.path == "/v1/messages/count_tokens"
    assert claude.seen["tools"][0]["name"] == "proxy_get_weather"


async def test_non_streamed_parallel_tool_calls_are_restored(claude: Harness) -> None:
    claude.fake.script.push(
        Reply(
            text="Checking both.",
            tool_calls=[
                ToolCall("proxy_get_weather", {"q": "Paris"}),
                ToolCall("proxy_get_time", {"q": "Paris"}),
            ],
        )
    )
    reply, raw = await claude.call(
        request("get_weather", "get_time", tool_choice={"type": "tool", "name": "get_weather"})
    )
    assert isinstance(reply, RestoredMessageReply)
    assert [t["name"] for t in claude.seen["tools"]] == ["proxy_get_weather", "proxy_get_time"]
    assert claude.seen["tool_choice"] == {"type": "tool", "name": "proxy_get_weather"}
    content = json.loads(raw)["content"]
    assert [b["name"] for b in content if b["type"] == "tool_use"] == ["get_weather", "get_time"]
    assert content[1]["input"] == {"q": "Paris"}


async def test_streamed_parallel_tool_calls_are_restored(claude: Harness) -> None:
    claude.fake.script.push(
        Stream(
            text="Checking both.",
            tool_calls=[
                ToolCall("proxy_get_weather", {"q": "Paris"}),
                ToolCall("proxy_get_time", {"q": "Paris"}),
            ],
        )
    )
    reply, raw = await claude.call(request("get_weather", "get_time"), stream=True)
    assert isinstance(reply, RestoredStreamReply)
    assert streamed_tool_names(raw) == ["get_weather", "get_time"]
    assert b"proxy_" not in raw
    assert streamed_text(raw) == "Checking both."
    assert b'"stop_reason":"tool_use"' in raw


async def test_one_byte_chunks_still_restore(one_byte_claude: Harness) -> None:
    one_byte_claude.fake.script.push(
        Stream(
            text="Calling.",
            tool_calls=[ToolCall("proxy_get_weather", {"q": "Oslo"}), ToolCall("proxy_get_time")],
        )
    )
    reply, raw = await one_byte_claude.call(request("get_weather", "get_time"), stream=True)
    assert isinstance(reply, RestoredStreamReply)
    assert streamed_tool_names(raw) == ["get_weather", "get_time"]
    assert streamed_text(raw) == "Calling."


async def test_names_reused_across_turns_map_consistently(claude: Harness) -> None:
    history = [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"q": "P"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"q": "R"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "rain"},
            ],
        },
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_3", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_3", "content": "fog"}],
        },
    ]
    claude.fake.script.push(Stream(tool_calls=[ToolCall("proxy_get_weather", {"q": "Nice"})]))
    _, raw = await claude.call(request("get_weather", messages=history), stream=True)
    sent = [
        block["name"]
        for message in claude.seen["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block["type"] == "tool_use"
    ]
    assert sent == ["proxy_get_weather"] * 3
    assert claude.seen["tools"][0]["name"] == "proxy_get_weather"
    assert streamed_tool_names(raw) == ["get_weather"]


async def test_names_over_64_characters_are_shortened_and_restored(claude: Harness) -> None:
    body = request(LONG_NAME, "get_time")
    await claude.call(body)
    shortened = claude.seen["tools"][0]["name"]
    assert len(shortened) <= 64 and shortened != "proxy_" + LONG_NAME
    assert shortened == shorten_tool_name(LONG_NAME, "proxy_")
    claude.fake.script.push(Reply(tool_calls=[ToolCall(shortened), ToolCall("proxy_get_time")]))
    claude.fake.script.push(Stream(tool_calls=[ToolCall(shortened)]))
    _, raw = await claude.call(body)
    assert claude.seen["tools"][0]["name"] == shortened
    names = [b["name"] for b in json.loads(raw)["content"] if b["type"] == "tool_use"]
    assert names == [LONG_NAME, "get_time"]
    _, raw = await claude.call(body, stream=True)
    assert streamed_tool_names(raw) == [LONG_NAME]


async def test_server_tools_keep_their_names(claude: Harness) -> None:
    body = request("get_weather")
    body["tools"].append({"type": "web_search_20250305", "name": "web_search", "max_uses": 2})
    await claude.call(body)
    assert [t["name"] for t in claude.seen["tools"]] == ["proxy_get_weather", "web_search"]


async def test_configured_prefix_is_used(anthropic_fake: AnthropicFake, tmp_path: Path) -> None:
    upstream = make_upstream(
        anthropic_fake, tmp_path / "auth", ClaudeSubscriptionUpstream, tool_prefix="cc_"
    )
    harness = Harness(anthropic_fake, upstream)
    anthropic_fake.script.push(Stream(tool_calls=[ToolCall("cc_get_weather")]))
    try:
        _, raw = await harness.call(request("get_weather"), stream=True)
    finally:
        await upstream.close()
    assert harness.seen["tools"][0]["name"] == "cc_get_weather"
    assert streamed_tool_names(raw) == ["get_weather"]


@pytest.mark.parametrize("stream", [False, True])
async def test_no_tools_means_no_wrapping(claude: Harness, stream: bool) -> None:
    reply, raw = await claude.call(request(), stream=stream)
    assert type(reply) is HttpReply
    text = streamed_text(raw) if stream else json.loads(raw)["content"][0]["text"]
    assert text == "echo: What is the weather in Paris?"


async def test_error_replies_pass_through_unwrapped(claude: Harness) -> None:
    claude.fake.script.push(Status(529))
    reply, raw = await claude.call(request("get_weather"), stream=True)
    assert type(reply) is HttpReply
    assert reply.status == 529
    assert json.loads(raw)["error"]["type"] == "overloaded_error"
