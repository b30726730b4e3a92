"""A loopback server that records what a real agent CLI sends and answers plausibly.

Every request (method, path, query, headers with secrets redacted, body) is kept in
``CaptureServer.captured`` and, when ``out_dir`` is set, written to a numbered JSON file.
Generation requests in each of the four API formats are answered with the fakes' own
renderers (tests/fakes), so the wire shapes are the ones the router tests already trust.

The answers script one tool loop (tool_loop.py): a request that offers a shell tool (or
Codex's code-mode ``exec``) and carries no tool result yet gets a call of that tool
(running ``echo <marker>``); a request that carries a
tool result gets a final text. Every answer also carries reasoning, so the second request
shows how the client sends thinking history back. Amp's backend calls get the Amp fake's
answers (tests/fakes/amp.py). Anything else (model lists, counts, telemetry) gets a small
200 so the client proceeds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.clients.tool_loop import FINAL_TEXT, MARKER, loop_reply
from tests.fakes.amp import AmpFake
from tests.fakes.anthropic import AnthropicFake, MessagesRender
from tests.fakes.anthropic import status_response as anthropic_status
from tests.fakes.base import (
    CORPUS_SIGNING_KEY,
    FakeServer,
    Handler,
    RecordedRequest,
    Renderer,
    json_response,
)
from tests.fakes.behaviours import Reply
from tests.fakes.gemini import ContentRender, GeminiFake
from tests.fakes.gemini import status_response as gemini_status
from tests.fakes.openai import ChatRender, ReasoningSeal, responses_render
from tests.fakes.openai import status_response as openai_status

SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "x-goog-api-key", "cookie", "proxy-authorization"}
)
SECRET_QUERY = frozenset({"key", "api_key", "token"})
REDACTED = "<redacted>"
MODELS = ("claude-sonnet-4-5", "gpt-5", "gemini-2.5-pro", "gemini-2.5-flash")


def redact(record: RecordedRequest) -> dict[str, Any]:
    """The JSON form of one request with every credential replaced."""
    headers = {
        name: REDACTED if name.lower() in SECRET_HEADERS else value
        for name, value in record.headers.items()
    }
    query = {
        name: REDACTED if name.lower() in SECRET_QUERY else value
        for name, value in record.query.items()
    }
    body: Any = record.json
    if body is None and record.body:
        body = record.body.decode("utf-8", "replace")
    return {
        "method": record.method,
        "path": record.path,
        "query": query,
        "headers": headers,
        "body": body,
    }


def file_name(index: int, method: str, path: str, query: Iterable[str]) -> str:
    words = path + "-" + "-".join(query)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", words).strip("-")[:80] or "root"
    return f"{index:03d}-{method.lower()}-{slug}.json"


class CaptureServer(FakeServer):
    """Records everything; answers Anthropic, OpenAI Chat/Responses and Gemini."""

    def __init__(self, out_dir: Path | None = None, marker: str = MARKER) -> None:
        super().__init__(keys=("unused",))
        self.out_dir = out_dir
        self.marker = marker
        self.captured: list[dict[str, Any]] = []
        # Reasoning is signed as the strict fakes sign it, with the corpus key, so a
        # recorded second turn replays against a fake built with that key.
        self.anthropic_signer = AnthropicFake(signing_key=CORPUS_SIGNING_KEY, record=False)
        self.gemini_signer = GeminiFake(signing_key=CORPUS_SIGNING_KEY, record=False)
        self.openai_seal = ReasoningSeal(CORPUS_SIGNING_KEY)
        # Amp's backend calls get the Amp fake's answers, so the CLI goes as far as it can.
        self.amp = AmpFake(record=False)

    def routes(self) -> Iterable[tuple[str, str, Handler]]:
        return [("*", "/{tail:.*}", self.handle)]

    def generation_reply(self, body: Any) -> Reply:
        return loop_reply(body, self.marker)

    async def handle(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        entry = redact(record)
        self.captured.append(entry)
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            name = file_name(len(self.captured), record.method, record.path, record.query)
            (self.out_dir / name).write_text(json.dumps(entry, indent=1, ensure_ascii=False))
        body = record.json if isinstance(record.json, dict) else {}
        path = record.path
        if record.method == "POST" and path.endswith("/messages/count_tokens"):
            return json_response({"input_tokens": 100})
        if record.method == "POST" and path.endswith("/messages"):
            return await self.anthropic(request, record, body)
        if record.method == "POST" and path.endswith("/responses"):
            return await self.responses(request, record, body)
        if record.method == "POST" and path.endswith("/chat/completions"):
            return await self.chat(request, record, body)
        if record.method == "POST" and "/models/" in path and ":" in path.rsplit("/", 1)[-1]:
            return await self.gemini(request, record, body)
        if record.method == "GET" and path.endswith("/models"):
            return json_response(model_list())
        amp_answer = self.amp.answer(record)
        return amp_answer if amp_answer is not None else json_response({})

    async def anthropic(
        self, request: web.Request, record: RecordedRequest, body: dict[str, Any]
    ) -> web.StreamResponse:
        state = MessagesRender(
            str(body.get("model")), FINAL_TEXT, 100, sign=self.anthropic_signer.sign
        )
        render = Renderer(bool(body.get("stream")), state.message, state.plan, anthropic_status)
        return await self.perform(request, record, self.generation_reply(body), render)

    async def responses(
        self, request: web.Request, record: RecordedRequest, body: dict[str, Any]
    ) -> web.StreamResponse:
        items = list(body.get("input") or [])
        state = responses_render(body, items, lambda _response: None, self.openai_seal)
        render = Renderer(bool(body.get("stream")), state.final, state.plan, openai_status)
        return await self.perform(request, record, self.generation_reply(body), render)

    async def chat(
        self, request: web.Request, record: RecordedRequest, body: dict[str, Any]
    ) -> web.StreamResponse:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        state = ChatRender(str(body.get("model")), FINAL_TEXT, 100, include_usage)
        render = Renderer(bool(body.get("stream")), state.completion, state.plan, openai_status)
        return await self.perform(request, record, self.generation_reply(body), render)

    async def gemini(
        self, request: web.Request, record: RecordedRequest, body: dict[str, Any]
    ) -> web.StreamResponse:
        model, _, action = request.match_info["tail"].rsplit("/", 1)[-1].partition(":")
        if action == "countTokens":
            return json_response({"totalTokens": 100})
        state = ContentRender(
            model, FINAL_TEXT, 100, issue_signature=self.gemini_signer.issue_signature
        )
        use_sse = request.query.get("alt") == "sse"
        render = Renderer(
            stream=action == "streamGenerateContent",
            body=state.response,
            plan=state.sse_plan if use_sse else state.array_plan,
            error=gemini_status,
            content_type="text/event-stream" if use_sse else "application/json",
        )
        return await self.perform(request, record, self.generation_reply(body), render)


def model_list() -> dict[str, Any]:
    """One listing readable as OpenAI, Anthropic and Gemini model lists at once."""
    return {
        "object": "list",
        "data": [
            {"id": m, "object": "model", "type": "model", "display_name": m, "owned_by": "test"}
            for m in MODELS
        ],
        "has_more": False,
        "models": [
            {"name": f"models/{m}", "displayName": m, "supportedGenerationMethods": []}
            for m in MODELS
        ],
    }
