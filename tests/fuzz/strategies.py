"""Hypothesis strategies for hostile client requests: valid bodies with one field made
wrong, random JSON, raw bytes, deep nesting, huge strings, odd headers, paths, methods."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from tests.fuzz.templates import templates

MODELS = ("via-openai", "via-openai-responses", "via-anthropic", "via-gemini")


@dataclass
class Attempt:
    """One request to send, and what the client format of its path is."""

    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        body = (self.body or b"")[:300]
        return f"{self.method} {self.path[:300]} headers={self.headers} body={body!r}"


ENDPOINTS = tuple(templates("m"))


def json_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside ``value`` (the root included)."""
    paths = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            paths += json_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths += json_paths(child, (*prefix, index))
    return paths


def _replace(value: Any, path: tuple, new: Any, delete: bool) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy = dict(value) if isinstance(value, dict) else list(value)
    if delete and not rest:
        del copy[head]
    else:
        copy[head] = _replace(copy[head], rest, new, delete)
    return copy


_DEEP = "\u2063deep:{}:{}\u2063"


def nested(depth: int, kind: str) -> str:
    """A stand-in for ``depth`` nested lists or objects, expanded by ``to_bytes`` (building
    the real thing would overflow ``json.dumps`` before the router ever saw it)."""
    return _DEEP.format(depth, kind)


def to_bytes(body: Any) -> bytes:
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    for depth, kind in re.findall("\u2063deep:(\\d+):(\\w+)\u2063".encode(), raw):
        opening, closing = (b"[", b"]") if kind == b"list" else (b'{"k":', b"}")
        deep = opening * int(depth) + b'"x"' + closing * int(depth)
        raw = raw.replace(b'"' + _DEEP.format(int(depth), kind.decode()).encode() + b'"', deep)
    return raw


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["", "user", "assistant", "tool", "function", "text", "auto", "none"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
hostile_values = st.one_of(
    json_values,
    st.builds(
        nested, st.sampled_from([100, 127, 129, 200, 1200, 5000]), st.sampled_from(["list", "dict"])
    ),
    # Under and over the fuzz router's 2 MiB body limit.
    st.sampled_from([256 * 1024, 3 * 1024 * 1024]).map(lambda size: "a" * size),
    st.sampled_from(["\ud800", "\udfff lone", "\x00\x01\x1b[31m", "\u202e" * 50, "\ufeff"]),
)


@st.composite
def mutated_generation(draw: st.DrawFn) -> Attempt:
    """A valid generation request with one field replaced, removed, or a key added."""
    model = draw(st.sampled_from(MODELS))
    path, body = templates(model)[draw(st.sampled_from(ENDPOINTS))]
    if draw(st.booleans()) and "stream" in body:
        body = {**body, "stream": True}
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        body = _mutate(draw, body)
    raw = to_bytes(body)
    headers = draw(odd_headers())
    return Attempt("POST", path + draw(queries()), _encoded(raw, headers), headers)


def _mutate(draw: st.DrawFn, body: Any) -> Any:
    """One field of ``body`` replaced by a hostile value, removed, or given a new key."""
    where = draw(st.sampled_from(json_paths(body)))
    action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if action == "delete" and where:
        return _replace(body, where, None, delete=True)
    if action == "add":
        target = where if isinstance(_get(body, where), dict) else ()
        if not isinstance(_get(body, target), dict):
            return body
        key = draw(st.text(max_size=12))
        return _replace(body, target, {**_get(body, target), key: draw(hostile_values)}, False)
    return _replace(body, where, draw(hostile_values), delete=False)


def _get(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


def _encoded(raw: bytes, headers: dict[str, str]) -> bytes:
    return gzip.compress(raw) if headers.get("Content-Encoding") == "gzip" else raw


@st.composite
def raw_generation(draw: st.DrawFn) -> Attempt:
    """A body that is not a valid request at all: random JSON, bytes, truncations, sizes."""
    model = draw(st.sampled_from(MODELS))
    path, template = templates(model)[draw(st.sampled_from(ENDPOINTS))]
    valid = json.dumps(template).encode()
    body = draw(
        st.one_of(
            json_values.map(to_bytes),
            st.binary(max_size=200),
            st.integers(min_value=0, max_value=len(valid)).map(lambda n: valid[:n]),
            st.just(valid.replace(b'"hi"', b'"\xff\xfe\xc3("')),
            st.just(b"\xef\xbb\xbf" + valid),
            st.just(valid.replace(b'"hi"', b'"\\ud800\\udc00\\ud800"')),
            st.builds(lambda d: b"[" * d + b"]" * d, st.sampled_from([129, 999, 20000])),
            st.builds(lambda d: b'{"a":' * d + b"1" + b"}" * d, st.sampled_from([129, 3000])),
            st.just(b'{"model": "' + b"m" * (3 * 1024 * 1024) + b'"}'),
            st.just(valid + b" trailing"),
            st.just(b"NaN"),
            st.just(valid.replace(b"0.5", b"1e999999")),
        )
    )
    headers = draw(odd_headers())
    return Attempt("POST", path + draw(queries()), _encoded(body, headers), headers)


_HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@st.composite
def odd_headers(draw: st.DrawFn) -> dict[str, str]:
    choices = {
        "Content-Type": st.sampled_from(
            [
                "application/json",
                "text/plain",
                "application/json; charset=latin-1",
                "multipart/form-data; boundary=x",
                "application/x-www-form-urlencoded",
                "",
            ]
        )
        | _HEADER_TEXT,
        "Content-Encoding": st.sampled_from(["gzip", "identity", "br", "gzip, deflate", "x"]),
        "anthropic-version": st.sampled_from(["2023-06-01", "", "1999"]) | _HEADER_TEXT,
        "anthropic-beta": _HEADER_TEXT,
        "x-goog-api-key": _HEADER_TEXT,
        "x-goog-api-client": _HEADER_TEXT,
        "Authorization": st.sampled_from(["Bearer", "Bearer ", "Basic Og=="]) | _HEADER_TEXT,
        "x-api-key": _HEADER_TEXT,
        "Accept": st.sampled_from(["text/event-stream", "*/*", "text/html"]) | _HEADER_TEXT,
        "Accept-Encoding": st.sampled_from(["gzip", "br", "identity;q=0"]),
        "X-Request-Id": _HEADER_TEXT,
        "Cookie": _HEADER_TEXT,
    }
    names = draw(st.lists(st.sampled_from(sorted(choices)), max_size=4, unique=True))
    return {name: draw(choices[name]) for name in names}


@st.composite
def queries(draw: st.DrawFn) -> str:
    parts = draw(
        st.lists(
            st.sampled_from(["alt=sse", "alt=json", "alt=", "key=x", "stream=true", "beta=true"])
            | st.builds(
                lambda k, v: f"{quote(k)}={quote(v)}",
                st.text(max_size=8),
                st.text(max_size=20),
            ),
            max_size=3,
        )
    )
    return "?" + "&".join(parts) if parts else ""


PATH_TEMPLATES = (
    "/v1/chat/completions", "/v1/responses", "/v1/messages", "/v1/messages/count_tokens",
    "/v1/models", "/v1/models/{m}", "/v1beta/models", "/v1beta/models/{m}",
    "/v1beta/models/{m}:generateContent", "/v1beta/models/{m}:streamGenerateContent",
    "/v1beta/models/{m}:countTokens", "/v1/models/{m}:generateContent", "/v1/health",
    "/health", "/v1/ws", "/", "/v1", "/v1beta", "/v1/messages/batches", "/v1/embeddings",
    "/api/provider/{p}/v1/chat/completions", "/api/provider/{p}/v1/messages",
    "/api/provider/{p}/v1beta/models/{m}:generateContent", "/api/provider/{p}/v1/models",
    "/api/provider/", "/api/provider/{p}",
)  # fmt: skip
_SEGMENT = st.one_of(
    st.sampled_from([*MODELS, "unknown-model", "models/via-openai", "..", "%2e%2e", "%00", ""]),
    st.text(max_size=20).map(lambda s: quote(s, safe="")),
    st.text(alphabet="abc:/%.-_~!$&'()*+,;=@", max_size=20),
)


@st.composite
def odd_requests(draw: st.DrawFn) -> Attempt:
    """Known and unknown paths with odd segments, methods, queries and small bodies."""
    template = draw(st.sampled_from(PATH_TEMPLATES))
    path = template.replace("{m}", draw(_SEGMENT)).replace("{p}", draw(_SEGMENT))
    if draw(st.booleans()):
        path += draw(st.sampled_from(["/", "//", "/extra", ":", ":unknownMethod", "%2F"]))
    method = draw(
        st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
        | st.sampled_from(["PROPFIND", "TRACE", "get", "X-CUSTOM", "CONNECT"])
    )
    body = draw(st.none() | json_values.map(lambda v: json.dumps(v).encode()))
    if method in ("GET", "HEAD", "OPTIONS", "TRACE", "get", "CONNECT"):
        body = None
    headers = draw(odd_headers())
    headers.pop("Content-Encoding", None)
    return Attempt(method, path + draw(queries()), body, headers)


PROVIDERS = ("claude", "chatgpt", "nope", "", "%2e%2e")


@st.composite
def management_requests(draw: st.DrawFn) -> Attempt:
    """The auth and management routes with hostile bodies and queries."""
    provider = draw(st.sampled_from(PROVIDERS))
    method, path = draw(
        st.sampled_from(
            [
                ("POST", "/v1/auth/ctonew"),
                ("GET", "/v1/auth/ctonew/status"),
                ("DELETE", "/v1/auth/ctonew"),
                ("GET", f"/v1/auth/llmux/{provider}/callback"),
                ("POST", f"/v1/auth/llmux/{provider}/callback"),
                ("GET", f"/v1/auth/llmux/{provider}/status"),
                ("DELETE", f"/v1/auth/llmux/{provider}"),
                ("GET", "/v1/auth/aistudio/status"),
                ("POST", "/v1/auth/aistudio/login"),
                ("DELETE", "/v1/auth/aistudio"),
                ("GET", "/v1/management/cooldowns"),
                ("POST", "/v1/management/cooldowns/reset"),
                ("GET", "/v1/management/nothing"),
            ]
        )
    )
    body: bytes | None = None
    if method == "POST":
        body = draw(
            st.one_of(
                json_values.map(lambda v: json.dumps(v).encode()),
                st.builds(
                    lambda c, s: json.dumps({"code": c, "state": s}).encode(),
                    json_values,
                    json_values,
                ),
                st.builds(
                    lambda c, extra: json.dumps({"cookie": c, **extra}).encode(),
                    st.text(max_size=60) | json_values,
                    st.dictionaries(
                        st.sampled_from(["session_id", "organization_id", "label"]),
                        json_values,
                        max_size=3,
                    ),
                ),
                st.binary(max_size=100),
                st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
                st.builds(lambda d: b'{"code":' + b"[" * d + b"]" * d + b"}", st.just(3000)),
            )
        )
    query = draw(
        st.sampled_from(["", "?id=", "?id=x", "?provider=p-openai", "?credential=k&provider="])
        | st.builds(
            lambda c, s, e: (
                f"?code={quote(c)}&state={quote(s)}" + (f"&error={quote(e)}" if e else "")
            ),
            st.text(max_size=20),
            st.text(max_size=20),
            st.text(max_size=10),
        )
    )
    return Attempt(method, path + query, body, draw(odd_headers()))


@st.composite
def raw_http(draw: st.DrawFn) -> bytes:
    """Bytes for a raw socket: broken request lines, headers and framing."""
    path = draw(st.sampled_from(["/v1/messages", "/v1/chat/completions", "/v1beta/models/m:x"]))
    line = draw(
        st.one_of(
            st.just(f"POST {path} HTTP/1.1".encode()),
            st.binary(max_size=60),
            st.builds(lambda n: f"GET {path}?{'a' * n} HTTP/1.1".encode(), st.just(9000)),
            st.sampled_from(
                [f"POST {path} HTTP/2.0".encode(), f"POST  {path} HTTP/1.1".encode(),
                 f"POST {path}".encode(), f"P\x00ST {path} HTTP/1.1".encode()]
            ),
        )
    )  # fmt: skip
    headers = draw(
        st.lists(
            st.one_of(
                st.binary(max_size=40),
                st.sampled_from(
                    [b"Host: 127.0.0.1", b"Content-Length: 5", b"Content-Length: -1",
                     b"Content-Length: 99999999999999999999", b"Transfer-Encoding: chunked",
                     b"Transfer-Encoding: gzip, chunked", b"Content-Length: 2\r\nContent-Length: 3",
                     b"X-Big: " + b"b" * 9000, b"Expect: 100-continue", b"Connection: upgrade",
                     b"Upgrade: websocket", b" folded", b"NoColon"]
                ),
            ),
            max_size=5,
        )
    )  # fmt: skip
    body = draw(
        st.sampled_from([b"", b"hello", b"5\r\nhello\r\n0\r\n\r\n", b"zz\r\n", b"{}"])
        | st.binary(max_size=50)
    )
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body
