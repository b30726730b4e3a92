"""CtoNewUpstream against the Clerk and EngineLabs fakes, with a real credential store."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from router.config.schema import Timeouts
from router.config.subscriptions import CtoNewConfig
from router.credentials import CredentialStore
from router.errors import AttemptFailed
from router.logs import logfmt
from router.subscriptions.ctonew.upstream import CtoNewUpstream
from router.upstreams.base import UpstreamCall, UpstreamCredential, UpstreamReply
from tests.fakes.clerk import ClerkAccount, ClerkFake, client_cookie_value
from tests.fakes.enginelabs import Answer, EngineLabsFake

CREDENTIAL = "ctonew-main"


@dataclass
class World:
    clerk: ClerkFake
    engine: EngineLabsFake
    store: CredentialStore
    upstream: CtoNewUpstream
    account: ClerkAccount
    auth_dir: Path

    def call(
        self,
        messages: list[dict] | None = None,
        *,
        stream: bool = False,
        model: str = "ctonew-gpt-5",
        credential: str = CREDENTIAL,
    ) -> UpstreamCall:
        body = {"model": model, "messages": messages or [{"role": "user", "content": "Hi"}]}
        return UpstreamCall(
            credential=UpstreamCredential(name=credential, secret=""),
            model=model,
            body=json.dumps(body).encode(),
            stream=stream,
            request_id="req1",
        )

    def stored_cookie(self) -> str:
        return json.loads((self.auth_dir / f"{CREDENTIAL}.json").read_text())["client_cookie"]


def config_for(clerk: ClerkFake, engine: EngineLabsFake, **overrides) -> CtoNewConfig:
    return CtoNewConfig(
        clerk_url=clerk.base_url,
        api_base=engine.base_url,
        ws_base=engine.ws_base,
        **overrides,
    )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with ClerkFake() as clerk, EngineLabsFake(clerk) as engine:
        account = clerk.add_account(user_id="user_up", session_id="sess_up")
        store = CredentialStore(tmp_path)
        store.save("ctonew", CREDENTIAL, {"client_cookie": account.cookie, "label": "main"})
        upstream = CtoNewUpstream(config_for(clerk, engine), Timeouts(), store)
        yield World(clerk, engine, store, upstream, account, tmp_path)
        await upstream.close()


async def body_of(reply: UpstreamReply) -> bytes:
    parts = []
    async with asyncio.timeout(5):
        while chunk := await reply.next_chunk():
            parts.append(chunk)
    reply.close()
    return b"".join(parts)


def logged(caplog) -> str:
    """Every captured log line as the router writes it (fields in key=value form)."""
    lines = []
    for record in caplog.records:
        fields = getattr(record, "fields", None)
        lines.append(logfmt(fields) if fields else record.getMessage())
    return "\n".join(lines)


def sse_payloads(raw: bytes) -> list:
    events = [e for e in raw.decode().split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    return [e[6:] if e[6:] == "[DONE]" else json.loads(e[6:]) for e in events]


async def test_accounts_come_from_the_store(world: World, tmp_path: Path) -> None:
    assert [c.name for c in world.upstream.credentials] == [CREDENTIAL]
    assert world.upstream.unconfigured_reason is None
    assert [m.name for m in world.upstream.models] == ["ctonew-claude-sonnet", "ctonew-gpt-5"]
    empty = CtoNewUpstream(CtoNewConfig(), Timeouts(), CredentialStore(tmp_path / "none"))
    assert empty.credentials == ()
    assert "POST /v1/auth/ctonew" in (empty.unconfigured_reason or "")


async def test_whole_answer_is_one_chat_completion(world: World) -> None:
    world.engine.answers.append(Answer(text="Paris.", thinking="Capital of France", chunks=3))
    reply = await world.upstream.open(world.call([{"role": "user", "content": "Capital?"}]))
    assert reply.status == 200
    assert world.upstream.active_requests() == 1
    body = json.loads(await body_of(reply))
    assert world.upstream.active_requests() == 0
    assert body["object"] == "chat.completion"
    assert body["id"] == "chatcmpl-req1"
    assert body["model"] == "ctonew-gpt-5"
    message = body["choices"][0]["message"]
    assert message == {
        "role": "assistant",
        "content": "Paris.",
        "reasoning_content": "Capital of France",
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    chat = world.engine.chats[0]
    assert chat.prompt == "user:\nCapital?"
    assert chat.adapter == "GPT5"
    await world.engine.wait_sockets_closed()


async def test_stream_relays_pieces_as_they_arrive(world: World) -> None:
    world.engine.answers.append(Answer(text="a b c", thinking="hmm", chunks=3, interval=0.1))
    reply = await world.upstream.open(world.call(stream=True, model="ctonew-claude-sonnet"))
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/event-stream"
    first = await reply.next_chunk()
    assert not world.engine.chats[0].delivered, "the first chunk left before the answer ended"
    events = sse_payloads(first + await body_of(reply))
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(c["model"] == "ctonew-claude-sonnet" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "hmm"
    assert "".join(d.get("content", "") for d in deltas) == "a b c"
    first_text = next(i for i, d in enumerate(deltas) if d.get("content"))
    last_reasoning = max(i for i, d in enumerate(deltas) if d.get("reasoning_content"))
    assert last_reasoning < first_text
    assert [c["choices"][0]["finish_reason"] for c in chunks][-1] == "stop"
    assert deltas[-1] == {}
    assert world.engine.chats[0].adapter == "ClaudeSonnet4_5"
    assert world.upstream.active_requests() == 0


async def test_jwt_is_reused_across_requests(world: World) -> None:
    for _ in range(3):
        await body_of(await world.upstream.open(world.call()))
    assert len(world.clerk.exchanges) == 1
    assert len(world.clerk.lookups) == 1
    assert len(world.engine.chats) == 3


async def test_rotated_cookie_is_saved_at_once(world: World) -> None:
    world.clerk.rotate = True
    original = world.account.cookie
    await body_of(await world.upstream.open(world.call()))
    assert world.stored_cookie() == world.account.cookie != original
    mode = (world.auth_dir / f"{CREDENTIAL}.json").stat().st_mode & 0o777
    assert mode == 0o600
    stored = world.store.get("ctonew", CREDENTIAL)
    assert stored is not None and stored.data["label"] == "main", "other fields are kept"
    # The old cookie is dead now; a new upstream (a restart) works from the saved one.
    restarted = CtoNewUpstream(world.upstream.config, Timeouts(), CredentialStore(world.auth_dir))
    try:
        reply = await restarted.open(world.call())
        assert reply.status == 200
        await body_of(reply)
    finally:
        await restarted.close()


async def test_signed_out_cookie_fails_the_attempt_naming_the_fix(world: World, caplog) -> None:
    world.clerk.sign_out(world.account)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AttemptFailed) as caught:
        await world.upstream.open(world.call())
    failure = caught.value
    assert failure.auth, "failover cools the account down"
    assert failure.status == 503
    assert "Signed out" in failure.message
    assert "POST /v1/auth/ctonew" in failure.message
    assert world.upstream.active_requests() == 0
    assert world.upstream.credentials == ()
    assert "signed out" in (world.upstream.unconfigured_reason or "")
    assert "POST /v1/auth/ctonew" in (world.upstream.unconfigured_reason or "")
    state = world.upstream.account_state(world.store.get("ctonew", CREDENTIAL))
    assert state["state"] == "signed_out" and "POST /v1/auth/ctonew" in state["fix"]
    assert world.engine.chats == []
    assert f"event=ctonew_signed_out credential={CREDENTIAL}" in logged(caplog)
    assert world.account.cookie not in logged(caplog)
    # A fresh cookie stored under the same id makes the account usable again.
    fresh = world.clerk.add_account(user_id="user_up", session_id="sess_new")
    world.store.save("ctonew", CREDENTIAL, {"client_cookie": fresh.cookie})
    assert [c.name for c in world.upstream.credentials] == [CREDENTIAL]
    assert world.upstream.account_state(world.store.get("ctonew", CREDENTIAL))["state"] == "ok"
    reply = await world.upstream.open(world.call())
    assert reply.status == 200
    await body_of(reply)


async def test_rejected_jwt_is_fetched_again_once(world: World) -> None:
    await body_of(await world.upstream.open(world.call()))
    world.clerk.signing_key = b"another key: every JWT issued so far is now invalid"
    reply = await world.upstream.open(world.call())
    assert reply.status == 200
    await body_of(reply)
    assert len(world.clerk.exchanges) == 2
    assert [r.status for r in world.engine.requests if r.method == "POST"] == [200, 401, 200]


async def test_prompt_over_the_limit_is_refused_before_any_call(world: World, tmp_path) -> None:
    small = CtoNewUpstream(
        config_for(world.clerk, world.engine, max_prompt_bytes=50), Timeouts(), world.store
    )
    reply = await small.open(world.call([{"role": "user", "content": "x" * 60}]))
    assert reply.status == 400
    error = json.loads(await body_of(reply))["error"]
    assert error["type"] == "invalid_request_error"
    assert "at most 50" in error["message"]
    assert world.clerk.requests == [] and world.engine.requests == []
    assert small.active_requests() == 0
    await small.close()


async def test_unknown_model_and_non_text_parts_are_client_errors(world: World) -> None:
    reply = await world.upstream.open(world.call(model="gpt-4o"))
    assert reply.status == 400
    assert "not a cto.new model" in json.loads(await body_of(reply))["error"]["message"]
    image = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]
    reply = await world.upstream.open(world.call(image))
    assert reply.status == 400
    assert "text only" in json.loads(await body_of(reply))["error"]["message"]


async def test_socket_lost_before_the_end(world: World) -> None:
    world.engine.answers.append(Answer(text="one two three", drop_after=1))
    reply = await world.upstream.open(world.call())
    assert reply.status == 502
    assert "mid-answer" in json.loads(await body_of(reply))["error"]["message"]
    world.engine.answers.append(Answer(text="one two three", drop_after=1))
    reply = await world.upstream.open(world.call(stream=True))
    assert b"one" in await reply.next_chunk()
    with pytest.raises(ConnectionError):
        async with asyncio.timeout(5):
            await reply.next_chunk()
    reply.close()
    assert world.upstream.active_requests() == 0


async def test_closing_mid_stream_leaves_nothing_behind(world: World) -> None:
    world.engine.answers.append(Answer(text="never ending", hang=True))
    reply = await world.upstream.open(world.call(stream=True))
    await reply.next_chunk()
    assert world.engine.open_sockets == 1
    reply.close()
    reply.close()
    await world.engine.wait_sockets_closed()
    async with asyncio.timeout(5):
        while world.upstream._tasks:
            await asyncio.sleep(0.01)
    assert world.upstream.active_requests() == 0


async def test_cancelled_whole_answer_closes_the_socket(world: World) -> None:
    world.engine.answers.append(Answer(text="never ending", hang=True))
    opening = asyncio.ensure_future(world.upstream.open(world.call()))
    async with asyncio.timeout(5):
        while not world.engine.chats:
            await asyncio.sleep(0.01)
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    await world.engine.wait_sockets_closed()
    assert world.upstream.active_requests() == 0


async def test_missing_credential_fails_the_attempt(world: World) -> None:
    with pytest.raises(AttemptFailed) as caught:
        await world.upstream.open(world.call(credential="ctonew-gone"))
    assert caught.value.auth
    assert "POST /v1/auth/ctonew" in caught.value.message


async def test_no_secret_reaches_the_logs(world: World, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    world.clerk.rotate = True
    original = world.account.cookie
    await body_of(await world.upstream.open(world.call()))
    text = logged(caplog)
    assert f"event=ctonew_cookie_rotated credential={CREDENTIAL}" in text
    jwts = [r for r in world.engine.requests if r.method == "POST"]
    token = jwts[0].headers["Authorization"].removeprefix("Bearer ")
    for secret in (original, world.account.cookie, token):
        assert secret not in text


def test_cookie_helper_makes_distinct_values() -> None:
    assert client_cookie_value("client_a") != client_cookie_value("client_a")
