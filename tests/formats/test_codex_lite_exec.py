"""Codex's Responses-Lite code-mode tool to upstreams without custom tools or namespaces:
`exec`, a custom (free-form) tool inside the `functions` namespace of an additional_tools
item (tests/clients/corpus/codex-lite), is flattened like a namespaced function
(`functions__exec`, one string argument `input`), and the model's call of it comes back as
a custom_tool_call carrying its namespace, as the Responses API itself answers."""

from __future__ import annotations

import json

from fmt_helpers import ctx, parse_sse, sse_bytes, translate_stream

from router.formats import Format, get_codec

RESP = get_codec(Format.OPENAI_RESPONSES)
SCRIPT = 'const run = await tools.exec_command({cmd: "echo hi"});\ntext(run.output);\n'
EXEC = {"type": "custom", "name": "exec", "description": "Run JavaScript code."}
WAIT = {"type": "function", "name": "wait", "parameters": {"type": "object"}}
USER = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]}


def lite_request(*history: dict) -> dict:
    group = {"type": "namespace", "name": "functions", "description": "", "tools": [EXEC, WAIT]}
    offered = {"type": "additional_tools", "role": "developer", "tools": [group]}
    return {"model": "m", "input": [offered, USER, *history], "tool_choice": "auto"}


def test_exec_in_a_namespace_is_a_flattened_one_argument_function() -> None:
    history = (
        {
            "type": "custom_tool_call",
            "call_id": "call_1",
            "namespace": "functions",
            "name": "exec",
            "input": SCRIPT,
        },
        {"type": "custom_tool_call_output", "call_id": "call_1", "output": "hi\n"},
    )
    req = RESP.decode_request(lite_request(*history))
    assert [tool.name for tool in req.tools] == ["functions__exec", "functions__wait"]
    assert req.tools[0].freeform and req.tools[0].namespaced == ("functions", "exec")
    chat = get_codec(Format.OPENAI_CHAT).encode_request(req, ctx())
    assert list(chat["tools"][0]["function"]["parameters"]["properties"]) == ["input"]
    call = chat["messages"][1]["tool_calls"][0]["function"]
    assert call["name"] == "functions__exec"
    assert json.loads(call["arguments"]) == {"input": SCRIPT}


def test_a_whole_answer_call_is_a_custom_tool_call_in_its_namespace() -> None:
    c = ctx()
    get_codec(Format.ANTHROPIC).encode_request(RESP.decode_request(lite_request()), c)
    upstream = {
        "id": "msg_1",
        "model": "claude",
        "stop_reason": "tool_use",
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "functions__exec",
                "input": {"input": SCRIPT},
            },
            {"type": "tool_use", "id": "toolu_2", "name": "functions__wait", "input": {}},
        ],
    }
    resp = get_codec(Format.ANTHROPIC).decode_response(upstream, c)
    code, wait = RESP.encode_response(resp, c)["output"]
    assert code["type"] == "custom_tool_call"
    assert (code["namespace"], code["name"], code["input"]) == ("functions", "exec", SCRIPT)
    assert wait["type"] == "function_call"
    assert (wait["namespace"], wait["name"]) == ("functions", "wait")


def test_a_streamed_call_is_a_custom_tool_call_in_its_namespace() -> None:
    c = ctx()
    get_codec(Format.GEMINI).encode_request(RESP.decode_request(lite_request()), c)
    call = {"name": "functions__exec", "args": {"input": SCRIPT}}
    candidate = {
        "content": {"role": "model", "parts": [{"functionCall": call}]},
        "finishReason": "STOP",
    }
    usage = {"promptTokenCount": 3, "candidatesTokenCount": 2}
    raw = sse_bytes([(None, {"candidates": [candidate], "usageMetadata": usage})])
    _, out = translate_stream(Format.GEMINI, Format.OPENAI_RESPONSES, raw, c=c)
    events = parse_sse(out)
    added = next(d for n, d in events if n == "response.output_item.added")
    assert added["item"]["type"] == "custom_tool_call"
    assert (added["item"]["namespace"], added["item"]["name"]) == ("functions", "exec")
    deltas = [d["delta"] for n, d in events if n == "response.custom_tool_call_input.delta"]
    assert "".join(deltas) == SCRIPT
    completed = next(d for n, d in events if n == "response.completed")
    (item,) = completed["response"]["output"]
    assert (item["type"], item["namespace"], item["name"]) == (
        "custom_tool_call",
        "functions",
        "exec",
    )
    assert item["input"] == SCRIPT
