"""ChatGPT subscription end to end: the official openai SDK -> router -> fake Codex backend.

One logged-in account (a credential file in the router's auth-dir) whose tokens come from
the fake OpenAI OAuth server, so an expired token is refreshed for real.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest

from router.config.wire.chatgpt import CODEX_CATALOG
from router.credentials import CredentialStore
from tests.conftest import StartRouter
from tests.fakes.behaviours import MidStreamError, Reply, ToolCall, Usage
from tests.fakes.codex import CodexFake, CutStream, usage_limit
from tests.fakes.oauth import OpenAIOAuthFake

CREDENTIAL = "chatgpt-ada@example.com"
LONG_NAME = "mcp__project_knowledge_base__look_up_the_definition_of_a_symbol_anywhere"
WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


@dataclass
class Setup:
    client: openai.AsyncOpenAI
    codex: CodexFake
    oauth: OpenAIOAuthFake
    access_token: str
    refresh_token: str

    def sent(self) -> dict[str, Any]:
        return self.codex.last_request.json


@pytest.fixture
async def setup(router_factory: StartRouter, tmp_path: Path) -> AsyncIterator[Setup]:
    codex = CodexFake(tokens={})
    oauth = OpenAIOAuthFake(emails=["ada@example.com"])
    oauth.on_issue = lambda token: codex.grant(token, oauth.account.account_id)
    async with codex, oauth:
        grant = oauth.issue(oauth.account, ("openid", "email", "profile", "offline_access"))
        assert grant.refresh_token is not None
        CredentialStore(tmp_path / "auth").save(
            "chatgpt",
            CREDENTIAL,
            {
                "access_token": grant.access_token,
                "refresh_token": grant.refresh_token,
                "id_token": grant.id_token,
                "expires_at": time.time() + 86400,
                "account_id": oauth.account.account_id,
                "email": "ada@example.com",
            },
        )
        router = await router_factory(
            {
                "subscriptions": {
                    "chatgpt": {
                        "backend-url": codex.backend_url,
                        "token-url": oauth.token_endpoint,
                    },
                    "claude": {"enabled": False},
                    "ctonew": {"enabled": False},
                }
            }
        )
        client = openai.AsyncOpenAI(base_url=router.url + "/v1", api_key="unused", max_retries=0)
        yield Setup(client, codex, oauth, grant.access_token, grant.refresh_token)
        await client.close()


async def test_responses_non_stream(setup: Setup) -> None:
    setup.codex.script.push(Reply(text="Ahoy.", usage=Usage(30, 3)))
    response = await setup.client.responses.create(
        model="gpt-5",
        instructions="Talk like a pirate.",
        input="hello",
        max_output_tokens=200,
        temperature=0.4,
    )
    assert response.output_text == "Ahoy."
    assert response.status == "completed"
    assert response.usage is not None and response.usage.input_tokens == 30
    sent = setup.sent()
    assert sent["instructions"] == "Talk like a pirate."
    assert sent["stream"] is True and sent["store"] is False
    assert "max_output_tokens" not in sent and "temperature" not in sent
    headers = setup.codex.last_request.headers
    assert headers["chatgpt-account-id"] == setup.oauth.account.account_id
    assert headers["Authorization"] == f"Bearer {setup.access_token}"


async def test_every_model_of_codex_catalog_reaches_the_backend(setup: Setup) -> None:
    """Codex's own default model and the rest of its bundled catalog are served by the
    subscription as they are named; a name outside the list is not."""
    for model in CODEX_CATALOG:
        setup.codex.script.push(Reply(text="Hi."))
        response = await setup.client.responses.create(model=model, input="hello")
        assert response.output_text == "Hi."
        assert setup.sent()["model"] == model
    with pytest.raises(openai.NotFoundError, match=r"gpt-6\.2-solar"):
        await setup.client.responses.create(model="gpt-6.2-solar", input="hello")


async def test_responses_stream(setup: Setup) -> None:
    setup.codex.script.push(Reply(text="one two three"))
    stream = await setup.client.responses.create(model="gpt-5", input="count", stream=True)
    kinds, deltas = [], []
    async for event in stream:
        kinds.append(event.type)
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
    assert deltas == ["one ", "two ", "three"]
    assert kinds[0] == "response.created"
    assert kinds[-1] == "response.completed"
    assert setup.sent()["instructions"]


async def test_chat_non_stream_system_becomes_instructions(setup: Setup) -> None:
    setup.codex.script.push(Reply(text="Four."))
    completion = await setup.client.chat.completions.create(
        model="gpt-5",
        messages=[
            {"role": "system", "content": "Answer with one word."},
            {"role": "user", "content": "2+2?"},
        ],
        max_tokens=50,
    )
    assert completion.choices[0].message.content == "Four."
    assert completion.choices[0].finish_reason == "stop"
    sent = setup.sent()
    assert sent["instructions"] == "Answer with one word."
    assert "max_output_tokens" not in sent


async def test_chat_stream_parallel_tool_calls(setup: Setup) -> None:
    setup.codex.script.push(
        Reply(
            text="",
            tool_calls=[ToolCall("get_weather", {"city": "Oslo"}), ToolCall(LONG_NAME, {})],
        )
    )
    stream = await setup.client.chat.completions.create(
        model="gpt-5",
        messages=[{"role": "user", "content": "weather and symbol"}],
        tools=[
            {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}},
            {"type": "function", "function": {"name": LONG_NAME, "parameters": {}}},
        ],
        stream=True,
    )
    names: dict[int, str] = {}
    arguments: dict[int, str] = {}
    finish = None
    async for chunk in stream:
        choice = chunk.choices[0] if chunk.choices else None
        if choice is None:
            continue
        for call in choice.delta.tool_calls or []:
            if call.function and call.function.name:
                names[call.index] = call.function.name
            if call.function and call.function.arguments:
                arguments[call.index] = arguments.get(call.index, "") + call.function.arguments
        finish = choice.finish_reason or finish
    assert names == {0: "get_weather", 1: LONG_NAME}
    assert json.loads(arguments[0]) == {"city": "Oslo"}
    assert finish == "tool_calls"
    assert all(len(t["name"]) <= 64 for t in setup.sent()["tools"])


async def test_responses_long_tool_name_restored_stream_and_not(setup: Setup) -> None:
    tools = [{"type": "function", "name": LONG_NAME, "parameters": {}, "strict": False}]
    setup.codex.script.push(Reply(text="", tool_calls=[ToolCall("placeholder")]))
    await setup.client.responses.create(model="gpt-5", input="probe", tools=tools)
    short = setup.sent()["tools"][0]["name"]
    assert short != LONG_NAME and len(short) <= 64

    setup.codex.script.push(Reply(text="", tool_calls=[ToolCall(short, {"symbol": "main"})]))
    response = await setup.client.responses.create(model="gpt-5", input="look up", tools=tools)
    calls = [item for item in response.output if item.type == "function_call"]
    assert [c.name for c in calls] == [LONG_NAME]

    setup.codex.script.push(Reply(text="", tool_calls=[ToolCall(short, {"symbol": "main"})]))
    stream = await setup.client.responses.create(
        model="gpt-5", input="look up", tools=tools, stream=True
    )
    added, final = [], None
    async for event in stream:
        if event.type == "response.output_item.added" and event.item.type == "function_call":
            added.append(event.item.name)
        if event.type == "response.completed":
            final = event.response
    assert added == [LONG_NAME]
    assert final is not None
    assert [i.name for i in final.output if i.type == "function_call"] == [LONG_NAME]


@pytest.mark.parametrize(
    "behaviour",
    [CutStream(after_chunks=2), MidStreamError(after_chunks=1, message="backend fell over")],
)
async def test_unfinished_stream_is_an_error_for_a_streaming_client(
    setup: Setup, behaviour: Any
) -> None:
    setup.codex.script.push(behaviour)
    stream = await setup.client.responses.create(model="gpt-5", input="go", stream=True)
    kinds = []
    reason = ""
    try:
        async for event in stream:
            kinds.append(event.type)
            if event.type == "response.failed":
                reason = event.response.error.message
    except openai.APIError as exc:
        kinds.append("raised")
        reason = exc.message
    assert "response.completed" not in kinds
    assert kinds[-1] in ("response.failed", "raised")
    assert "response.output_text.delta" in kinds
    expected = "before response.completed" if isinstance(behaviour, CutStream) else "fell over"
    assert "upstream failed mid-stream" in reason and expected in reason


async def test_unfinished_stream_is_an_error_for_a_non_streaming_client(setup: Setup) -> None:
    setup.codex.script.push(CutStream(after_chunks=1), times=5)
    with pytest.raises(openai.APIStatusError) as failure:
        await setup.client.responses.create(model="gpt-5", input="go")
    assert failure.value.status_code >= 500
    with pytest.raises(openai.APIStatusError):
        await setup.client.chat.completions.create(
            model="gpt-5", messages=[{"role": "user", "content": "go"}]
        )


async def test_usage_limit_is_429_with_retry_after_and_cools_the_account(setup: Setup) -> None:
    setup.codex.script.push(usage_limit(3600))
    with pytest.raises(openai.RateLimitError) as first:
        await setup.client.responses.create(model="gpt-5", input="hi")
    retry_after = int(first.value.response.headers["Retry-After"])
    assert 3500 <= retry_after <= 3600
    calls = len(setup.codex.requests)
    with pytest.raises(openai.RateLimitError):
        await setup.client.chat.completions.create(
            model="gpt-5", messages=[{"role": "user", "content": "hi"}]
        )
    assert len(setup.codex.requests) == calls


async def test_expired_token_refreshed_and_retried_without_leaking_tokens(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    setup.codex.expire(setup.access_token)
    response = await setup.client.responses.create(model="gpt-5", input="still there?")
    assert response.output_text == "echo: still there?"
    assert setup.oauth.token_calls["refresh_token"] == 1
    new_token = setup.codex.last_request.headers["Authorization"].removeprefix("Bearer ")
    assert new_token != setup.access_token
    for secret in (setup.access_token, setup.refresh_token, new_token):
        assert secret not in caplog.text
