"""Malformed client input ends in a clean error in the caller's format, never a 500 or a
traceback: deep JSON, bodies that are not UTF-8, Content-Encoding, broken HTTP framing,
oversized request lines and headers, and aiohttp's own 404/405."""

from __future__ import annotations

import gzip
import logging
import zlib

import aiohttp
import pytest

from tests.conftest import StartRouter
from tests.router.hostile import (
    expected_format,
    parse_error,
    port_of,
    raw_exchange,
    tracebacks,
    watch_log,
)
from tests.translation.conftest import client_model, mesh_config

MESSAGES = [{"role": "user", "content": "hi"}]


def valid_body(path: str) -> dict:
    """A request each endpoint accepts, for a model served by the OpenAI Chat fake."""
    model = client_model("openai")
    if path.startswith("/v1beta/"):
        return {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    if path == "/v1/responses":
        return {"model": model, "input": "hi"}
    if path.startswith("/v1/messages"):
        return {"model": model, "max_tokens": 16, "messages": MESSAGES}
    return {"model": model, "messages": MESSAGES}


GENERATION_PATHS = [
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/messages",
    "/v1/messages/count_tokens",
    f"/v1beta/models/{client_model('openai')}:generateContent",
    f"/v1beta/models/{client_model('openai')}:countTokens",
    f"/api/provider/amp/v1beta/models/{client_model('openai')}:streamGenerateContent",
]


@pytest.fixture
async def router(router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake):
    return await router_factory(mesh_config(openai_fake, anthropic_fake, gemini_fake))


async def _post(url: str, data: bytes, headers: dict[str, str] | None = None):
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        async with http.post(url, data=data, headers=headers) as response:
            return response.status, await response.read()


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("path", GENERATION_PATHS)
@pytest.mark.parametrize("where", ["top", "inside"])
async def test_deep_json_is_a_400_naming_the_limit(router, path: str, where: str) -> None:
    body = valid_body(path)
    if where == "top":
        raw = _nested(1000)
    else:
        key = "contents" if "contents" in body else "messages" if "messages" in body else "input"
        raw = b'{"model": "' + client_model("openai").encode() + b'", "' + key.encode() + b'": '
        raw += _nested(300) + b"}"
    with watch_log() as records:
        status, answer = await _post(router.url + path, raw)
    assert status == 400
    message = parse_error(expected_format(path), answer)
    assert "deeper than 128 levels" in message and "server.max-json-depth" in message
    assert tracebacks(records) == []


async def test_json_depth_limit_is_configurable(router_factory: StartRouter, openai_fake) -> None:
    config = mesh_config(openai_fake, openai_fake, openai_fake)
    router = await router_factory({**config, "server": {"max-json-depth": 5}})
    url = router.url + "/v1/chat/completions"
    content = [{"type": "text", "text": "hi"}]
    # body(1) > messages(2) > message(3) > content(4) > part(5): exactly the limit.
    ok = {"model": client_model("openai"), "messages": [{"role": "user", "content": content}]}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=ok) as response:
            assert response.status == 200
        content[0]["extra"] = {"deeper": True}
        async with http.post(url, json=ok) as response:
            assert response.status == 400
            assert "deeper than 5 levels" in parse_error("openai", await response.read())


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/auth/ctonew", b'{"cookie": ' + _nested(5000) + b"}"),
        ("/v1/auth/llmux/claude/callback", b'{"code": ' + _nested(5000) + b"}"),
        ("/v1/auth/aistudio/login", _nested(5000)),
    ],
)
async def test_deep_json_on_login_routes(router, path: str, body: bytes) -> None:
    with watch_log() as records:
        status, answer = await _post(router.url + path, body)
    assert status == 400
    assert "server.max-json-depth" in parse_error("openai", answer)
    assert tracebacks(records) == []


@pytest.mark.parametrize(
    "path",
    [
        "/v1/auth/llmux/claude/callback",
        "/v1/auth/llmux/chatgpt/callback",
        "/v1/auth/ctonew",
        "/v1/auth/aistudio/login",
        "/v1/chat/completions",
        "/v1/messages",
        f"/v1beta/models/{client_model('openai')}:generateContent",
    ],
)
async def test_body_that_is_not_utf8(router, path: str) -> None:
    with watch_log() as records:
        status, answer = await _post(router.url + path, b'{"code": "\xff\xfe#state"}')
    assert status == 400
    message = parse_error(expected_format(path), answer)
    assert any(word in message for word in ("UTF-8", "utf-8", "not JSON")), message
    assert tracebacks(records) == []


PLAIN = b'{"model": "via-openai", "messages": [{"role": "user", "content": "hi"}]}'


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages", GENERATION_PATHS[4]])
@pytest.mark.parametrize("coding", ["gzip", "deflate", "x-gzip", "gzip, deflate"])
async def test_plain_body_labelled_compressed_is_a_400(router, path: str, coding: str) -> None:
    with watch_log() as records:
        status, answer = await _post(router.url + path, PLAIN, {"Content-Encoding": coding})
    assert status == 400
    assert "Content-Encoding" in parse_error(expected_format(path), answer)
    assert tracebacks(records) == []


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("GZip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data, wbits=-15)),
        ("identity", lambda data: data),
        ("gzip, deflate", lambda data: zlib.compress(gzip.compress(data))),
    ],
)
async def test_compressed_bodies_are_accepted(router, openai_fake, coding, encode) -> None:
    status, answer = await _post(
        router.url + "/v1/chat/completions", encode(PLAIN), {"Content-Encoding": coding}
    )
    assert status == 200, answer
    assert openai_fake.last_request.json["messages"] == MESSAGES


@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "garbage;;", "gzip, gzip, gzip"])
async def test_unsupported_content_encoding_is_a_415(router, coding: str) -> None:
    path = GENERATION_PATHS[4]
    status, answer = await _post(router.url + path, PLAIN, {"Content-Encoding": coding})
    assert status == 415
    assert "not supported" in parse_error("gemini", answer)


async def test_gzip_bomb_stops_at_the_body_limit(router_factory: StartRouter, openai_fake) -> None:
    config = mesh_config(openai_fake, openai_fake, openai_fake)
    router = await router_factory({**config, "body-limit-mb": 1})
    bomb = gzip.compress(b" " * (64 * 1024 * 1024))
    assert len(bomb) < 1024 * 1024
    status, answer = await _post(router.url + "/v1/messages", bomb, {"Content-Encoding": "gzip"})
    assert status == 413
    assert "decompressed" in parse_error("anthropic", answer)


async def test_truncated_gzip_and_trailing_garbage(router) -> None:
    whole = gzip.compress(PLAIN)
    for body in (whole[:-6], zlib.compress(PLAIN) + b"junk"):
        coding = "gzip" if body.startswith(b"\x1f\x8b") else "deflate"
        status, answer = await _post(
            router.url + "/v1/chat/completions", body, {"Content-Encoding": coding}
        )
        assert status == 400, (coding, answer)
        parse_error("openai", answer)


async def test_a_connection_survives_a_bad_gzip_answer(router, openai_fake) -> None:
    """The next request on the same keep-alive connection is served (it used to be reset)."""
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        url = router.url + "/v1/chat/completions"
        async with http.post(url, data=PLAIN, headers={"Content-Encoding": "gzip"}) as r:
            assert r.status == 400
        async with http.post(url, data=PLAIN) as r:
            assert r.status == 200


BROKEN_FRAMING = {
    "bad chunk size": b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    "both lengths": b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad length": b"Content-Length: abc\r\n\r\n",
}


@pytest.mark.parametrize("fault", sorted(BROKEN_FRAMING))
@pytest.mark.parametrize("path", ["/v1/messages", GENERATION_PATHS[4], "/v1/responses"])
async def test_broken_framing_is_a_400_in_the_callers_format(router, fault, path) -> None:
    request = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + BROKEN_FRAMING[fault]
    with watch_log() as records:
        status, body = await raw_exchange(port_of(router.url), request)
    assert status == 400
    assert "malformed HTTP request" in parse_error(expected_format(path), body)
    assert tracebacks(records) == []


async def test_chunked_body_broken_after_the_handler_started(router) -> None:
    """The headers arrive first, so the handler is reading when the framing breaks."""
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(router.url))
    with watch_log() as records:
        writer.write(
            b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'5\r\n{"a":\r\n'
        )
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.write(b"zz\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"400"
    assert "request body could not be read" in parse_error("anthropic", body)
    assert tracebacks(records) == []


@pytest.mark.parametrize(
    ("path", "extra", "status", "words"),
    [
        ("/v1/messages?x=" + "a" * 9000, b"", 414, "request line is longer"),
        ("/v1/chat/completions", b"X-Big: " + b"a" * 9000 + b"\r\n", 431, "header is longer"),
        (
            GENERATION_PATHS[4],
            b"".join(b"X-%d: 1\r\n" % i for i in range(200)),
            431,
            "request headers",
        ),
        ("/v1/messages", b"Bad Header\x00: x\r\n", 400, "malformed HTTP request"),
    ],
)
async def test_aiohttp_parse_errors_in_the_callers_format(router, path, extra, status, words):
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + extra + b"\r\n"
    with watch_log() as records:
        got, body = await raw_exchange(port_of(router.url), request)
    assert got == status
    assert words in parse_error(expected_format(path), body)
    assert tracebacks(records) == []


async def test_non_http_traffic_gets_a_json_400(router) -> None:
    with watch_log() as records:
        status, body = await raw_exchange(port_of(router.url), b"\x16\x03\x01\x00\xa5\x01\r\n\r\n")
    assert status == 400
    parse_error("openai", body)
    assert tracebacks(records) == []


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/chat/completions", 405),
        ("PUT", "/v1/messages", 405),
        ("DELETE", GENERATION_PATHS[4], 405),
        ("GET", "/v1/nothing-here", 404),
        ("POST", "/v1beta/nothing", 404),
        ("POST", "/v1/messages/batches", 404),
        ("PATCH", "/api/provider/x/v1/messages", 405),
    ],
)
async def test_404_and_405_come_out_in_the_callers_format(router, method, path, status) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.request(method, router.url + path) as response:
            assert response.status == status
            parse_error(expected_format(path), await response.read())


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (GENERATION_PATHS[6], b'"\\ud800 half an emoji"'),
        ("/v1/chat/completions", b'"tail \\udfff"'),
        ("/v1/messages", b'"\xed\xa0\x80 as raw bytes"'),
        ("/v1/auth/ctonew", b'"\\udbff"'),
    ],
)
async def test_unpaired_surrogates_are_a_400(router, path: str, text: bytes) -> None:
    """They used to reach the answer (the fake echoes the prompt) and break the stream
    encoder with a UnicodeEncodeError mid-stream."""
    if path.startswith("/v1beta") or "/v1beta/" in path:
        raw = b'{"contents": [{"role": "user", "parts": [{"text": ' + text + b"}]}]}"
    elif path == "/v1/auth/ctonew":
        raw = b'{"cookie": ' + text + b"}"
    else:
        raw = b'{"model": "via-openai", "max_tokens": 9, "stream": true, "messages": '
        raw += b'[{"role": "user", "content": ' + text + b"}]}"
    with watch_log() as records:
        status, answer = await _post(router.url + path, raw)
    assert status == 400
    assert "unpaired UTF-16 surrogate" in parse_error(expected_format(path), answer)
    assert tracebacks(records) == []


async def test_paired_surrogate_escapes_are_fine(router, openai_fake) -> None:
    raw = b'{"model": "via-openai", "messages": [{"role": "user", "content": "\\ud83d\\ude00"}]}'
    status, _ = await _post(router.url + "/v1/chat/completions", raw)
    assert status == 200
    assert openai_fake.last_request.json["messages"][0]["content"] == "\U0001f600"


SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}}
CODEC_TRIPS = [
    # Each made a codec raise TypeError: a 500 with a traceback before the boundary guard.
    ("/v1/messages", {"model": "via-openai", "max_tokens": 9, "messages": [
        {"role": "user", "content": [{"type": {}}]}]}),
    ("/v1/messages", {"model": "via-openai", "max_tokens": 9, "messages": [
        {"role": "user", "content": [{"type": ["text"]}]}]}),
    ("/v1/chat/completions", {"model": "via-gemini", "messages": MESSAGES, "tools": [
        {"type": "function", "function": {
            "name": "w", "parameters": {**SCHEMA, "required": [{}]}}}]}),
    ("/v1/chat/completions", {"model": "via-gemini", "messages": MESSAGES, "tools": [
        {"type": "function", "function": {"name": "w", "parameters": {
            "type": "object", "properties": None, "required": ["a"]}}}]}),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body"), CODEC_TRIPS)
async def test_shapes_a_codec_trips_over_are_a_400(router, path: str, body: dict) -> None:
    with watch_log() as records:
        async with aiohttp.ClientSession() as http:
            async with http.post(router.url + path, json=body) as response:
                status, answer = response.status, await response.read()
    assert status == 400
    parse_error(expected_format(path), answer)
    assert tracebacks(records) == []


def test_codec_guard_names_where_the_codec_gave_way() -> None:
    from router.errors import ProxyError
    from router.generation.codec_guard import TranslatingClientRequest

    with watch_log() as records, pytest.raises(ProxyError) as caught:
        with TranslatingClientRequest("encode for gemini", "rid1"):
            {}["missing"]
    assert caught.value.status == 400
    assert "encode for gemini" in caught.value.message
    (line,) = [r for r in records if r.name == "router.codec"]
    assert line.levelno == logging.WARNING and not line.exc_info
    assert line.fields["error"] == "KeyError" and line.fields["request_id"] == "rid1"
    assert line.fields["at"].split(":")[0].endswith("test_hostile_input.py")
