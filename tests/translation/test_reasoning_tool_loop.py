"""Reasoning survives a tool loop: every client format x every upstream kind, thinking on.

Turn 1: the upstream thinks and calls a tool. Turn 2: the client sends the conversation
back as it naturally would (a Chat client has nowhere to keep a signature and keeps
`reasoning_content` only where the upstream speaks Chat itself; a Gemini client drops
thought parts, as Gemini CLI does) with the tool's result. The fakes are as strict as the
real services on turn 2: Anthropic wants the assistant turn to start with its signed
thinking, Gemini 3 wants its signature on the function call, Responses checks the
encrypted reasoning it issued, Chat (as DeepSeek in thinking mode) wants the
`reasoning_content` of a tool-call turn back. So turn 2 is only accepted if the reasoning the
upstream issued came back to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tests.conftest import StartRouter
from tests.fakes.anthropic import AnthropicFake
from tests.fakes.behaviours import Reply, Stream, ToolCall
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake, reasoning_is_ours
from tests.translation.conftest import KINDS, WEATHER_SCHEMA, Mesh, client_model, mesh_config

GEMINI_3 = "gemini-3-pro-preview"
THOUGHT = "The user wants the weather in Paris."
QUESTION = "Weather in Paris?"


@pytest.fixture
async def mesh3(
    router_factory: StartRouter,
    openai_fake: OpenAIFake,
    anthropic_fake: AnthropicFake,
    gemini_fake: GeminiFake,
) -> AsyncIterator[Mesh]:
    """The translation mesh with a Gemini 3 model, which insists on thought signatures."""
    config = mesh_config(openai_fake, anthropic_fake, gemini_fake)
    gemini = next(p for p in config["providers"] if p["kind"] == "gemini")
    gemini["models"][0]["name"] = GEMINI_3
    router = await router_factory(config)
    yield Mesh(router.url, openai_fake, anthropic_fake, gemini_fake)


def script_loop(mesh: Mesh, kind: str, streamed: bool) -> None:
    reply = Stream if streamed else Reply
    mesh.fake(kind).script.push(
        reply(text="", reasoning=THOUGHT, tool_calls=[ToolCall("get_weather", {"city": "Paris"})]),
        reply(text="18C and cloudy."),
    )


def assert_reasoning_came_back(mesh: Mesh, kind: str) -> None:
    """What the upstream got on turn 2 carries the reasoning it issued on turn 1."""
    sent = mesh.upstream_requests(kind)[-1]
    if kind == "anthropic":
        turn = next(m for m in sent["messages"] if m["role"] == "assistant")
        assert turn["content"][0] == {
            "type": "thinking",
            "thinking": THOUGHT,
            "signature": mesh.anthropic.sign(THOUGHT),
        }
    elif kind == "gemini":
        turn = next(c for c in sent["contents"] if c["role"] == "model")
        call = next(p for p in turn["parts"] if "functionCall" in p)
        assert mesh.gemini.signature_is_ours(call["thoughtSignature"])
    elif kind == "openai-responses":
        reasoning = [i for i in sent["input"] if i.get("type") == "reasoning"]
        assert reasoning and reasoning_is_ours(reasoning[0]["encrypted_content"])
    else:
        turn = next(m for m in sent["messages"] if m["role"] == "assistant")
        assert turn["reasoning_content"] == THOUGHT


# ---- one turn per client format, through its official SDK -------------------------------

CHAT_TOOLS: list[Any] = [
    {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_SCHEMA}}
]


async def chat_turn(sdk: openai.AsyncOpenAI, kind: str, messages: list, streamed: bool) -> Any:
    args: dict[str, Any] = {
        "model": client_model(kind),
        "messages": messages,
        "tools": CHAT_TOOLS,
        "reasoning_effort": "high",
    }
    if not streamed:
        return (await sdk.chat.completions.create(**args)).choices[0].message
    async with sdk.chat.completions.stream(**args) as stream:
        return (await stream.get_final_completion()).choices[0].message


async def chat_loop(sdk: openai.AsyncOpenAI, kind: str, streamed: bool) -> str:
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    first = await chat_turn(sdk, kind, messages, streamed)
    call = first.tool_calls[0]
    kept: dict[str, Any] = {  # all a Chat client keeps: no signature, no encrypted reasoning
        "role": "assistant",
        "content": first.content,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
        ],
    }
    if kind == "openai":  # passthrough: only the client can give DeepSeek its reasoning back
        kept["reasoning_content"] = first.model_extra["reasoning_content"]
    messages += [kept, {"role": "tool", "tool_call_id": call.id, "content": "18C"}]
    return (await chat_turn(sdk, kind, messages, streamed)).content


async def responses_turn(sdk: openai.AsyncOpenAI, kind: str, items: list, streamed: bool) -> Any:
    args: dict[str, Any] = {
        "model": client_model(kind),
        "input": items,
        "tools": [{"type": "function", "name": "get_weather", "parameters": WEATHER_SCHEMA}],
        "reasoning": {"effort": "high"},
        "include": ["reasoning.encrypted_content"],
        "store": False,
    }
    if not streamed:
        return await sdk.responses.create(**args)
    async with sdk.responses.stream(**args) as stream:
        return await stream.get_final_response()


async def responses_loop(sdk: openai.AsyncOpenAI, kind: str, streamed: bool) -> str:
    items: list[Any] = [{"role": "user", "content": QUESTION}]
    first = await responses_turn(sdk, kind, items, streamed)
    call = next(o for o in first.output if o.type == "function_call")
    items += [o.model_dump(exclude_none=True) for o in first.output]
    items.append({"type": "function_call_output", "call_id": call.call_id, "output": "18C"})
    return (await responses_turn(sdk, kind, items, streamed)).output_text


async def anthropic_turn(
    sdk: anthropic.AsyncAnthropic, kind: str, messages: list, streamed: bool
) -> Any:
    args: dict[str, Any] = {
        "model": client_model(kind),
        "max_tokens": 4096,
        "messages": messages,
        "tools": [{"name": "get_weather", "input_schema": WEATHER_SCHEMA}],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }
    if not streamed:
        return await sdk.messages.create(**args)
    async with sdk.messages.stream(**args) as stream:
        return await stream.get_final_message()


async def anthropic_loop(sdk: anthropic.AsyncAnthropic, kind: str, streamed: bool) -> str:
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    first = await anthropic_turn(sdk, kind, messages, streamed)
    use = next(b for b in first.content if b.type == "tool_use")
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "18C"}],
        },
    ]
    second = await anthropic_turn(sdk, kind, messages, streamed)
    return "".join(b.text for b in second.content if b.type == "text")


GEMINI_CONFIG = types.GenerateContentConfig(
    tools=[
        types.Tool(
            function_declarations=[
                types.FunctionDeclaration(name="get_weather", parameters_json_schema=WEATHER_SCHEMA)
            ]
        )
    ],
    thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=2048),
)


async def gemini_turn(
    sdk: genai.client.AsyncClient, kind: str, contents: list, streamed: bool
) -> list[types.Part]:
    model = client_model(kind)
    if not streamed:
        answer = await sdk.models.generate_content(
            model=model, contents=contents, config=GEMINI_CONFIG
        )
        return list(answer.candidates[0].content.parts)
    parts: list[types.Part] = []
    async for chunk in await sdk.models.generate_content_stream(
        model=model, contents=contents, config=GEMINI_CONFIG
    ):
        if chunk.candidates and chunk.candidates[0].content:
            parts.extend(chunk.candidates[0].content.parts or [])
    return parts


async def gemini_loop(sdk: genai.client.AsyncClient, kind: str, streamed: bool) -> str:
    contents: list[Any] = [types.Content(role="user", parts=[types.Part(text=QUESTION)])]
    first = await gemini_turn(sdk, kind, contents, streamed)
    kept = [p for p in first if not p.thought and (p.text or p.function_call)]  # as Gemini CLI
    call = next(p.function_call for p in kept if p.function_call)
    response = types.FunctionResponse(id=call.id, name=call.name, response={"result": "18C"})
    contents += [
        types.Content(role="model", parts=kept),
        types.Content(role="user", parts=[types.Part(function_response=response)]),
    ]
    second = await gemini_turn(sdk, kind, contents, streamed)
    return "".join(p.text or "" for p in second if not p.thought)


# ---- the matrix ---------------------------------------------------------------------------


@pytest.fixture(params=KINDS)
def upstream(request: pytest.FixtureRequest) -> str:
    return request.param


STREAMED = pytest.mark.parametrize("streamed", [False, True], ids=["whole", "stream"])


@STREAMED
async def test_chat_client_tool_loop(mesh3: Mesh, upstream: str, streamed: bool) -> None:
    script_loop(mesh3, upstream, streamed)
    async with openai.AsyncOpenAI(
        base_url=mesh3.url + "/v1", api_key="unused", max_retries=0
    ) as sdk:
        assert await chat_loop(sdk, upstream, streamed) == "18C and cloudy."
    assert_reasoning_came_back(mesh3, upstream)


@STREAMED
async def test_responses_client_tool_loop(mesh3: Mesh, upstream: str, streamed: bool) -> None:
    script_loop(mesh3, upstream, streamed)
    async with openai.AsyncOpenAI(
        base_url=mesh3.url + "/v1", api_key="unused", max_retries=0
    ) as sdk:
        assert await responses_loop(sdk, upstream, streamed) == "18C and cloudy."
    assert_reasoning_came_back(mesh3, upstream)


@STREAMED
async def test_anthropic_client_tool_loop(mesh3: Mesh, upstream: str, streamed: bool) -> None:
    script_loop(mesh3, upstream, streamed)
    async with anthropic.AsyncAnthropic(base_url=mesh3.url, api_key="unused", max_retries=0) as sdk:
        assert await anthropic_loop(sdk, upstream, streamed) == "18C and cloudy."
    assert_reasoning_came_back(mesh3, upstream)


@STREAMED
async def test_gemini_client_tool_loop(mesh3: Mesh, upstream: str, streamed: bool) -> None:
    script_loop(mesh3, upstream, streamed)
    client = genai.Client(
        api_key="unused",
        http_options=types.HttpOptions(
            base_url=mesh3.url, retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )
    try:
        assert await gemini_loop(client.aio, upstream, streamed) == "18C and cloudy."
    finally:
        await client.aio.aclose()
    assert_reasoning_came_back(mesh3, upstream)
