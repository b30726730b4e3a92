"""tool_choice from each official SDK to every upstream kind: auto, none and a forced
tool arrive in the upstream's own shape (a forced tool under the name the upstream was
given for it), and a forced call comes back to the client under its own name."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tests.fakes.behaviours import Reply, ToolCall
from tests.translation.conftest import (
    LONG_TOOL_NAME,
    WEATHER_SCHEMA,
    Mesh,
    client_model,
    upstream_tool_choice,
    upstream_tools,
)

CHOICES = ("auto", "none", "forced")
QUESTION = "Weather in Paris?"


@pytest.fixture(params=CHOICES)
def choice(request: pytest.FixtureRequest) -> str:
    return request.param


def tool_name_for(kind: str, client_kind: str) -> str:
    """Over 64 characters where the router translates (shortened and restored)."""
    return "get_weather" if kind == client_kind else LONG_TOOL_NAME


def script(mesh: Mesh, kind: str, choice: str, name: str) -> None:
    if choice == "forced":
        mesh.fake(kind).script.push(Reply(text="", tool_calls=[ToolCall(name, {"city": "Paris"})]))
    else:
        mesh.fake(kind).script.push(Reply(text="It is sunny."))


def check_upstream(mesh: Mesh, kind: str, choice: str) -> None:
    sent = mesh.upstream_requests(kind)[-1]
    weather_name = next(iter(upstream_tools(kind, sent)))
    expected: Any = ("tool", weather_name) if choice == "forced" else choice
    assert upstream_tool_choice(kind, sent) == expected


async def test_openai_chat(
    mesh: Mesh, kind: str, choice: str, openai_sdk: openai.AsyncOpenAI
) -> None:
    name = tool_name_for(kind, "openai")
    script(mesh, kind, choice, name)
    tool_choice: Any = (
        {"type": "function", "function": {"name": name}} if choice == "forced" else choice
    )
    reply = await openai_sdk.chat.completions.create(
        model=client_model(kind),
        messages=[{"role": "user", "content": QUESTION}],
        tools=[
            {"type": "function", "function": {"name": name, "parameters": WEATHER_SCHEMA}},
            {"type": "function", "function": {"name": "get_time", "parameters": {}}},
        ],
        tool_choice=tool_choice,
    )
    check_upstream(mesh, kind, choice)
    message = reply.choices[0].message
    if choice == "forced":
        assert reply.choices[0].finish_reason == "tool_calls"
        assert [c.function.name for c in message.tool_calls or []] == [name]  # type: ignore[union-attr]
    else:
        assert message.content == "It is sunny." and not message.tool_calls


async def test_openai_responses(
    mesh: Mesh, kind: str, choice: str, openai_sdk: openai.AsyncOpenAI
) -> None:
    name = tool_name_for(kind, "openai-responses")
    script(mesh, kind, choice, name)
    tool_choice: Any = {"type": "function", "name": name} if choice == "forced" else choice
    response = await openai_sdk.responses.create(
        model=client_model(kind),
        input=QUESTION,
        tools=[
            {"type": "function", "name": name, "parameters": WEATHER_SCHEMA, "strict": False},
            {"type": "function", "name": "get_time", "parameters": {}, "strict": False},
        ],
        tool_choice=tool_choice,
    )
    check_upstream(mesh, kind, choice)
    calls = [item for item in response.output if item.type == "function_call"]
    if choice == "forced":
        assert [c.name for c in calls] == [name]  # type: ignore[union-attr]
    else:
        assert response.output_text == "It is sunny." and not calls


async def test_anthropic(
    mesh: Mesh, kind: str, choice: str, anthropic_sdk: anthropic.AsyncAnthropic
) -> None:
    name = tool_name_for(kind, "anthropic")
    script(mesh, kind, choice, name)
    tool_choice: Any = {"type": "tool", "name": name} if choice == "forced" else {"type": choice}
    message = await anthropic_sdk.messages.create(
        model=client_model(kind),
        max_tokens=200,
        messages=[{"role": "user", "content": QUESTION}],
        tools=[
            {"name": name, "input_schema": WEATHER_SCHEMA},
            {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
        ],
        tool_choice=tool_choice,
    )
    check_upstream(mesh, kind, choice)
    if choice == "forced":
        assert message.stop_reason == "tool_use"
        uses = [b for b in message.content if b.type == "tool_use"]
        assert [(u.name, u.input) for u in uses] == [(name, {"city": "Paris"})]  # type: ignore[union-attr]
    else:
        assert [b.type for b in message.content] == ["text"]


async def test_genai(
    mesh: Mesh, kind: str, choice: str, genai_sdk: genai.client.AsyncClient
) -> None:
    name = tool_name_for(kind, "gemini")
    script(mesh, kind, choice, name)
    calling = {
        "auto": types.FunctionCallingConfig(mode="AUTO"),
        "none": types.FunctionCallingConfig(mode="NONE"),
        "forced": types.FunctionCallingConfig(mode="ANY", allowed_function_names=[name]),
    }[choice]
    response = await genai_sdk.models.generate_content(
        model=client_model(kind),
        contents=QUESTION,
        config=types.GenerateContentConfig(
            tools=[
                types.Tool(
                    function_declarations=[
                        types.FunctionDeclaration(name=name, parameters_json_schema=WEATHER_SCHEMA),
                        types.FunctionDeclaration(name="get_time"),
                    ]
                )
            ],
            tool_config=types.ToolConfig(function_calling_config=calling),
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        ),
    )
    check_upstream(mesh, kind, choice)
    if choice == "forced":
        assert [(c.name, c.args) for c in response.function_calls or []] == [
            (name, {"city": "Paris"})
        ]
    else:
        assert response.text == "It is sunny." and not response.function_calls
