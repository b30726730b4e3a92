"""Install, configure and start each peer as its own docs say a user runs it, pointed at the
bench upstream, at its default log level, with telemetry and update checks off.

claude-code-router  ``ccr start`` in the foreground with ~/.claude-code-router/config.json
                    (HOME is a folder of the run); it takes Anthropic Messages and
                    translates them to the Chat upstream.
9router             the Next.js server its launcher (``9router``) spawns, with the
                    launcher's arguments and environment; the launcher itself is skipped
                    because it kills every ``next-server`` process on the machine, checks
                    npm for updates and opens a menu. The upstream is added as an
                    OpenAI-compatible node through the dashboard API, as a user would in
                    the dashboard.
LiteLLM proxy       ``litellm --config config.yaml --num_workers 1`` with a master key
                    (it refuses to start without one) and the local copies of the model
                    price list and other files it would otherwise fetch.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import time
from pathlib import Path

import aiohttp

from bench.cost import CHAT, MESSAGES
from bench.peers.install import Installed, install
from bench.peers.pins import CLAUDE_CODE_ROUTER, LITELLM, NINEROUTER
from bench.peers.systems import (
    ANTHROPIC_TO_CHAT,
    CHAT_TO_CHAT,
    Context,
    System,
    Target,
    chat_request,
    messages_request,
)
from bench.processes import BENCH_KEY, BENCH_MODEL, Child, StartFailed, free_port

START_TIMEOUT = 180.0
# Every peer: no telemetry, no update notices (each honours some of these).
QUIET_ENV = {
    "DO_NOT_TRACK": "1",
    "NO_UPDATE_NOTIFIER": "1",
    "npm_config_update_notifier": "false",
    "NEXT_TELEMETRY_DISABLED": "1",
}
LITELLM_LOCAL = (
    "LITELLM_LOCAL_MODEL_COST_MAP",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS",
    "LITELLM_LOCAL_BLOG_POSTS",
    "LITELLM_LOCAL_POLICY_TEMPLATES",
)


def _home(ctx: Context, key: str) -> Path:
    home = ctx.workdir / key / "home"
    home.mkdir(parents=True, exist_ok=True)
    return home


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise StartFailed("node is not installed")
    return node


async def _post(session: aiohttp.ClientSession, url: str, target: Target) -> tuple[int, str]:
    """The answer's status (0 for a 200 that is not JSON) and the start of its text."""
    headers = {"Content-Type": "application/json", **target.headers}
    async with session.post(url, data=target.body, headers=headers) as reply:
        text = (await reply.text())[:300]
        if reply.status == 200 and reply.content_type != "application/json":
            return 0, f"200 as {reply.content_type}: {text}"
        return reply.status, text


async def wait_answering(target: Target) -> None:
    """Until the target answers its benchmark request with 200 and JSON (the process must
    stay alive meanwhile)."""
    child, url = target.child, target.child.url + target.url_path
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while time.monotonic() < deadline:
            child.check_alive()
            try:
                status, text = await _post(session, url, target)
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if status == 200:
                    return
                last = f"HTTP {status}: {text}"
            await asyncio.sleep(0.5)
    raise StartFailed(f"{child.name} did not answer 200 in {START_TIMEOUT:g} s ({last})")


def _ccr_config(ctx: Context, port: int) -> dict[str, object]:
    return {
        "HOST": "127.0.0.1",
        "PORT": port,
        "Providers": [
            {
                "name": "bench",
                "api_base_url": f"{ctx.upstream.url}/v1/chat/completions",
                "api_key": BENCH_KEY,
                "models": [BENCH_MODEL],
            }
        ],
        "Router": {"default": f"bench,{BENCH_MODEL}"},
    }


async def start_claude_code_router(ctx: Context) -> Target:
    installed = await install(CLAUDE_CODE_ROUTER, ctx.scratch, ctx.say)
    home = _home(ctx, "claude-code-router")
    port = free_port()
    (home / ".claude-code-router").mkdir(exist_ok=True)
    config = json.dumps(_ccr_config(ctx, port), indent=2)
    (home / ".claude-code-router" / "config.json").write_text(config)
    cli = installed.package_dir / "dist" / "cli.js"
    child = ctx.processes.spawn(
        "claude-code-router",
        [_node(), str(cli), "start"],
        {**QUIET_ENV, "HOME": str(home)},
        cwd=home,
    )
    child.port = port
    target = Target(child, MESSAGES, messages_request(BENCH_MODEL))
    await wait_answering(target)
    return target


def _ninerouter_env(ctx: Context, installed: Installed, port: int) -> dict[str, str]:
    """The launcher's environment for its server, with this run's data folder (the SQLite
    runtime from the install linked into it)."""
    home = _home(ctx, "9router")
    data = home / "data"
    data.mkdir(exist_ok=True)
    runtime = installed.data_dir / "runtime"
    if runtime.exists() and not (data / "runtime").exists():
        (data / "runtime").symlink_to(runtime, target_is_directory=True)
    node_path = [str(runtime / "node_modules"), str(installed.package_dir / "app" / "node_modules")]
    return {
        **QUIET_ENV,
        "HOME": str(home),
        "DATA_DIR": str(data),
        "NODE_PATH": ":".join(node_path),
        "PORT": str(port),
        "HOSTNAME": "127.0.0.1",
        "INITIAL_PASSWORD": secrets.token_urlsafe(16),
        # Its model catalogue is fetched from the internet at start and now and then.
        "MODEL_CATALOG_SYNC": "off",
    }


async def _dashboard(session: aiohttp.ClientSession, url: str, body: dict[str, object]) -> dict:
    async with session.post(url, json=body) as reply:
        text = await reply.text()
        if reply.status >= 300:
            raise StartFailed(f"9router {url} answered {reply.status}: {text[:300]}")
        return dict(json.loads(text))


async def _login(session: aiohttp.ClientSession, child: Child, password: str) -> None:
    """The dashboard's password login, retried until the server is up."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        child.check_alive()
        try:
            await _dashboard(session, f"{child.url}/api/auth/login", {"password": password})
            return
        except (aiohttp.ClientError, StartFailed):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _configure_ninerouter(child: Child, password: str, upstream: Child) -> str:
    """Through the dashboard API: add the upstream as an OpenAI-compatible node with its
    key and create a client API key (9router's /v1 wants one); returns that key."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        await _login(session, child, password)
        node = await _dashboard(
            session,
            f"{child.url}/api/provider-nodes",
            {
                "name": "bench",
                "prefix": "bench",
                "apiType": "chat",
                "type": "openai-compatible",
                "baseUrl": f"{upstream.url}/v1",
            },
        )
        body = {"provider": node["node"]["id"], "apiKey": BENCH_KEY, "name": "bench"}
        await _dashboard(session, f"{child.url}/api/providers", body)
        created = await _dashboard(session, f"{child.url}/api/keys", {"name": "bench"})
    return str(created["key"])


async def start_ninerouter(ctx: Context) -> Target:
    installed = await install(NINEROUTER, ctx.scratch, ctx.say)
    app = installed.package_dir / "app"
    server = app / "custom-server.js"
    if not server.exists():
        server = app / "server.js"
    port = free_port()
    env = _ninerouter_env(ctx, installed, port)
    argv = [_node(), "--dns-result-order=ipv4first", "--max-old-space-size=6144", str(server)]
    child = ctx.processes.spawn("9router", argv, env, cwd=app)
    child.port = port
    key = await _configure_ninerouter(child, env["INITIAL_PASSWORD"], ctx.upstream)
    headers = {"Authorization": f"Bearer {key}"}
    target = Target(child, CHAT, chat_request(f"bench/{BENCH_MODEL}"), headers)
    await wait_answering(target)
    return target


def _litellm_config(upstream: Child) -> str:
    return (
        "model_list:\n"
        f"  - model_name: {BENCH_MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{BENCH_MODEL}\n"
        f"      api_base: {upstream.url}/v1\n"
        f"      api_key: {BENCH_KEY}\n"
    )


async def start_litellm(ctx: Context) -> Target:
    installed = await install(LITELLM, ctx.scratch, ctx.say)
    home = _home(ctx, "litellm")
    (home / "config.yaml").write_text(_litellm_config(ctx.upstream))
    key = "sk-" + secrets.token_hex(24)
    env = {**QUIET_ENV, "HOME": str(home), "LITELLM_MASTER_KEY": key}
    env.update({name: "True" for name in LITELLM_LOCAL})
    port = free_port()
    argv = [str(installed.venv / "bin" / "litellm"), "--config", str(home / "config.yaml")]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    child = ctx.processes.spawn("litellm", argv, env, cwd=home)
    child.port = port
    target = Target(child, CHAT, chat_request(BENCH_MODEL), {"Authorization": f"Bearer {key}"})
    await wait_answering(target)
    return target


PEERS = [
    System(
        "claude-code-router",
        CLAUDE_CODE_ROUTER.label,
        ANTHROPIC_TO_CHAT,
        start_claude_code_router,
    ),
    System("9router", NINEROUTER.label, CHAT_TO_CHAT, start_ninerouter),
    System("litellm", LITELLM.label + " (1 worker)", CHAT_TO_CHAT, start_litellm),
]
