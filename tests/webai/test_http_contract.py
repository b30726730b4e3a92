"""Auth, request validation, model listing and the OpenAI error shape."""

from __future__ import annotations

import gzip
import json
import logging
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict

from router.logs import LineFormatter
from tests.webai.helpers import CHAT_PATH, KEY, auth_headers, chat_body


async def request(
    base_url: str,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> tuple[int, Any, CIMultiDict[str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, base_url + path, headers=headers, **kwargs) as response,
    ):
        return response.status, await response.json(), response.headers.copy()


def assert_openai_error(body: Any, error_type: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == error_type
    assert isinstance(body["error"]["message"], str)


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("POST", CHAT_PATH, None),
        ("POST", CHAT_PATH, {"Authorization": "Bearer wrong-key"}),
        ("POST", CHAT_PATH, {"Authorization": KEY}),
        ("POST", CHAT_PATH, {"Authorization": f"Basic {KEY}"}),
        ("GET", "/v1/models", None),
        ("GET", "/v1/unknown", None),
    ],
)
async def test_requests_without_the_shared_key_get_401(
    start_service: Any, method: str, path: str, headers: dict[str, str] | None
) -> None:
    base_url = await start_service("FixedText")
    status, body, _ = await request(base_url, method, path, headers, json=chat_body())
    assert status == 401
    assert_openai_error(body, "authentication_error")
    assert KEY not in str(body)


async def test_health_needs_no_key_and_shows_no_secret(start_service: Any) -> None:
    base_url = await start_service("FixedText")
    status, body, _ = await request(base_url, "GET", "/health")
    assert status == 200
    assert body["status"] == "ok"
    assert KEY not in str(body)


async def test_models_lists_the_configured_client_models(start_service: Any) -> None:
    base_url = await start_service(
        "FixedText", models={"gpt-webai": "gpt-4o-mini", "gemini-webai": "gemini-2.5-flash"}
    )
    status, body, _ = await request(base_url, "GET", "/v1/models", auth_headers())
    assert status == 200
    assert body["object"] == "list"
    assert sorted(model["id"] for model in body["data"]) == ["gemini-webai", "gpt-webai"]
    assert {model["object"] for model in body["data"]} == {"model"}


async def test_unknown_model_gets_404(start_service: Any) -> None:
    base_url = await start_service("FixedText")
    status, body, _ = await request(
        base_url, "POST", CHAT_PATH, auth_headers(), json=chat_body(model="no-such-model")
    )
    assert status == 404
    assert_openai_error(body, "invalid_request_error")
    assert body["error"]["code"] == "model_not_found"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b'{"model": "gpt-webai"}', "missing_messages"),
        (b'{"model": "gpt-webai", "messages": []}', "missing_messages"),
        (b'{"model": "gpt-webai", "messages": [{"content": "no role"}]}', "invalid_messages"),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', "missing_model"),
    ],
)
async def test_malformed_requests_get_400(start_service: Any, payload: bytes, code: str) -> None:
    base_url = await start_service("FixedText")
    headers = {**auth_headers(), "Content-Type": "application/json"}
    status, body, _ = await request(base_url, "POST", CHAT_PATH, headers, data=payload)
    assert status == 400
    assert_openai_error(body, "invalid_request_error")
    assert body["error"]["code"] == code


async def test_unknown_route_gets_openai_shaped_404(start_service: Any) -> None:
    base_url = await start_service("FixedText")
    status, body, _ = await request(base_url, "GET", "/v1/nothing-here", auth_headers())
    assert status == 404
    assert_openai_error(body, "invalid_request_error")


async def test_one_key_value_log_line_per_request_without_secrets(
    start_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    base_url = await start_service("Broken", "FixedText")
    with caplog.at_level(logging.INFO, logger="cliproxy.webai"):
        status, _, headers = await request(
            base_url,
            "POST",
            CHAT_PATH,
            {**auth_headers(), "X-Request-Id": "req-abc123"},
            json=chat_body(),
        )
    assert status == 200
    assert headers["X-Request-Id"] == "req-abc123"
    formatter = LineFormatter()
    lines = [formatter.format(r) for r in caplog.records if r.name == "cliproxy.webai"]
    assert len(lines) == 1
    fields = dict(part.split("=", 1) for part in lines[0].split(" ") if "=" in part)
    assert fields["event"] == "request"
    assert fields["request_id"] == "req-abc123"
    assert fields["model"] == "gpt-webai"
    assert fields["provider"] == "FixedText"
    assert fields["status"] == "200"
    assert int(fields["latency_ms"]) >= 0
    assert KEY not in lines[0]


async def test_bodies_nested_too_deeply_get_the_routers_400(start_service: Any) -> None:
    base_url = await start_service("FixedText")
    payload = chat_body()
    payload["metadata"] = json.loads("[" * 200 + "]" * 200)
    status, body, _ = await request(base_url, "POST", CHAT_PATH, auth_headers(), json=payload)
    assert status == 400
    assert_openai_error(body, "invalid_request_error")
    assert "deeper than 128 levels" in body["error"]["message"]


async def test_bodies_over_the_limit_get_413(start_service: Any) -> None:
    base_url = await start_service("FixedText")
    payload = chat_body()
    payload["padding"] = "x" * (1024 * 1024)
    status, body, _ = await request(base_url, "POST", CHAT_PATH, auth_headers(), json=payload)
    assert status == 413
    assert_openai_error(body, "invalid_request_error")
    assert "the webai service's limit" in body["error"]["message"]


async def test_a_gzip_body_is_read(start_service: Any) -> None:
    base_url = await start_service("FixedText")
    headers = {**auth_headers(), "Content-Type": "application/json", "Content-Encoding": "gzip"}
    data = gzip.compress(json.dumps(chat_body()).encode())
    status, body, _ = await request(base_url, "POST", CHAT_PATH, headers, data=data)
    assert status == 200
    assert body["object"] == "chat.completion"
