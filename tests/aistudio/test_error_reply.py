"""A relay error frame reaches the client as the Gemini API's own error body."""

from __future__ import annotations

import json

import pytest

from router.formats import Format, get_codec
from router.formats.errors import kind_for_status
from router.upstreams.aistudio import ErrorReply


@pytest.mark.parametrize(
    ("status", "gemini_status"),
    [
        (400, "INVALID_ARGUMENT"),
        (401, "UNAUTHENTICATED"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
        (429, "RESOURCE_EXHAUSTED"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
        (504, "DEADLINE_EXCEEDED"),
    ],
)
async def test_error_frame_is_a_gemini_error_body(status: int, gemini_status: str) -> None:
    reply = ErrorReply(status, "AI Studio relay: no such model", retry_after=2.4)
    body = json.loads(await reply.next_chunk())
    assert body == {
        "error": {
            "code": status,
            "message": "AI Studio relay: no such model",
            "status": gemini_status,
        }
    }
    assert reply.status == status
    assert reply.headers["Retry-After"] == "2"
    assert await reply.next_chunk() == b""


async def test_same_body_as_the_router_answers_a_gemini_client() -> None:
    reply = ErrorReply(404, "gone")
    expected = get_codec(Format.GEMINI).encode_error(404, "gone", kind_for_status(404))
    assert json.loads(await reply.next_chunk()) == expected
