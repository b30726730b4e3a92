"""How each pinned agent CLI is run headless against a base URL (capture server or router).

One place for the flags, environment and config files, shared by the corpus recorder
(record.py) and the end-to-end tests, and mirrored in docs/CLIENTS.md. Every client gets a
throwaway HOME (and config dir), telemetry and auto-update off, and a fake key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

CLIENTS_DIR = Path(__file__).resolve().parent
BIN = CLIENTS_DIR / "node_modules" / ".bin"
# aider comes from PyPI, pinned in requirements-aider.txt and installed by
# scripts/install-clients.sh into a venv of its own (it pins its dependencies exactly).
AIDER_REQUIREMENTS = CLIENTS_DIR / "requirements-aider.txt"
AIDER = CLIENTS_DIR / "aider-venv" / "bin" / "aider"
PACKAGES = {
    "claude-code": "@anthropic-ai/claude-code",
    "codex": "@openai/codex",
    "codex-lite": "@openai/codex",
    "gemini-cli": "@google/gemini-cli",
    "opencode": "opencode-ai",
    "opencode-google": "opencode-ai",
    "opencode-anthropic": "opencode-ai",
    "amp": "@ampcode/cli",
}
PROMPT = "Run the shell command `echo {marker}` with your shell tool, then say done."
FAKE_KEY = "sk-cliproxy-client-test"
# Any address but loopback goes to a closed port, so a fetch a client (aider, Amp) makes
# on its own fails at once and visibly instead of reaching the network.
NOWHERE = "http://127.0.0.1:9"

# Variables that would send traffic elsewhere or pick up the developer's own setup.
SCRUBBED_ENV = (
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_MODEL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "GOOGLE_API_KEY",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
)


@dataclass
class ClientRun:
    """One headless invocation: argv, environment and working directory."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    files: dict[str, str] = field(default_factory=dict)


def version(client: str) -> str:
    """The installed (pinned) version of a client package."""
    if client == "aider":
        return AIDER_REQUIREMENTS.read_text().strip().partition("==")[2]
    manifest = BIN.parent / PACKAGES[client] / "package.json"
    return str(json.loads(manifest.read_text())["version"])


def base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local/state"),
        NO_COLOR="1",
        CI="1",
        NO_PROXY="127.0.0.1,localhost",
        TMPDIR=str(home / "tmp"),
    )
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    return env


def write(home: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = home / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def claude_code(base_url: str, home: Path, model: str, prompt: str) -> ClientRun:
    """`claude -p`: ANTHROPIC_BASE_URL is the server root (the CLI adds /v1/messages)."""
    env = base_env(home)
    env.update(
        ANTHROPIC_BASE_URL=base_url,
        ANTHROPIC_API_KEY=FAKE_KEY,
        DISABLE_TELEMETRY="1",
        DISABLE_AUTOUPDATER="1",
        DISABLE_ERROR_REPORTING="1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        MAX_THINKING_TOKENS="2048",
        IS_SANDBOX="1",
    )
    files = {".claude/settings.json": json.dumps({"alwaysThinkingEnabled": True})}
    argv = [
        str(BIN / "claude"),
        "-p",
        prompt,
        "--model",
        model,
        "--output-format",
        "text",
        "--dangerously-skip-permissions",
    ]
    return ClientRun(argv, env, home / "work", files)


def codex(base_url: str, home: Path, model: str, prompt: str) -> ClientRun:
    """`codex exec` with a custom Responses provider; base_url ends in /v1."""
    env = base_env(home)
    env.update(CODEX_HOME=str(home / ".codex"), CLIPROXY_KEY=FAKE_KEY)
    config = "\n".join(
        [
            f'model = "{model}"',
            'model_provider = "cliproxy"',
            'model_reasoning_effort = "high"',
            'model_reasoning_summary = "auto"',
            "check_for_update_on_startup = false",
            "[analytics]",
            "enabled = false",
            "[otel]",
            'exporter = "none"',
            "[model_providers.cliproxy]",
            'name = "cliproxy"',
            f'base_url = "{base_url}/v1"',
            'env_key = "CLIPROXY_KEY"',
            'wire_api = "responses"',
            "request_max_retries = 0",
            "stream_max_retries = 0",
            "",
        ]
    )
    files = {".codex/config.toml": config}
    argv = [
        str(BIN / "codex"),
        "exec",
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",
        prompt,
    ]
    return ClientRun(argv, env, home / "work", files)


def gemini_cli(base_url: str, home: Path, model: str, prompt: str) -> ClientRun:
    """`gemini -p` with GOOGLE_GEMINI_BASE_URL (the server root) and GEMINI_API_KEY."""
    env = base_env(home)
    env.update(
        GOOGLE_GEMINI_BASE_URL=base_url,
        GEMINI_API_KEY=FAKE_KEY,
        GEMINI_TELEMETRY_ENABLED="false",
        GEMINI_CLI_NO_RELAUNCH="true",
        GEMINI_CLI_TRUST_WORKSPACE="true",
    )
    settings = {
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
        "security": {"auth": {"selectedType": "gemini-api-key"}},
    }
    files = {".gemini/settings.json": json.dumps(settings)}
    argv = [str(BIN / "gemini"), "-p", prompt, "-m", model, "--yolo"]
    return ClientRun(argv, env, home / "work", files)


# opencode's provider SDKs (bundled in its binary), the base path each one expects and
# the model options that turn thinking on (the OpenAI-compatible one sends
# reasoning_effort by itself only for model names it knows reason, such as gpt-5).
OPENCODE_SDKS: dict[str, tuple[str, str, dict[str, object]]] = {
    "opencode": ("@ai-sdk/openai-compatible", "/v1", {"reasoningEffort": "medium"}),
    "opencode-google": (
        "@ai-sdk/google",
        "/v1beta",
        {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 2048}},
    ),
    "opencode-anthropic": (
        "@ai-sdk/anthropic",
        "/v1",
        {"thinking": {"type": "enabled", "budgetTokens": 2048}},
    ),
}


def opencode(
    base_url: str, home: Path, model: str, prompt: str, variant: str = "opencode"
) -> ClientRun:
    """`opencode run` with a provider built on one of its bundled AI SDK providers."""
    sdk, base_path, options = OPENCODE_SDKS[variant]
    env = base_env(home)
    config = {
        "$schema": "https://opencode.ai/config.json",
        "autoupdate": False,
        "share": "disabled",
        "permission": {"bash": "allow", "edit": "allow", "webfetch": "deny"},
        "provider": {
            "cliproxy": {
                "npm": sdk,
                "name": "cliproxy",
                "options": {"baseURL": base_url + base_path, "apiKey": FAKE_KEY},
                "models": {model: {"name": model, "options": options}},
            }
        },
        "model": f"cliproxy/{model}",
    }
    env.update(
        OPENCODE_CONFIG=str(home / "opencode.json"),
        OPENCODE_DISABLE_AUTOUPDATE="1",
        OPENCODE_DISABLE_MODELS_FETCH="1",
        OPENCODE_DISABLE_LSP_DOWNLOAD="1",
        OPENCODE_DISABLE_DEFAULT_PLUGINS="1",
    )
    files = {"opencode.json": json.dumps(config)}
    argv = [str(BIN / "opencode"), "run", "--model", f"cliproxy/{model}", prompt]
    return ClientRun(argv, env, home / "work", files)


def amp(base_url: str, home: Path, model: str, prompt: str) -> ClientRun:
    """`amp -x` (execute mode) with AMP_URL at the server root and a fake AMP_API_KEY.

    This Amp runs its agent on the Amp server: after its backend calls it opens a
    WebSocket to the thread actor (<AMP_URL>/actors/...), which only the Amp server can
    play, so against a capture server or the Amp fake it stops there (docs/CLIENTS.md).
    No update check; any address but loopback goes to a closed port (NOWHERE).
    """
    env = base_env(home)
    env.update(
        AMP_URL=base_url,
        AMP_API_KEY=FAKE_KEY,
        AMP_SKIP_UPDATE_CHECK="1",
        HTTP_PROXY=NOWHERE,
        HTTPS_PROXY=NOWHERE,
    )
    argv = [str(BIN / "amp"), "-x", prompt, "--dangerously-allow-all"]
    return ClientRun(argv, env, home / "work")


# What aider (through litellm) knows of the model, in its model-info cache, so it never
# fetches litellm's price list from GitHub at start (a fresh cache is used as is).
AIDER_MODEL_INFO = {
    "max_input_tokens": 128000,
    "max_output_tokens": 8192,
    "input_cost_per_token": 0,
    "output_cost_per_token": 0,
    "litellm_provider": "openai",
    "mode": "chat",
}


def aider(base_url: str, home: Path, model: str, prompt: str) -> ClientRun:
    """`aider --message` (one message, then exit) through litellm's OpenAI provider:
    OPENAI_API_BASE ends in /v1, the model is `openai/<name>`."""
    env = base_env(home)
    env.update(
        OPENAI_API_BASE=f"{base_url}/v1",
        OPENAI_API_KEY=FAKE_KEY,
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        HTTP_PROXY=NOWHERE,
        HTTPS_PROXY=NOWHERE,
    )
    cache = {model: AIDER_MODEL_INFO}
    files = {".aider/caches/model_prices_and_context_window.json": json.dumps(cache)}
    argv = [
        str(AIDER),
        "--model",
        f"openai/{model}",
        "--message",
        prompt,
        "--yes-always",
        "--no-git",
        "--no-check-update",
        "--analytics-disable",
        "--no-pretty",
        "--no-fancy-input",
    ]
    return ClientRun(argv, env, home / "work", files)


RUNNERS: dict[str, Callable[[str, Path, str, str], ClientRun]] = {
    "claude-code": claude_code,
    "codex": codex,
    "codex-lite": codex,
    "gemini-cli": gemini_cli,
    "opencode": opencode,
    "opencode-google": partial(opencode, variant="opencode-google"),
    "opencode-anthropic": partial(opencode, variant="opencode-anthropic"),
    "amp": amp,
    "aider": aider,
}
# The model each client asks for when recording: its own default family. codex-lite is
# Codex with its own default model (what it picks with no `model` configured): for the
# models of its bundled catalog marked use_responses_lite it sends the
# x-openai-internal-codex-responses-lite header and offers its tools in an
# `additional_tools` input item instead of `tools`.
DEFAULT_MODELS = {
    "claude-code": "sonnet",
    "codex": "gpt-5",
    "codex-lite": "gpt-6.2-sol",
    "gemini-cli": "gemini-2.5-pro",
    "opencode": "gpt-5",
    "opencode-google": "gemini-2.5-pro",
    "opencode-anthropic": "claude-sonnet-4-5",
    "amp": "",
    "aider": "gpt-4o",
}
# Clients that cannot finish a turn against the capture server (see their runner): Amp's
# turns run in the Amp server's thread actor.
STOPS_EARLY = frozenset({"amp"})


def prepare(client: str, base_url: str, home: Path, model: str, prompt: str) -> ClientRun:
    """Build the run for ``client`` and write its config files under ``home``."""
    run = RUNNERS[client](base_url, home, model, prompt)
    write(home, run.files)
    run.cwd.mkdir(parents=True, exist_ok=True)
    return run
