"""The dashboard in real Chromium (Debian's, through Playwright): it renders the fakes'
data, its actions work (reset a cooldown, create and revoke a key), the console stays
clean, and it fits a phone's width. Screenshots go to $CLIPROXY_ARTIFACTS (else tmp)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from playwright.async_api import ConsoleMessage, Page, async_playwright

from tests.conftest import StartRouter
from tests.fakes.behaviours import Reply, Status, Usage
from tests.fakes.clerk import ClerkFake
from tests.fakes.enginelabs import EngineLabsFake
from tests.fakes.oauth import ClaudeOAuthFake
from tests.usage.conftest import KEYS, Client, start_usage_router

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
]


async def _loaded(page: Page, url: str) -> None:
    await page.goto(url + "/dashboard")
    await page.wait_for_selector("body[data-loaded=true]", timeout=15000)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    where = Path(os.environ.get("CLIPROXY_ARTIFACTS") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where


async def test_dashboard_renders_and_its_actions_work(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http, artifacts
) -> None:
    router = await start_usage_router(
        router_factory, openai_fake, anthropic_fake, gemini_fake,
        routing={"retry-backoff": 0, "cooldown": {"initial": 600}},
    )  # fmt: skip
    client = Client(router.url, http)
    openai_fake.script.push(Status(500))
    openai_fake.script.push(Reply(usage=Usage(1200, 300)))
    assert await client.chat(KEYS["alice"], "gpt-4o") == 200
    anthropic_fake.script.push(Reply(usage=Usage(5000, 800, cached_tokens=2000)))
    assert await client.messages(KEYS["bob"], "claude-sonnet-4-5") == 200
    gemini_fake.script.push(Reply(usage=Usage(900, 90)))
    assert await client.gemini(KEYS["bob"], "gemini-2.5-flash") == 200
    count = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": f"Bearer {KEYS['bob']}"}
    async with http.post(
        router.url + "/v1/messages/count_tokens", json=count, headers=headers
    ) as r:
        assert r.status == 200
    async with http.post(
        router.url + "/v1/management/keys",
        json={"name": "tablet", "limits": {"requests_per_minute": 30, "tokens_per_day": 50000}},
    ) as response:
        tablet = (await response.json())["key"]
    assert await client.chat(tablet, "gpt-4o-mini") == 200
    assert router.state.cooldowns.active("p-openai")
    account = {"access_token": "at", "refresh_token": "rt", "email": "ada@example.com",
               "expires_at": time.time() + 86400}  # fmt: skip
    router.state.credentials.save("claude", "claude-ada-example.com", account)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = await browser.new_page(viewport={"width": 1280, "height": 1400})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if _is_error(m) else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("dialog", lambda dialog: dialog.accept())
        await _loaded(page, router.url)

        openai_row = page.locator("#providers tr[data-provider=p-openai]")
        assert "first" in await openai_row.inner_text()
        assert "gpt-4o" in await openai_row.locator("td").nth(3).inner_text()
        usage = page.locator("#usage tbody")
        assert await usage.locator("tr").count() == 3
        assert "1,200" in await usage.locator("tr[data-name=alice]").inner_text()
        # bob: Anthropic's 5000 + 2000 cache reads + Gemini's 900 prompt tokens.
        assert "7,900" in await usage.locator("tr[data-name=bob]").inner_text()
        assert await page.locator("#chart svg rect").count() == 3
        # The token count is listed as one, and left out of bob's totals above.
        assert await page.locator("#recent tbody tr").count() == 5
        assert await page.locator("#recent tbody tr", has_text="(token count)").count() == 1
        assert (
            "requests per minute: 30"
            in await page.locator("#keys tr[data-key=tablet]").inner_text()
        )
        await page.screenshot(path=str(artifacts / "dashboard-desktop.png"), full_page=True)

        await page.click("button[data-reset=p-openai]")
        await openai_row.locator("button[data-reset]").wait_for(state="detached")
        assert router.state.cooldowns.active("p-openai") == []

        claude_row = page.locator("#providers tr[data-provider=llmux-claude]")
        assert "ada@example.com: ok" in await claude_row.inner_text()
        await page.click("button[data-forget=claude-ada-example\\.com]")
        await claude_row.locator("button[data-forget]").wait_for(state="detached")
        assert router.state.credentials.list("claude") == []

        await page.click("button[data-revoke=tablet]")
        await page.locator("#keys tr[data-key=tablet] td.revoked").wait_for()
        assert await client.chat(tablet, "gpt-4o-mini") == 403

        await page.fill("#key-name", "phone")
        await page.fill("#key-rpm", "10")
        await page.click("#key-form button[type=submit]")
        await page.locator("#keys tr[data-key=phone]").wait_for()
        shown = await page.locator("#new-key").inner_text()
        secret = shown.rsplit(": ", 1)[1]
        assert await client.chat(secret, "gpt-4o") == 200

        phone = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        phone.on("console", lambda m: problems.append(m.text) if _is_error(m) else None)
        phone.on("pageerror", lambda e: problems.append(str(e)))
        await _loaded(phone, router.url)
        overflow = await phone.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, "the page is wider than a phone's screen"
        await phone.screenshot(path=str(artifacts / "dashboard-phone.png"), full_page=True)
        await browser.close()
    assert problems == []
    print(f"dashboard screenshots in {artifacts}")


def claude_section(oauth: ClaudeOAuthFake) -> dict[str, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {
        "authorize-url": oauth.authorize_endpoint,
        "token-url": oauth.token_endpoint,
        "redirect-uri": f"http://localhost:{port}/callback",
    }


def _is_error(message: ConsoleMessage) -> bool:
    return message.type == "error"


async def test_dashboard_with_a_secret_asks_once_then_loads(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http
) -> None:
    secret = "dashboard-test-secret"
    router = await start_usage_router(
        router_factory, openai_fake, anthropic_fake, gemini_fake, management={"secret": secret}
    )
    assert await Client(router.url, http).chat(KEYS["alice"], "gpt-4o") == 200
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = await browser.new_page()
        refused: list[str] = []
        page.on("response", lambda r: refused.append(r.url) if r.status == 401 else None)
        await page.goto(router.url + "/dashboard")
        await page.locator("#secret-form").wait_for(state="visible")
        await page.wait_for_timeout(300)
        # One refused call, not one per panel: each counts toward the guard's lockout.
        assert len(refused) == 1 and "/v1/management/" in refused[0]
        await page.fill("#secret", secret)
        await page.click("#secret-form button[type=submit]")
        await page.wait_for_selector("body[data-loaded=true]", timeout=15000)
        assert await page.locator("#usage tbody tr[data-name=alice]").count() == 1
        assert len(refused) == 1
        await browser.close()


async def test_dashboard_logs_in_subscription_accounts_on_a_phone(
    router_factory: StartRouter, openai_fake, anthropic_fake, gemini_fake, http, artifacts
) -> None:
    async with (
        ClaudeOAuthFake(emails=("ada@example.com",)) as oauth,
        ClerkFake() as clerk,
        EngineLabsFake(clerk) as engine,
    ):
        ctonew = {"clerk-url": clerk.base_url, "api-base": engine.base_url,
                  "ws-base": engine.ws_base}  # fmt: skip
        router = await start_usage_router(
            router_factory, openai_fake, anthropic_fake, gemini_fake,
            subscriptions={"claude": claude_section(oauth), "ctonew": ctonew},
        )  # fmt: skip
        assert router.state.credentials.list("claude") == []
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            problems: list[str] = []
            refused: list[str] = []

            def console(message: ConsoleMessage) -> None:
                # Chromium logs the one 400 this test provokes (a wrong code) as an error.
                if _is_error(message) and "status of 400" in message.text:
                    refused.append(message.location.get("url", ""))
                elif _is_error(message):
                    problems.append(message.text)

            page.on("console", console)
            page.on("pageerror", lambda e: problems.append(str(e)))
            await _loaded(page, router.url)
            claude_row = page.locator("#providers tr[data-provider=llmux-claude]")
            assert "not_logged_in" in await claude_row.inner_text()

            await page.click("button[data-login=llmux-claude]")
            link = page.locator("#login-url")
            await link.wait_for(state="visible")
            authorize_url = await link.get_attribute("href")
            assert authorize_url and authorize_url.startswith(oauth.authorize_endpoint)
            # The user signs in elsewhere and pastes the code#state the provider shows.
            await page.fill("#login-input", "abc#not-the-state")
            await page.click("#login-form button[type=submit]")
            await page.locator("#login-result.error").wait_for()
            assert "unknown or expired login state" in await page.inner_text("#login-result")

            pasted = await oauth.authorize_paste(authorize_url)
            await page.fill("#login-input", pasted)
            await page.click("#login-form button[type=submit]")
            await page.locator("#login-result.ok").wait_for()
            assert "as ada@example.com" in await page.inner_text("#login-result")
            await claude_row.get_by_text("ada@example.com: ok").wait_for()
            assert [c.label for c in router.state.credentials.list("claude")] == ["ada@example.com"]

            account = clerk.add_account(user_id="user_dash", session_id="sess_dash")
            await page.click("button[data-login=ctonew]")
            await page.locator("#login-label-field").wait_for(state="visible")
            assert await link.is_hidden()
            await page.fill("#login-input", account.cookie)
            await page.fill("#login-label", "work")
            await page.click("#login-form button[type=submit]")
            await page.get_by_text("Logged in to ctonew as work.").wait_for()
            ctonew_row = page.locator("#providers tr[data-provider=ctonew]")
            await ctonew_row.get_by_text("work: ").wait_for()
            assert [c.label for c in router.state.credentials.list("ctonew")] == ["work"]
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, "the login panel is wider than a phone's screen"
            await page.screenshot(path=str(artifacts / "dashboard-login-phone.png"), full_page=True)
            await browser.close()
    assert problems == []
    assert refused == [router.url + "/v1/auth/llmux/claude/callback"]
