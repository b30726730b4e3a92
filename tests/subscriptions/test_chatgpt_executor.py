"""The ChatGPT subscription upstream against the fake Codex backend: what it sends and gets back."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from router.config.schema import Timeouts
from router.config.subscriptions import ChatGPTSubscriptionConfig
from router.credentials import CredentialStore, StoredCredential, TokenKeeper
from router.errors import AttemptFailed
from router.formats import SSEParser
from router.subscriptions.chatgpt.upstream import ChatGPTSubscriptionUpstream
from router.upstreams.base import UpstreamCall, UpstreamCredential, UpstreamReply
from tests.fakes.behaviours import Drop, MidStreamError, Reply, Stall, Status, ToolCall, Usage
from tests.fakes.codex import CodexFake, CutStream, usage_limit

CREDENTIAL = "chatgpt-ada@example.com"
LONG_A = "mcp__workspace_tools__search_the_entire_repository_for_matching_symbols"
LONG_B = "mcp__workspace_tools__search_the_entire_repository_for_matching_strings"


@pytest.fixture
async def fake() -> AsyncIterator[CodexFake]:
    async with CodexFake(tokens={"tok-1": "acct-1"}) as codex:
        yield codex


class Accounts:
    """A credential store holding one ChatGPT account, and a refresher the test controls."""

    def __init__(self, directory: Path, fake: CodexFake) -> None:
        self.fake = fake
        self.refreshes = 0
        self.store = CredentialStore(directory)
        self.store.save(
            "chatgpt",
            CREDENTIAL,
            {
                "access_token": "tok-1",
                "refresh_token": "refresh-1",
                "expires_at": time.time() + 3600,
                "account_id": "acct-1",
                "email": "ada@example.com",
            },
        )
        self.keeper = TokenKeeper(
            self.store,
            "chatgpt",
            self.refresh,
            refresh_ahead=600,
            check_interval=60,
            login_hint="log in with ./scripts/login.sh chatgpt",
        )

    async def refresh(self, credential: StoredCredential) -> Mapping[str, Any]:
        self.refreshes += 1
        token = f"tok-refreshed-{self.refreshes}"
        self.fake.grant(token, "acct-1")
        return {"access_token": token, "expires_at": time.time() + 3600}


@pytest.fixture
def accounts(tmp_path: Path, fake: CodexFake) -> Accounts:
    return Accounts(tmp_path, fake)


@pytest.fixture
async def upstream(
    fake: CodexFake, accounts: Accounts
) -> AsyncIterator[ChatGPTSubscriptionUpstream]:
    codex = make_upstream(fake, accounts)
    yield codex
    await codex.close()


def make_upstream(
    fake: CodexFake, accounts: Accounts, idle: float = 5.0, **config: Any
) -> ChatGPTSubscriptionUpstream:
    section = ChatGPTSubscriptionConfig(backend_url=fake.backend_url, **config)
    return ChatGPTSubscriptionUpstream(
        section, Timeouts(idle=idle), accounts.store, accounts.keeper
    )


def call(body: dict[str, Any], *, stream: bool) -> UpstreamCall:
    return UpstreamCall(
        credential=UpstreamCredential(CREDENTIAL, ""),
        model=body.get("model", "gpt-5"),
        body=json.dumps(body).encode(),
        stream=stream,
        request_id="req-test",
    )


def client_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "gpt-5",
        "instructions": "Answer like a pirate.",
        "input": [{"type": "message", "role": "user", "content": "hello"}],
    }
    body.update(fields)
    return body


def tools(*names: str) -> list[dict[str, Any]]:
    return [
        {"type": "function", "name": n, "parameters": {"type": "object", "properties": {}}}
        for n in names
    ]


async def read_all(reply: UpstreamReply) -> bytes:
    parts = []
    try:
        while chunk := await reply.next_chunk():
            parts.append(chunk)
    finally:
        reply.close()
    return b"".join(parts)


async def read_events(reply: UpstreamReply) -> tuple[list[dict[str, Any]], Exception | None]:
    """Every event forwarded before the end, and the error that ended it (if any)."""
    parser = SSEParser()
    payloads: list[dict[str, Any]] = []
    error: Exception | None = None
    try:
        while chunk := await reply.next_chunk():
            payloads += [json.loads(e.data) for e in parser.feed(chunk)]
    except (ConnectionError, aiohttp.ClientError) as exc:
        error = exc
    finally:
        reply.close()
    return payloads, error


# -- what is sent -------------------------------------------------------------------------


async def test_headers_and_body_normalised_for_the_backend(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream
) -> None:
    body = client_body(
        input="hello",
        stream=False,
        store=True,
        parallel_tool_calls=False,
        include=["message.output_text.logprobs"],
        max_output_tokens=300,
        temperature=0.3,
        top_p=0.5,
        service_tier="priority",
    )
    reply = await upstream.open(call(body, stream=False))
    answer = json.loads(await read_all(reply))
    assert reply.status == 200
    assert answer["output"][0]["content"][0]["text"] == "echo: hello"

    sent = fake.last_request
    assert sent.path == "/backend-api/codex/responses"
    assert sent.headers["Authorization"] == "Bearer tok-1"
    assert sent.headers["chatgpt-account-id"] == "acct-1"
    assert sent.headers["originator"] == "codex_cli_rs"
    assert sent.headers["OpenAI-Beta"] == "responses=experimental"
    assert sent.headers["Accept"] == "text/event-stream"
    uuid.UUID(sent.headers["session_id"])
    assert sent.json["stream"] is True
    assert sent.json["store"] is False
    assert sent.json["parallel_tool_calls"] is True
    assert sent.json["include"] == ["message.output_text.logprobs", "reasoning.encrypted_content"]
    for dropped in ("max_output_tokens", "temperature", "top_p", "service_tier"):
        assert dropped not in sent.json
    assert sent.json["instructions"] == "Answer like a pirate."
    assert sent.json["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}
    ]


@pytest.mark.parametrize("instructions", [None, "", "   "])
async def test_default_instructions_when_the_client_gave_none(
    fake: CodexFake, accounts: Accounts, instructions: str | None
) -> None:
    upstream = make_upstream(fake, accounts, default_instructions="You are Codex, be useful.")
    body = client_body(instructions=instructions)
    if instructions is None:
        del body["instructions"]
    try:
        reply = await upstream.open(call(body, stream=False))
        await read_all(reply)
    finally:
        await upstream.close()
    assert reply.status == 200
    assert fake.last_request.json["instructions"] == "You are Codex, be useful."


async def test_system_and_developer_messages_fold_into_instructions(
    fake: CodexFake, accounts: Accounts
) -> None:
    """The backend refuses them in input (its fake too): their text joins instructions."""
    upstream = make_upstream(fake, accounts)
    body = client_body(instructions="Be brief.")
    body["input"] = [
        {"role": "developer", "content": "Use metric units."},
        {"type": "message", "role": "user", "content": "hello"},
        {
            "type": "message",
            "role": "system",
            "content": [{"type": "input_text", "text": "Now in French."}],
        },
    ]
    try:
        reply = await upstream.open(call(body, stream=False))
        await read_all(reply)
    finally:
        await upstream.close()
    assert reply.status == 200
    sent = fake.last_request.json
    assert sent["instructions"] == "Be brief.\n\nUse metric units.\n\nNow in French."
    assert [item["role"] for item in sent["input"]] == ["user"]


async def test_session_id_follows_prompt_cache_key(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream
) -> None:
    for body in (client_body(prompt_cache_key="conv-42"), client_body(), client_body()):
        await read_all(await upstream.open(call(body, stream=False)))
    ids = [r.headers["session_id"] for r in fake.requests]
    assert ids[0] == "conv-42"
    assert ids[1] != ids[2]


async def test_configured_drop_params_decide_what_is_removed(
    fake: CodexFake, accounts: Accounts
) -> None:
    upstream = make_upstream(fake, accounts, drop_params=("metadata",))
    try:
        reply = await upstream.open(
            call(client_body(metadata={"a": "b"}, temperature=0.1), stream=False)
        )
        raw = await read_all(reply)
    finally:
        await upstream.close()
    assert "metadata" not in fake.last_request.json
    assert reply.status == 400
    assert json.loads(raw)["error"]["param"] == "temperature"


# -- non-streaming clients: one assembled response ----------------------------------------


async def test_non_stream_assembles_text_tool_calls_and_usage(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream
) -> None:
    fake.script.push(
        Reply(
            text="Checking both.",
            reasoning="two lookups",
            tool_calls=[ToolCall("get_weather", {"city": "Oslo"}), ToolCall("get_time", {})],
            usage=Usage(120, 40, cached_tokens=100, reasoning_tokens=12),
        )
    )
    reply = await upstream.open(
        call(client_body(tools=tools("get_weather", "get_time")), stream=False)
    )
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    answer = json.loads(await read_all(reply))
    assert answer["object"] == "response"
    assert answer["status"] == "completed"
    kinds = [item["type"] for item in answer["output"]]
    assert kinds == ["reasoning", "message", "function_call", "function_call"]
    assert answer["output"][0]["encrypted_content"]
    assert answer["output"][1]["content"][0]["text"] == "Checking both."
    calls = answer["output"][2:]
    assert [c["name"] for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[0]["arguments"]) == {"city": "Oslo"}
    assert answer["usage"]["input_tokens"] == 120
    assert answer["usage"]["output_tokens"] == 40
    assert answer["usage"]["input_tokens_details"]["cached_tokens"] == 100
    assert answer["usage"]["output_tokens_details"]["reasoning_tokens"] == 12
    assert upstream.active_requests() == 0


@pytest.mark.parametrize(
    ("behaviour", "fragment"),
    [
        (CutStream(after_chunks=2), "before response.completed"),
        (MidStreamError(after_chunks=1, message="the model crashed"), "the model crashed"),
        (Drop(after_chunks=2), "connection lost"),
    ],
)
async def test_non_stream_unfinished_stream_is_a_502_never_a_success(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream, behaviour: Any, fragment: str
) -> None:
    fake.script.push(behaviour)
    reply = await upstream.open(call(client_body(), stream=False))
    body = json.loads(await read_all(reply))
    assert reply.status == 502
    assert fragment in body["error"]["message"]
    assert body["error"]["type"] == "server_error"
    assert upstream.active_requests() == 0


async def test_non_stream_silent_stream_is_a_504(fake: CodexFake, accounts: Accounts) -> None:
    upstream = make_upstream(fake, accounts, idle=0.3)
    fake.script.push(Stall(after_chunks=1))
    try:
        reply = await upstream.open(call(client_body(), stream=False))
        body = json.loads(await read_all(reply))
    finally:
        await upstream.close()
    assert reply.status == 504
    assert "went silent" in body["error"]["message"]
    await fake.wait_for_disconnect()


# -- streaming clients: events as they come -----------------------------------------------


async def test_stream_forwards_every_event_in_order(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream
) -> None:
    fake.script.push(Reply(text="a b c d", reasoning="r", tool_calls=[ToolCall("f", {"x": 1})]))
    reply = await upstream.open(call(client_body(stream=True), stream=True))
    assert reply.status == 200
    assert "text/event-stream" in reply.headers["Content-Type"]
    payloads, error = await read_events(reply)
    assert error is None
    assert [p["sequence_number"] for p in payloads] == list(range(len(payloads)))
    assert payloads[0]["type"] == "response.created"
    assert payloads[-1]["type"] == "response.completed"
    deltas = [p["delta"] for p in payloads if p["type"] == "response.output_text.delta"]
    assert deltas == ["a ", "b ", "c ", "d"]
    assert upstream.active_requests() == 0


async def test_stream_cut_before_completed_raises_connection_error(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream
) -> None:
    fake.script.push(CutStream(after_chunks=2, reply=Reply(text="one two three")))
    reply = await upstream.open(call(client_body(), stream=True))
    payloads, error = await read_events(reply)
    assert isinstance(error, ConnectionError)
    assert "before response.completed" in str(error)
    assert [p["delta"] for p in payloads if p["type"] == "response.output_text.delta"] == [
        "one ",
        "two ",
    ]
    assert upstream.active_requests() == 0


async def test_stream_failed_event_is_withheld_and_raises(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream
) -> None:
    fake.script.push(MidStreamError(after_chunks=1, message="quota backend down"))
    reply = await upstream.open(call(client_body(), stream=True))
    payloads, error = await read_events(reply)
    assert isinstance(error, ConnectionError)
    assert "quota backend down" in str(error)
    assert payloads
    assert all(p["type"] != "response.failed" for p in payloads)


async def test_stream_connection_drop_surfaces_as_client_error(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream
) -> None:
    fake.script.push(Drop(after_chunks=1))
    reply = await upstream.open(call(client_body(), stream=True))
    _, error = await read_events(reply)
    assert isinstance(error, aiohttp.ClientError | ConnectionError)


# -- tool names over 64 characters --------------------------------------------------------


async def test_long_tool_names_restored_in_assembled_response(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream
) -> None:
    body = client_body(tools=tools(LONG_A, LONG_B, "short_one"))
    fake.script.push(Reply(text="", tool_calls=[]))
    first = await upstream.open(call(body, stream=False))
    await read_all(first)
    sent = fake.last_request.json["tools"]
    short_a, short_b = sent[0]["name"], sent[1]["name"]
    assert max(len(short_a), len(short_b)) <= 64
    assert len({short_a, short_b}) == 2
    assert sent[2]["name"] == "short_one"

    fake.script.push(
        Reply(
            text="",
            tool_calls=[
                ToolCall(short_b, {"q": "x"}),
                ToolCall(short_a, {}),
                ToolCall("short_one"),
            ],
        )
    )
    reply = await upstream.open(call(body, stream=False))
    answer = json.loads(await read_all(reply))
    assert [item["name"] for item in answer["output"]] == [LONG_B, LONG_A, "short_one"]
    assert [tool["name"] for tool in answer["tools"]] == [LONG_A, LONG_B, "short_one"]


async def test_long_tool_names_restored_in_stream_events(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream
) -> None:
    history = [
        {"type": "message", "role": "user", "content": "search"},
        {"type": "function_call", "call_id": "call_1", "name": LONG_A, "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "nothing"},
    ]
    body = client_body(tools=tools(LONG_A, LONG_B), input=history)
    await read_all(await upstream.open(call(body, stream=False)))
    sent = fake.last_request.json
    short_a, short_b = sent["tools"][0]["name"], sent["tools"][1]["name"]
    assert sent["input"][1]["name"] == short_a != LONG_A
    fake.script.push(Reply(text="", tool_calls=[ToolCall(short_a, {"n": 1}), ToolCall(short_b)]))
    reply = await upstream.open(call(body, stream=True))
    payloads, error = await read_events(reply)
    assert error is None
    items = [p["item"] for p in payloads if p["type"].startswith("response.output_item.")]
    assert [i["name"] for i in items] == [LONG_A, LONG_A, LONG_B, LONG_B]
    final = payloads[-1]["response"]
    assert [i["name"] for i in final["output"]] == [LONG_A, LONG_B]
    assert json.loads(final["output"][0]["arguments"]) == {"n": 1}
    assert short_a not in json.dumps(payloads)


# -- errors -------------------------------------------------------------------------------


async def test_usage_limit_429_gains_retry_after(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream
) -> None:
    fake.script.push(usage_limit(5400))
    reply = await upstream.open(call(client_body(), stream=True))
    raw = await read_all(reply)
    assert reply.status == 429
    assert reply.headers["Retry-After"] == "5400"
    assert json.loads(raw)["error"]["type"] == "usage_limit_reached"
    assert upstream.active_requests() == 0


async def test_other_errors_pass_through_unchanged(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream
) -> None:
    fake.script.push(Status(503, "busy, come back"))
    reply = await upstream.open(call(client_body(), stream=False))
    raw = await read_all(reply)
    assert reply.status == 503
    assert json.loads(raw)["error"]["message"] == "busy, come back"
    assert "Retry-After" not in reply.headers


async def test_expired_token_is_refreshed_once_and_retried(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream, accounts: Accounts
) -> None:
    fake.expire("tok-1")
    reply = await upstream.open(call(client_body(), stream=False))
    await read_all(reply)
    assert reply.status == 200
    assert accounts.refreshes == 1
    assert [r.headers["Authorization"] for r in fake.requests] == [
        "Bearer tok-1",
        "Bearer tok-refreshed-1",
    ]


async def test_credential_without_account_id_is_not_sent(
    fake: CodexFake, upstream: ChatGPTSubscriptionUpstream, accounts: Accounts
) -> None:
    stored = accounts.store.get("chatgpt", CREDENTIAL)
    assert stored is not None
    accounts.store.save(
        "chatgpt", CREDENTIAL, {k: v for k, v in stored.data.items() if k != "account_id"}
    )
    with pytest.raises(AttemptFailed) as failure:
        await upstream.open(call(client_body(), stream=False))
    assert failure.value.auth
    assert "account id" in failure.value.message
    assert "tok-1" not in failure.value.message
    assert fake.requests == []
