"""The Responses fake's custom (free-form) tool calls, read by the official openai SDK, and
its pairing rule: a custom_tool_call_output answers a custom_tool_call, nothing else."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.fakes.behaviours import Reply, ToolCall
from tests.fakes.openai import OpenAIFake

SCRIPT = 'const run = await tools.exec_command({cmd: "echo hi"});\ntext(run.output);\n'
EXEC_CALL = ToolCall("exec", id="call_exec", custom_input=SCRIPT, namespace="functions")
EXEC = {"type": "custom", "name": "exec", "description": "Run JavaScript."}
TOOLS = [{"type": "namespace", "name": "functions", "description": "", "tools": [EXEC]}]


def sdk(fake: OpenAIFake) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake.base_url + "/v1", api_key=fake.key, max_retries=0)


async def test_a_custom_call_streams_its_raw_input(openai_fake: OpenAIFake) -> None:
    openai_fake.script.push(Reply(text="", tool_calls=[EXEC_CALL]))
    client = sdk(openai_fake)
    stream = await client.responses.create(model="gpt-5", input="run it", stream=True)
    deltas, final = [], None
    async for event in stream:
        if event.type == "response.custom_tool_call_input.delta":
            deltas.append(event.delta)
        elif event.type == "response.custom_tool_call_input.done":
            assert event.input == SCRIPT
        elif event.type == "response.completed":
            final = event.response
    assert len(deltas) > 1 and "".join(deltas) == SCRIPT
    assert final is not None
    (item,) = final.output
    assert item.type == "custom_tool_call"
    assert (item.call_id, item.name, item.input) == ("call_exec", "exec", SCRIPT)
    assert item.model_dump()["namespace"] == "functions"
    await client.close()


def second_turn(call_type: str, output_type: str, call_id: str) -> list[dict[str, Any]]:
    call: dict[str, Any] = {"type": call_type, "call_id": "call_exec", "name": "exec"}
    call |= {"input": SCRIPT} if call_type == "custom_tool_call" else {"arguments": "{}"}
    return [
        {"role": "user", "content": "run it"},
        call,
        {"type": output_type, "call_id": call_id, "output": "hi\n"},
    ]


async def test_a_custom_call_output_answering_its_call_is_accepted(openai_fake: OpenAIFake) -> None:
    client = sdk(openai_fake)
    turn = second_turn("custom_tool_call", "custom_tool_call_output", "call_exec")
    response = await client.responses.create(model="gpt-5", input=turn, tools=TOOLS)
    assert response.status == "completed"
    await client.close()


@pytest.mark.parametrize(
    ("call_type", "output_type", "call_id", "message"),
    [
        ("custom_tool_call", "custom_tool_call_output", "call_other", "custom tool call output"),
        ("function_call", "custom_tool_call_output", "call_exec", "custom tool call output"),
        ("custom_tool_call", "function_call_output", "call_exec", "function call output"),
    ],
)
async def test_an_output_without_its_call_is_refused(
    openai_fake: OpenAIFake, call_type: str, output_type: str, call_id: str, message: str
) -> None:
    client = sdk(openai_fake)
    with pytest.raises(openai.BadRequestError, match=f"No tool call found for {message}"):
        await client.responses.create(
            model="gpt-5", input=second_turn(call_type, output_type, call_id)
        )
    await client.close()
