"""Codex's Responses-Lite header says the request's tools are in an additional_tools input
item: it reaches a Responses upstream that gets the client's own bytes, and no upstream
of another format (whose request the router builds, tools lifted into its tool list)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.translation.conftest import KINDS, Mesh, client_model

LITE_HEADER = "x-openai-internal-codex-responses-lite"
EXEC = {
    "type": "custom",
    "name": "exec",
    "description": "Run JavaScript code to orchestrate tool calls.",
}


def lite_request(kind: str) -> dict[str, Any]:
    tools = {"type": "namespace", "name": "functions", "description": "", "tools": [EXEC]}
    return {
        "model": client_model(kind),
        "input": [
            {"type": "additional_tools", "role": "developer", "tools": [tools]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        ],
        "tool_choice": "auto",
        "stream": False,
    }


@pytest.mark.parametrize("kind", KINDS)
async def test_the_lite_header_goes_only_with_the_clients_own_bytes(mesh: Mesh, kind: str) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            mesh.url + "/v1/responses", json=lite_request(kind), headers={LITE_HEADER: "true"}
        ) as response,
    ):
        assert response.status == 200, await response.text()
    sent = mesh.fake(kind).requests[-1]
    if kind == "openai-responses":
        assert sent.headers.get(LITE_HEADER) == "true"
        assert sent.json["input"][0]["type"] == "additional_tools"
    else:
        assert LITE_HEADER not in sent.headers
