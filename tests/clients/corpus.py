"""The recorded client requests (tests/clients/corpus) and how to replay one at a router.

A replay sends the request as the client sent it (path, query, headers other than
credentials and transport, body) with only the model changed, so the router resolves it
to the upstream kind under test (``via-<kind>``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.clients.clients import CLIENTS_DIR

CORPUS = CLIENTS_DIR / "corpus"
DROPPED_HEADERS = frozenset(
    {
        "host", "content-length", "connection", "accept-encoding", "authorization",
        "x-api-key", "x-goog-api-key", "cookie", "transfer-encoding",
    }
)  # fmt: skip
GEMINI_MODEL = re.compile(r"(/models/)([^/:]+)(:)")


@dataclass(frozen=True)
class Captured:
    """One recorded request."""

    client: str
    version: str
    name: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any

    @property
    def id(self) -> str:
        return f"{self.client}/{self.version}/{self.name.removesuffix('.json')}"

    @property
    def api(self) -> str | None:
        """The API format of a generation request, None for anything else."""
        if self.method != "POST":
            return None
        if self.path.endswith("/messages") or self.path.endswith("/messages/count_tokens"):
            return "anthropic"
        if self.path.endswith("/responses"):
            return "openai-responses"
        if self.path.endswith("/chat/completions"):
            return "openai"
        if GEMINI_MODEL.search(self.path):
            return "gemini"
        return None

    @property
    def stream(self) -> bool:
        if self.api == "gemini":
            return "streamGenerateContent" in self.path
        return bool(isinstance(self.body, dict) and self.body.get("stream"))


def load_corpus(root: Path = CORPUS) -> list[Captured]:
    """Every recorded request, in client/version/file order."""
    found = []
    for path in sorted(root.glob("*/*/*.json")):
        entry = json.loads(path.read_text())
        found.append(
            Captured(
                client=path.parent.parent.name,
                version=path.parent.name,
                name=path.name,
                method=entry["method"],
                path=entry["path"],
                query=entry["query"],
                headers=entry["headers"],
                body=entry["body"],
            )
        )
    return found


def generation_requests() -> list[Captured]:
    return [captured for captured in load_corpus() if captured.api is not None]


async def replay(captured: Captured, base_url: str, model: str) -> tuple[int, str]:
    """Send ``captured`` to ``base_url`` asking for ``model``; (status, whole answer text)."""
    body = captured.body
    path = captured.path
    if captured.api == "gemini":
        path = GEMINI_MODEL.sub(lambda m: m.group(1) + model + m.group(3), path)
    else:
        body = {**body, "model": model}
    headers = {k: v for k, v in captured.headers.items() if k.lower() not in DROPPED_HEADERS}
    async with aiohttp.ClientSession() as http:
        async with http.request(
            captured.method,
            base_url + path,
            params=captured.query,
            headers=headers,
            data=json.dumps(body).encode(),
            timeout=aiohttp.ClientTimeout(total=30),
        ) as response:
            return response.status, await response.text()


def answer_complete(api: str, stream: bool, text: str) -> bool:
    """Whether an answer in the client's format is whole (its closing event or shape)."""
    if stream:
        closing = {
            "anthropic": "event: message_stop",
            "openai-responses": "response.completed",
            "openai": "data: [DONE]",
            "gemini": '"finishReason"',
        }[api]
        return closing in text
    payload = json.loads(text)
    if api == "anthropic":
        return payload.get("type") == "message" or "input_tokens" in payload
    if api == "openai-responses":
        return payload.get("status") == "completed"
    if api == "openai":
        return bool(payload.get("choices"))
    return bool(payload.get("candidates"))
