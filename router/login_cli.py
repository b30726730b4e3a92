"""``python -m router login claude|chatgpt``: an OAuth login from a terminal.

Prints the authorize URL, listens on the redirect URI's port when it is free (a browser
on this machine completes the login by itself) and meanwhile reads a pasted ``code#state``
or the whole callback URL from standard input (a headless VPS). The credential file lands
in auth-dir, where a running router picks it up within a second.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

from router.config import LoadedConfig
from router.credentials import CredentialStore, StoredCredential
from router.oauth.callback_server import CallbackListener
from router.oauth.login import LOGIN_TTL, LoginError, LoginFlows, OAuthProvider, split_pasted_code
from router.subscriptions.chatgpt.oauth import ChatGPTOAuth
from router.subscriptions.claude.oauth import ClaudeOAuth

LOGIN_PROVIDERS = ("claude", "chatgpt")


def oauth_for(loaded: LoadedConfig, provider: str) -> OAuthProvider:
    config = loaded.config
    sections = config.subscriptions
    if provider == "claude":
        return ClaudeOAuth(sections.claude, config.proxy_for(sections.claude.proxy_url))
    return ChatGPTOAuth(sections.chatgpt, config.proxy_for(sections.chatgpt.proxy_url))


def parse_pasted(line: str, default_state: str) -> tuple[str, str]:
    """``code#state``, a bare code, or the callback URL the browser ended on."""
    line = line.strip()
    if "://" in line:
        query = parse_qs(urlsplit(line).query)
        return query.get("code", [""])[0], query.get("state", [default_state])[0]
    code, state = split_pasted_code(line)
    return code, state or default_state


async def terminal_login(
    loaded: LoadedConfig, provider: str, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> int:
    oauth = oauth_for(loaded, provider)
    store = CredentialStore(loaded.config.auth_dir)
    flows = LoginFlows(store)
    started = flows.start(oauth)
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[StoredCredential] = loop.create_future()

    async def complete(code: str, state: str) -> str:
        credential = await flows.complete(oauth, code, state)
        if not finished.done():
            finished.set_result(credential)
        return credential.label

    listener = CallbackListener(oauth.endpoints.redirect_uri, complete)
    listening = await listener.start()
    print(f"Open this URL in a browser and sign in to your {provider} account:\n", file=out)
    print(f"  {started.url}\n", file=out)
    if listening:
        print(f"Waiting for the browser to come back to {oauth.endpoints.redirect_uri}.", file=out)
    print(
        "On another machine? Paste the code shown after sign-in (code#state), or the URL the "
        "browser ended on, and press Enter:",
        file=out,
        flush=True,
    )

    async def on_line(line: str) -> None:
        code, state = parse_pasted(line, started.state)
        try:
            await complete(code, state)
        except LoginError as exc:
            print(f"login failed: {exc.message}", file=out, flush=True)
            if not finished.done():
                finished.set_exception(exc)

    pending: set[asyncio.Task[None]] = set()

    def readable() -> None:
        line = stdin.readline()
        if not line:
            loop.remove_reader(stdin.fileno())
            return
        if line.strip():
            task = loop.create_task(on_line(line))
            pending.add(task)
            task.add_done_callback(pending.discard)

    loop.add_reader(stdin.fileno(), readable)
    try:
        credential = await asyncio.wait_for(finished, LOGIN_TTL)
    except TimeoutError:
        print("login timed out; run the command again", file=out)
        return 1
    except LoginError:
        return 1
    finally:
        loop.remove_reader(stdin.fileno())
        await listener.close()
        for task in pending:
            task.cancel()
    where = store.directory / f"{credential.id}.json"
    print(f"Logged in as {credential.label}; credential saved to {where}", file=out, flush=True)
    return 0
