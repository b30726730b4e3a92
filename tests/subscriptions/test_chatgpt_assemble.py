"""Assembling a Responses event stream into the one response a non-streaming call gets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from router.formats import SSEParser
from router.subscriptions.chatgpt.assemble import ResponseAssembler, StreamNotCompleted
from tests.fakes.behaviours import Reply, ToolCall, Usage
from tests.fakes.openai import responses_render

ENVELOPE = {"id": "resp_1", "object": "response", "model": "gpt-5", "status": "in_progress"}


def fake_stream(reply: Reply) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The events the fake backend streams for ``reply``, and its final response."""
    body = {"model": "gpt-5", "instructions": "x", "include": ["reasoning.encrypted_content"]}
    render = responses_render(body, [], lambda _r: None)
    raw = b"".join(event.data for event in render.plan(reply).events)
    parser = SSEParser()
    payloads = [json.loads(e.data) for e in parser.feed(raw)]
    return payloads, payloads[-1]["response"]


def assemble(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    assembler = ResponseAssembler()
    for payload in payloads:
        assembler.feed(payload)
    return assembler.result()


def without_output(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same stream with a terminal event whose response lists no output."""
    last = payloads[-1]
    return [*payloads[:-1], {**last, "response": {**last["response"], "output": []}}]


def test_text_reply_is_the_completed_response() -> None:
    payloads, final = fake_stream(Reply(text="Hello world", usage=Usage(5, 2)))
    assert assemble(payloads) == final
    assert final["output"][0]["content"][0]["text"] == "Hello world"


def test_output_rebuilt_from_items_when_completed_lists_none() -> None:
    reply = Reply(
        text="Calling.",
        reasoning="let me think",
        tool_calls=[ToolCall("a", {"x": 1}), ToolCall("b", {"y": [1, 2]})],
        usage=Usage(9, 4, reasoning_tokens=2),
    )
    payloads, final = fake_stream(reply)
    response = assemble(without_output(payloads))
    assert response["output"] == final["output"]
    assert response["usage"] == final["usage"]
    assert response["status"] == "completed"


def test_items_never_finished_are_pieced_from_deltas() -> None:
    payloads, final = fake_stream(
        Reply(text="one two three", reasoning="hmm ok", tool_calls=[ToolCall("f", {"k": "v"})])
    )
    unfinished = [p for p in without_output(payloads) if p["type"] != "response.output_item.done"]
    unfinished = [p for p in unfinished if not p["type"].endswith(".done")]
    output = assemble(unfinished)["output"]
    assert [item["type"] for item in output] == ["reasoning", "message", "function_call"]
    assert output[0]["summary"][0]["text"] == "hmm ok"
    assert output[1]["content"][0]["text"] == "one two three"
    assert json.loads(output[2]["arguments"]) == {"k": "v"}
    assert output[2]["name"] == "f"
    assert output[2]["call_id"] == final["output"][2]["call_id"]


def test_incomplete_is_a_terminal_response() -> None:
    payloads, _ = fake_stream(Reply(text="cut short", stop_reason="max_output_tokens"))
    assert payloads[-1]["type"] == "response.incomplete"
    response = assemble(payloads)
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}


def test_stream_without_terminal_event_raises() -> None:
    payloads, _ = fake_stream(Reply(text="never finished"))
    with pytest.raises(StreamNotCompleted, match=r"before response\.completed"):
        assemble(payloads[:-1])


def test_failed_stream_raises_with_its_message() -> None:
    failed = {
        "type": "response.failed",
        "response": {**ENVELOPE, "status": "failed", "error": {"message": "model overloaded"}},
    }
    with pytest.raises(StreamNotCompleted, match="model overloaded"):
        assemble([{"type": "response.created", "response": ENVELOPE}, failed])


def test_error_event_raises_even_if_a_terminal_follows() -> None:
    events = [
        {"type": "response.created", "response": ENVELOPE},
        {"type": "error", "message": "context too long", "code": "context_length_exceeded"},
        {"type": "response.completed", "response": {**ENVELOPE, "status": "completed"}},
    ]
    with pytest.raises(StreamNotCompleted, match="context too long"):
        assemble(events)
