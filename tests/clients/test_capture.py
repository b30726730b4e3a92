"""The recorder itself: a real client against the capture server, secrets redacted."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from tests.clients.capture import REDACTED, CaptureServer
from tests.clients.clients import FAKE_KEY, PROMPT, prepare
from tests.clients.conftest import require_clients
from tests.clients.record import run_client
from tests.clients.tool_loop import MARKER, tool_result_texts


def recorded_text(folder: Path) -> str:
    return "".join(path.read_text() for path in sorted(folder.glob("*.json")))


async def test_recording_claude_code_keeps_the_tool_loop_and_no_secret(tmp_path: Path) -> None:
    require_clients()
    out = tmp_path / "corpus"
    async with CaptureServer(out) as server:
        run = prepare("claude-code", server.base_url, tmp_path / "home", "sonnet",
                      PROMPT.format(marker=MARKER))  # fmt: skip
        status, output = await run_client(run, 60)
    assert status == 0, output
    files = sorted(out.glob("*.json"))
    assert [f.name for f in files] == ["001-post-v1-messages-beta.json",
                                       "002-post-v1-messages-beta.json"]  # fmt: skip
    first, second = (json.loads(f.read_text()) for f in files)
    assert first["headers"]["x-api-key"] == REDACTED
    assert FAKE_KEY not in recorded_text(out)
    assert any(MARKER in text for text in tool_result_texts(second["body"]))


async def test_query_keys_and_auth_headers_are_redacted(tmp_path: Path) -> None:
    async with CaptureServer(tmp_path) as server, aiohttp.ClientSession() as http:
        url = server.base_url + "/v1beta/models/gemini-2.5-pro:countTokens"
        headers = {"x-goog-api-key": "secret-1", "Authorization": "Bearer secret-2"}
        async with http.post(url, params={"key": "secret-3"}, json={}, headers=headers) as reply:
            assert reply.status == 200
    [entry] = server.captured
    assert entry["query"] == {"key": REDACTED}
    assert entry["headers"]["x-goog-api-key"] == REDACTED
    assert entry["headers"]["Authorization"] == REDACTED
    assert "secret" not in recorded_text(tmp_path)
