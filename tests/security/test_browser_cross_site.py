"""A real Chromium page from another origin tries to use cliproxy; every attempt is refused.

The page's names (evil.test, rebind.test, app.test) resolve to 127.0.0.1 through
Chromium's ``--host-resolver-rules``, so nothing leaves loopback. DNS rebinding is played
by loading the attacker's page from ``http://rebind.test:<port>/`` and then putting the
router on that port in place of the attacker's server: the page's later fetches of
``/v1/...`` are same-origin in the browser's eyes and reach the router with
``Host: rebind.test:<port>``, exactly as after a real rebinding.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml
from aiohttp import web
from playwright.async_api import Browser, Playwright, async_playwright

from providers.aistudio.constants import CHROMIUM_FLAGS
from router.config import read_config
from router.server import RunningRouter, start_router
from testkit.relay_peer import RelayPeer, stream_handler
from tests.conftest import StartRouter, provider
from tests.fakes.behaviours import Reply
from tests.fakes.clerk import client_cookie_value
from tests.fakes.openai import OpenAIFake

CHROMIUM = "/usr/bin/chromium"
RESOLVER = "--host-resolver-rules=MAP evil.test 127.0.0.1, MAP rebind.test 127.0.0.1, " + (
    "MAP app.test 127.0.0.1"
)
SESSION = "aistudio"
MODEL = "gemini-2.5-flash-aistudio"
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "what is my secret?"}]}
pytestmark = pytest.mark.e2e

ATTACK_SCRIPT = """
async ({base, ws, chat, cookie}) => {
  const results = {};
  const attempt = async (name, run) => {
    try {
      const response = await run();
      results[name] = response.type === "opaque" ? "opaque" : response.status;
    } catch (error) {
      results[name] = "blocked";
    }
  };
  const text = {"Content-Type": "text/plain"};
  await attempt("get", () => fetch(base + "/v1/models"));
  await attempt("simple_post", () => fetch(base + "/v1/chat/completions",
    {method: "POST", mode: "no-cors", headers: text, body: chat}));
  await attempt("preflighted_post", () => fetch(base + "/v1/chat/completions",
    {method: "POST", body: chat,
     headers: {"Content-Type": "application/json", "Authorization": "Bearer x"}}));
  await attempt("login_post", () => fetch(base + "/v1/auth/ctonew",
    {method: "POST", mode: "no-cors", headers: text, body: cookie}));
  await attempt("login_delete", () => fetch(base + "/v1/auth/ctonew",
    {method: "DELETE"}));
  const socket = (url) => new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.onopen = () => { resolve("open"); ws.close(); };
    ws.onerror = () => resolve("refused");
  });
  results.ws = await socket(ws);
  return results;
}
"""

FORM_PAGE = """<!doctype html><html><body>
<form id="f" method="POST" enctype="text/plain" action="{action}">
<input type="hidden" name='{name}' value='{value}'>
</form></body></html>"""

SAME_ORIGIN_SCRIPT = """
async ({chat, cookie}) => {
  const json = {"Content-Type": "application/json"};
  const status = async (path, init) => {
    try {
      return (await fetch(path, init)).status;
    } catch (error) {
      return "blocked";
    }
  };
  return {
    models: await status("/v1/models"),
    chat: await status("/v1/chat/completions", {method: "POST", headers: json, body: chat}),
    login: await status("/v1/auth/ctonew", {method: "POST", headers: json, body: cookie}),
    management: await status("/v1/management/cooldowns"),
  };
}
"""


@dataclass
class Scene:
    router: RunningRouter
    fake: OpenAIFake
    page_port: int
    browser: Browser
    peer: RelayPeer
    relay_key: str
    pages: dict[str, str]

    @property
    def router_port(self) -> int:
        return int(self.router.url.rsplit(":", 1)[1])

    def ctonew_files(self) -> list[str]:
        return sorted(p.name for p in self.router.state.credentials.directory.glob("ctonew-*"))


def answer_chunk(text: str) -> str:
    event = {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]}
    event["candidates"][0]["finishReason"] = "STOP"
    return f"data: {json.dumps(event)}\r\n\r\n"


def cookie_body(label: str) -> str:
    return json.dumps({"cookie": client_cookie_value(f"client_{label}"), "label": label})


async def launch_chromium(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_FLAGS, RESOLVER]
    )


async def serve_pages(pages: dict[str, str]) -> tuple[web.AppRunner, int]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=pages[request.path], content_type="text/html")

    app = web.Application()
    app.router.add_get("/{name}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, runner.addresses[0][1]


@pytest.fixture
async def scene(
    router_factory: StartRouter, openai_fake: OpenAIFake, request: pytest.FixtureRequest
) -> AsyncIterator[Scene]:
    extra: dict[str, Any] = getattr(request, "param", {})
    pages: dict[str, str] = {"/blank.html": "<!doctype html><title>page</title>"}
    runner, page_port = await serve_pages(pages)
    config = {
        "providers": [provider("up", openai_fake.base_url + "/v1", [openai_fake.key], ["gpt-4o"])],
        **{k: [v.format(page_port=page_port) for v in vs] for k, vs in extra.items()},
    }
    router = await router_factory(config)
    relay_key = router.state.runtime.config.aistudio.relay_key
    peer_url = router.url.replace("http://", "ws://", 1) + f"/v1/ws?name={SESSION}"
    peer = RelayPeer(f"{peer_url}&auth_token={relay_key}", stream_handler([answer_chunk("ok")]))
    async with peer, async_playwright() as playwright:
        async with asyncio.timeout(5):
            await router.state.relay.wait_for_session(SESSION)
        browser = await launch_chromium(playwright)
        try:
            yield Scene(router, openai_fake, page_port, browser, peer, relay_key, pages)
        finally:
            await browser.close()
            await runner.cleanup()


async def relay_still_serves_the_real_peer(scene: Scene) -> None:
    chat = openai.AsyncOpenAI(base_url=scene.router.url + "/v1", api_key="x", max_retries=0)
    async with asyncio.timeout(10):
        stream = await chat.chat.completions.create(
            model=MODEL, messages=CHAT["messages"], stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "ok"
    assert len(scene.peer.requests) == 1


def router_statuses(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, int]]:
    return [
        (r.fields["method"], r.fields["path"], r.fields["status"])  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "router.request"
    ]


async def test_a_cross_site_page_is_refused_everything(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="router.request")
    page = await scene.browser.new_page()
    await page.goto(f"http://evil.test:{scene.page_port}/blank.html")
    base = f"http://127.0.0.1:{scene.router_port}"
    results = await page.evaluate(
        ATTACK_SCRIPT,
        {
            "base": base,
            "ws": base.replace("http://", "ws://") + f"/v1/ws?name={SESSION}",
            "chat": json.dumps(CHAT),
            "cookie": cookie_body("attacker"),
        },
    )
    assert results == {
        "get": "blocked",
        "simple_post": "opaque",
        "preflighted_post": "blocked",
        "login_post": "opaque",
        "login_delete": "blocked",
        "ws": "refused",
    }
    statuses = router_statuses(caplog)
    assert statuses, "the browser's requests must reach the router"
    assert all(status == 403 for _, _, status in statuses), statuses
    assert scene.fake.requests == []
    assert scene.ctonew_files() == []
    await relay_still_serves_the_real_peer(scene)


async def test_a_page_that_knows_the_relay_key_still_cannot_take_the_session(
    scene: Scene,
) -> None:
    page = await scene.browser.new_page()
    await page.goto(f"http://evil.test:{scene.page_port}/blank.html")
    url = f"ws://127.0.0.1:{scene.router_port}/v1/ws?name={SESSION}&auth_token={scene.relay_key}"
    outcome = await page.evaluate(
        """(url) => new Promise((resolve) => {
            const ws = new WebSocket(url);
            ws.onopen = () => { resolve("open"); ws.close(); };
            ws.onerror = () => resolve("refused");
        })""",
        url,
    )
    assert outcome == "refused"
    await relay_still_serves_the_real_peer(scene)


async def test_a_cross_site_form_post_stores_no_login(scene: Scene) -> None:
    body = json.loads(cookie_body("form"))
    name = json.dumps(body)[:-1] + ', "pad": "'
    scene.pages["/form.html"] = FORM_PAGE.format(
        action=f"http://127.0.0.1:{scene.router_port}/v1/auth/ctonew", name=name, value='"}'
    )
    page = await scene.browser.new_page()
    await page.goto(f"http://evil.test:{scene.page_port}/form.html")
    async with page.expect_navigation() as navigation:
        await page.evaluate("document.getElementById('f').submit()")
    response = await navigation.value
    assert response is not None and response.status == 403
    assert "permission_error" in await response.text()
    assert scene.ctonew_files() == []


async def test_dns_rebinding_is_refused_on_every_route(
    router_factory: StartRouter, openai_fake: OpenAIFake, tmp_path: Path
) -> None:
    """The attacker's page loads from rebind.test:<port>; then the name "rebinds": the
    attacker's server goes and the router answers on that address and port."""
    page_server, port = await serve_pages({"/attack.html": "<title>rebind</title>"})
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            page = await browser.new_page()
            await page.goto(f"http://rebind.test:{port}/attack.html")
            await page_server.cleanup()
            config = {
                "auth-dir": str(tmp_path / "auth"),
                "providers": [
                    provider("up", openai_fake.base_url + "/v1", [openai_fake.key], ["gpt-4o"])
                ],
            }
            path = tmp_path / "rebind.yaml"
            path.write_text(yaml.safe_dump(config))
            router = await start_router(read_config(path, env={}), path, port=port)
            try:
                results = await page.evaluate(
                    SAME_ORIGIN_SCRIPT,
                    {"chat": json.dumps(CHAT), "cookie": cookie_body("rebound")},
                )
            finally:
                await router.stop()
        finally:
            await browser.close()
    assert results == {"models": 421, "chat": 421, "login": 421, "management": 421}
    assert openai_fake.requests == []
    assert not list((tmp_path / "auth").glob("ctonew-*"))


@pytest.mark.parametrize(
    "scene", [{"cors-origins": ["http://app.test:{page_port}"]}], indirect=True
)
async def test_an_allowed_origin_works_through_a_real_preflight(scene: Scene) -> None:
    scene.fake.script.push(Reply(text="hello app"))
    page = await scene.browser.new_page()
    await page.goto(f"http://app.test:{scene.page_port}/blank.html")
    answer = await page.evaluate(
        """async ({url, chat}) => {
            const response = await fetch(url, {method: "POST", body: chat,
              headers: {"Content-Type": "application/json", "Authorization": "Bearer x"}});
            return {status: response.status, body: await response.json(),
                    requestId: response.headers.get("X-Request-Id")};
        }""",
        {
            "url": f"http://127.0.0.1:{scene.router_port}/v1/chat/completions",
            "chat": json.dumps(CHAT),
        },
    )
    assert answer["status"] == 200
    assert answer["body"]["choices"][0]["message"]["content"] == "hello app"
    assert answer["requestId"]
    assert len(scene.fake.requests) == 1
