"""cto.new as an upstream: stored Clerk cookies in, OpenAI Chat answers out.

The router hands over an OpenAI Chat body (whatever the client spoke). It is flattened
into one prompt, the model name is mapped to an EngineLabs adapter, a session JWT comes
from Clerk (cached; a rotated ``__client`` is saved to the credential file at once), the
chat socket is opened, the prompt posted, and the pieces are relayed as they arrive.

Each stored ``ctonew`` credential is one account (``UpstreamCredential.name`` is its id).
A cookie Clerk calls signed out fails the attempt as an auth failure (AttemptFailed, 503,
with a message naming ``POST /v1/auth/ctonew``), so failover cools the account down and
moves on, and the account is left out until a new cookie is stored. Only wire version
"v1" (plain prompt plus ``adapterName``) is implemented.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from router.config.proxy import DIRECT_CONNECTION, ProxySetting
from router.config.schema import ModelEntry, Timeouts
from router.config.subscriptions import CtoNewConfig
from router.config.wire import ctonew as constants
from router.credentials import CredentialStore, StoredCredential
from router.errors import AttemptFailed, ErrorKind
from router.formats import Format
from router.logs import log_fields, utc_iso
from router.subscriptions.ctonew.clerk import (
    ClerkClient,
    ClerkError,
    SessionToken,
    SignedOut,
    TokenCache,
)
from router.subscriptions.ctonew.engine import (
    Chat,
    ChatLost,
    EngineEndpoints,
    EngineError,
    Piece,
)
from router.subscriptions.ctonew.prompt import PromptError, check_size, flatten
from router.subscriptions.ctonew.replies import (
    StreamReply,
    completion_reply,
    error_reply,
)
from router.upstreams.base import UpstreamCall, UpstreamCredential, UpstreamReply
from router.upstreams.pool import PooledUpstream, UpstreamPool

log = logging.getLogger("router.ctonew")

COOKIE_FIELD = "client_cookie"
FIX = "log in at cto.new and store the __client cookie with POST /v1/auth/ctonew"


class Refusal(Exception):
    """The request ends here with an error answer (status and a client-safe message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class CtoNewUpstream(PooledUpstream):
    kind = "ctonew"
    wire_format = Format.OPENAI_CHAT
    quota_limited = True
    login_based = True

    def __init__(
        self,
        config: CtoNewConfig,
        timeouts: Timeouts,
        store: CredentialStore,
        *,
        proxy: ProxySetting = DIRECT_CONNECTION,
    ) -> None:
        self.name = constants.UPSTREAM_NAME
        self.config = config
        self.timeouts = timeouts
        self.store = store
        self.models = tuple(ModelEntry(name=model) for model in config.models)
        self.endpoints = EngineEndpoints(
            api_base=config.api_base, ws_base=config.ws_base, origin=config.origin
        )
        self.pool = UpstreamPool(lambda: self.timeouts, cookies=False, proxy=proxy)
        self._tokens: TokenCache | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        # Credential id -> the cookie Clerk called signed out (a new cookie clears it).
        self._signed_out: dict[str, str] = {}
        self._last_used: dict[str, float] = {}

    # ---- accounts ------------------------------------------------------------------------

    def usable(self, credential: StoredCredential) -> bool:
        cookie = credential.data.get(COOKIE_FIELD)
        return (
            isinstance(cookie, str)
            and bool(cookie)
            and self._signed_out.get(credential.id) != cookie
        )

    @property
    def credentials(self) -> tuple[UpstreamCredential, ...]:
        return tuple(
            UpstreamCredential(name=c.id, secret="")
            for c in self.store.list(constants.PROVIDER)
            if self.usable(c)
        )

    @property
    def unconfigured_reason(self) -> str | None:
        if self.credentials:
            return None
        if self.store.list(constants.PROVIDER):
            return f"every cto.new account is signed out: {FIX}"
        return f"no cto.new account: {FIX}"

    def accounts(self) -> list[dict[str, Any]]:
        return [self.account_state(c) for c in self.store.list(constants.PROVIDER)]

    def account_state(self, credential: StoredCredential) -> dict[str, Any]:
        """What the status route shows for one account: never the cookie."""
        data = credential.data
        cookie = data.get(COOKIE_FIELD)
        if not isinstance(cookie, str) or not cookie:
            state = "invalid"
        elif self._signed_out.get(credential.id) == cookie:
            state = "signed_out"
        else:
            state = "ok"
        shown: dict[str, Any] = {"id": credential.id, "label": credential.label, "state": state}
        for key in ("session_id", "organization_id"):
            if isinstance(data.get(key), str):
                shown[key] = data[key]
        last_used = self._last_used.get(credential.id)
        shown["last_used"] = utc_iso(last_used) if last_used is not None else None
        if state != "ok":
            shown["fix"] = FIX
        return shown

    # ---- requests ------------------------------------------------------------------------

    def _token_cache(self) -> TokenCache:
        """Clerk tokens, fetched over the upstream's pooled session (made with it)."""
        if self._tokens is None:
            clerk = ClerkClient(
                self.pool.session(),
                clerk_url=self.config.clerk_url,
                api_version=self.config.clerk_api_version,
                origin=self.config.origin,
            )
            self._tokens = TokenCache(clerk, self.config.token_margin)
        return self._tokens

    async def open(self, call: UpstreamCall) -> UpstreamReply:
        closed = self.pool.opened()
        try:
            return await self._open(call, closed)
        except BaseException:
            closed()
            raise

    async def _open(self, call: UpstreamCall, closed: Callable[[], None]) -> UpstreamReply:
        try:
            credential = self._credential(call.credential.name)
            prompt, adapter = self._prompt(call)
            chat = await self._start_chat(credential, prompt, adapter)
        except Refusal as refusal:
            return error_reply(refusal.status, refusal.message, closed)
        head = {
            "id": f"chatcmpl-{call.request_id}",
            "created": int(time.time()),
            "model": call.model,
        }
        if call.stream:
            return StreamReply(chat, head, closed)
        try:
            pieces = await _whole_answer(chat)
        except ChatLost as exc:
            return error_reply(502, str(exc), closed)
        finally:
            chat.close()
        return completion_reply(head, pieces, closed)

    def _credential(self, credential_id: str) -> StoredCredential:
        credential = self.store.get(constants.PROVIDER, credential_id)
        if credential is None or not self.usable(credential):
            raise _unusable(f"cto.new account {credential_id} is signed out or gone: {FIX}")
        self._last_used[credential.id] = time.time()
        return credential

    async def _start_chat(self, credential: StoredCredential, prompt: str, adapter: str) -> Chat:
        token = await self._token(credential)
        try:
            return await self._chat(token, prompt, adapter)
        except EngineError as exc:
            if exc.status != 401:
                raise Refusal(exc.status, exc.message) from None
        # EngineLabs refused the JWT before its time: fetch a new one and try once more.
        self._token_cache().forget(credential.id)
        token = await self._token(credential)
        try:
            return await self._chat(token, prompt, adapter)
        except EngineError as exc:
            raise Refusal(exc.status, exc.message) from None

    async def _chat(self, token: SessionToken, prompt: str, adapter: str) -> Chat:
        chat = Chat(self.pool.session(), self.endpoints, self._tasks)
        await chat.start(token.jwt, token.user_id, prompt, adapter)
        return chat

    def _prompt(self, call: UpstreamCall) -> tuple[str, str]:
        adapter = self.config.models.get(call.model)
        if adapter is None:
            known = ", ".join(sorted(self.config.models))
            raise Refusal(400, f"{call.model!r} is not a cto.new model (known: {known})")
        try:
            body = json.loads(call.body)
        except ValueError:
            raise Refusal(400, "the request body is not JSON") from None
        if not isinstance(body, dict):
            raise Refusal(400, "the request body is not a JSON object")
        try:
            prompt = flatten(body.get("messages"))
            check_size(prompt, self.config.max_prompt_bytes)
        except PromptError as exc:
            raise Refusal(400, exc.message) from None
        return prompt, adapter

    async def _token(self, credential: StoredCredential) -> SessionToken:
        """The account's session JWT; Refusal when Clerk will not give one."""
        data = credential.data

        def persist(cookie: str) -> bool:
            return self._save_rotated(credential, cookie)

        try:
            return await self._token_cache().token(
                credential.id,
                str(data[COOKIE_FIELD]),
                persist,
                session_id=_optional(data.get("session_id")),
                organization_id=_optional(data.get("organization_id")),
            )
        except SignedOut as exc:
            current = self.store.get(constants.PROVIDER, credential.id) or credential
            self._signed_out[credential.id] = str(current.data.get(COOKIE_FIELD))
            log_fields(log, logging.WARNING, event="ctonew_signed_out", credential=credential.id)
            raise _unusable(exc.message) from None
        except ClerkError as exc:
            raise Refusal(exc.status, exc.message) from None

    def _save_rotated(self, credential: StoredCredential, cookie: str) -> bool:
        try:
            self.store.update(credential, {COOKIE_FIELD: cookie, "rotated_at": time.time()})
        except OSError as exc:
            log_fields(
                log,
                logging.ERROR,
                event="ctonew_rotation_not_saved",
                credential=credential.id,
                error=type(exc).__name__,
            )
            return False
        log_fields(log, logging.INFO, event="ctonew_cookie_rotated", credential=credential.id)
        return True

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.pool.close()
        self._tokens = None


def _unusable(message: str) -> AttemptFailed:
    """The account cannot be used until a new cookie is stored: failover cools it down and
    moves on, and the client sees ``message`` (which names the fix) if nothing else answers."""
    return AttemptFailed(503, ErrorKind.OVERLOADED, message, auth=True)


async def _whole_answer(chat: Chat) -> list[Piece]:
    pieces: list[Piece] = []
    while (piece := await chat.next_piece()) is not None:
        pieces.append(piece)
    return pieces


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
