"""Claude and ChatGPT subscription logins (OAuth): /v1/auth/llmux/{provider}/...

"llmux" is what the project's first specification called these two subscription
upstreams ("LLMux Claude", "LLMux ChatGPT"). The name is kept only where users already
rely on it: these URLs and the upstream names ``llmux-claude`` / ``llmux-chatgpt``
(router/config/wire/). In code the subscriptions are ``claude`` and ``chatgpt``; "Codex"
names only the backend API the ChatGPT subscription speaks (and the Codex CLI client).

- ``GET  .../login``: a fresh authorize URL (PKCE verifier and state kept here). While
  the login is open the router also listens on the redirect URI's port when it is free,
  so a browser on this machine completes the login by itself.
- ``GET  .../callback?code=&state=``: where the redirect lands (or is replayed).
- ``POST .../callback``: a headless machine's way: the pasted ``code#state`` as JSON
  ``{"code": "..."}`` (or ``{"code", "state"}``), or as the plain request body.
- ``GET  .../status``: accounts with label, expiry, last refresh and state; never tokens.
- ``DELETE /v1/auth/llmux/{provider}``: forget one account (``?id=``) or all of them.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from router.api.body import max_json_depth
from router.body_reader import loads_bounded, read_text
from router.credentials.store import StoredCredential
from router.errors import ErrorKind, ProxyError, bad_request
from router.oauth.callback_server import CallbackListener
from router.oauth.login import LOGIN_TTL, LoginError, OAuthProvider, split_pasted_code
from router.state import STATE, RouterState

LISTENERS: web.AppKey[dict[str, CallbackListener]] = web.AppKey("login_listeners", dict)


def add_oauth_routes(app: web.Application) -> None:
    app[LISTENERS] = {}
    base = "/v1/auth/llmux/{provider}"
    app.router.add_get(base + "/login", login)
    app.router.add_get(base + "/callback", callback)
    app.router.add_post(base + "/callback", pasted_callback)
    app.router.add_get(base + "/status", status)
    app.router.add_delete(base, forget)

    async def close_listeners(_: web.Application) -> None:
        for listener in list(app[LISTENERS].values()):
            await listener.close()

    app.on_cleanup.append(close_listeners)


def _oauth(request: web.Request) -> tuple[RouterState, OAuthProvider]:
    state = request.app[STATE]
    name = request.match_info["provider"]
    oauth = state.runtime.subscriptions.oauth.get(name)
    if oauth is None:
        known = ", ".join(sorted(state.runtime.subscriptions.oauth)) or "none enabled"
        raise ProxyError(
            404, f"no OAuth subscription named {name!r} (known: {known})", ErrorKind.NOT_FOUND
        )
    return state, oauth


async def login(request: web.Request) -> web.Response:
    state, oauth = _oauth(request)
    started = state.logins.start(oauth)
    listening = await _listen(request.app, state, oauth)
    callback = f"/v1/auth/llmux/{oauth.provider}/callback"
    return web.json_response(
        {
            "provider": oauth.provider,
            "url": started.url,
            "state": started.state,
            "expires_in": round(started.expires_in),
            "redirect_uri": oauth.endpoints.redirect_uri,
            "listening_on_redirect": listening,
            "next": (
                "open the URL and sign in. A browser on this machine returns here by itself; "
                f"elsewhere, copy the code shown (code#state) and POST it to {callback} "
                'as {"code": "<code#state>"}'
            ),
        }
    )


async def _listen(app: web.Application, state: RouterState, oauth: OAuthProvider) -> bool:
    """Start (or keep) the redirect-port listener for this provider's open logins."""
    listeners = app[LISTENERS]
    if oauth.provider in listeners:
        return True

    async def complete(code: str, login_state: str) -> str:
        return (await _complete(state, oauth, code, login_state)).label

    listener = CallbackListener(oauth.endpoints.redirect_uri, complete)
    if not await listener.start():
        return False
    listeners[oauth.provider] = listener

    async def close_when_done() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listener.done.wait(), LOGIN_TTL)
        listeners.pop(oauth.provider, None)
        await listener.close()

    task = asyncio.get_running_loop().create_task(close_when_done())
    state.keep_background(task)
    return True


async def _complete(
    state: RouterState, oauth: OAuthProvider, code: str, login_state: str
) -> StoredCredential:
    try:
        credential = await state.logins.complete(oauth, code, login_state)
    except LoginError as exc:
        kind = ErrorKind.API_ERROR if exc.status >= 500 else ErrorKind.INVALID_REQUEST
        raise ProxyError(exc.status, exc.message, kind) from None
    upstream = state.runtime.subscriptions.by_provider[oauth.provider]
    state.cooldowns.reset(upstream.name, credential.id)
    return credential


async def callback(request: web.Request) -> web.Response:
    state, oauth = _oauth(request)
    error = request.query.get("error")
    if error:
        raise bad_request(f"sign-in was not completed: {error}")
    credential = await _complete(
        state, oauth, request.query.get("code", ""), request.query.get("state", "")
    )
    return _logged_in(oauth, credential.id, credential.label)


async def pasted_callback(request: web.Request) -> web.Response:
    state, oauth = _oauth(request)
    text = await read_text(request, state.runtime.body_limit)
    code, login_state = _pasted(text, max_json_depth(request))
    credential = await _complete(state, oauth, code, login_state)
    return _logged_in(oauth, credential.id, credential.label)


def _pasted(text: str, max_depth: int) -> tuple[str, str]:
    """``{"code": "c#s"}``, ``{"code": "c", "state": "s"}`` or a bare ``c#s``."""
    text = text.strip()
    if text.startswith("{"):
        try:
            body = loads_bounded(text, max_depth)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("code"), str):
            raise bad_request(
                'expected {"code": "<code#state>"} or {"code": "...", "state": "..."}', "code"
            )
        code, state = split_pasted_code(body["code"])
        if isinstance(body.get("state"), str) and body["state"]:
            state = body["state"]
        return code, state
    return split_pasted_code(text)


def _logged_in(oauth: OAuthProvider, credential_id: str, label: str) -> web.Response:
    return web.json_response(
        {"status": "logged_in", "provider": oauth.provider, "id": credential_id, "label": label}
    )


async def status(request: web.Request) -> web.Response:
    state, oauth = _oauth(request)
    keeper = state.runtime.subscriptions.keepers[oauth.provider]
    accounts = [keeper.state(c) for c in state.credentials.list(oauth.provider)]
    answer: dict[str, object] = {
        "provider": oauth.provider,
        "logged_in": any(a["state"] == "ok" for a in accounts),
        "accounts": accounts,
    }
    if not accounts:
        answer["fix"] = keeper.login_hint
    return web.json_response(answer)


async def forget(request: web.Request) -> web.Response:
    state, oauth = _oauth(request)
    credential_id = request.query.get("id")
    removed = state.credentials.delete(oauth.provider, credential_id)
    if credential_id and not removed:
        raise ProxyError(
            404, f"no {oauth.provider} account with id {credential_id!r}", ErrorKind.NOT_FOUND
        )
    return web.json_response({"provider": oauth.provider, "removed": removed})
