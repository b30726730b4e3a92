"""What each coding client needs to talk to cliproxy, rendered for bash, zsh or fish.

Variable names come from the clients themselves (checked in their npm packages): Claude
Code reads ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN (sent as a Bearer key); Gemini CLI
reads GOOGLE_GEMINI_BASE_URL with GEMINI_API_KEY (GEMINI_DEFAULT_AUTH_TYPE picks API-key
auth); opencode reads a whole config from OPENCODE_CONFIG_CONTENT. Codex takes its
endpoint only from a ``[model_providers]`` entry (config.toml or ``-c`` overrides), whose
``env_key`` names the variable holding the key: CLIPROXY_API_KEY. The OpenAI SDKs and most
tools built on them read OPENAI_BASE_URL and OPENAI_API_KEY.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

CLIENTS = ("claude", "codex", "gemini", "opencode", "openai")
CODEX_KEY_VARIABLE = "CLIPROXY_API_KEY"
SHELLS = ("bash", "zsh", "fish")
# Clients require some key even when the router has no api-keys (it then accepts any).
PLACEHOLDER_KEY = "cliproxy"


@dataclass(frozen=True)
class Endpoint:
    """Where the router answers and the client key to present."""

    url: str
    key: str


def client_variables(client: str, endpoint: Endpoint) -> dict[str, str]:
    """The environment one client needs."""
    url, key = endpoint.url, endpoint.key
    if client == "claude":
        return {"ANTHROPIC_BASE_URL": url, "ANTHROPIC_AUTH_TOKEN": key}
    if client == "codex":
        return {CODEX_KEY_VARIABLE: key}
    if client == "openai":
        return {"OPENAI_BASE_URL": f"{url}/v1", "OPENAI_API_KEY": key}
    if client == "gemini":
        return {
            "GOOGLE_GEMINI_BASE_URL": url,
            "GEMINI_API_KEY": key,
            "GEMINI_DEFAULT_AUTH_TYPE": "gemini-api-key",
        }
    if client == "opencode":
        return {"OPENCODE_CONFIG_CONTENT": json.dumps(opencode_config(endpoint))}
    raise ValueError(f"unknown client {client!r}; expected one of {', '.join(CLIENTS)}")


def opencode_config(endpoint: Endpoint) -> dict[str, object]:
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            "cliproxy": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "cliproxy",
                "options": {"baseURL": f"{endpoint.url}/v1", "apiKey": endpoint.key},
            }
        },
    }


def codex_config_toml(endpoint: Endpoint) -> str:
    """A config.toml block for Codex (~/.codex/config.toml); the key stays in the env."""
    return "\n".join(
        [
            'model_provider = "cliproxy"',
            "",
            "[model_providers.cliproxy]",
            'name = "cliproxy"',
            f'base_url = "{endpoint.url}/v1"',
            f'env_key = "{CODEX_KEY_VARIABLE}"',
            'wire_api = "responses"',
        ]
    )


def codex_overrides(endpoint: Endpoint) -> list[str]:
    """The same provider as ``codex -c`` arguments, for ``cliproxy run codex``."""
    provider = "model_providers.cliproxy"
    return [
        "-c",
        'model_provider="cliproxy"',
        "-c",
        f'{provider}.name="cliproxy"',
        "-c",
        f'{provider}.base_url="{endpoint.url}/v1"',
        "-c",
        f'{provider}.env_key="{CODEX_KEY_VARIABLE}"',
        "-c",
        f'{provider}.wire_api="responses"',
    ]


def selected_clients(names: list[str]) -> list[str]:
    if not names or "all" in names:
        return list(CLIENTS)
    unknown = [name for name in names if name not in CLIENTS]
    if unknown:
        raise ValueError(f"unknown client {unknown[0]!r}; expected all or {', '.join(CLIENTS)}")
    return list(dict.fromkeys(names))


def all_variable_names() -> list[str]:
    placeholder = Endpoint(url="http://127.0.0.1", key=PLACEHOLDER_KEY)
    return [name for client in CLIENTS for name in client_variables(client, placeholder)]


def quote(value: str, shell: str) -> str:
    """A single-quoted word that the shell reads back as exactly ``value``."""
    if shell == "fish":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + value.replace("'", "'\\''") + "'"


def render_exports(variables: dict[str, str], shell: str) -> str:
    if shell == "fish":
        lines = [f"set -gx {name} {quote(value, shell)}" for name, value in variables.items()]
    else:
        lines = [f"export {name}={quote(value, shell)}" for name, value in variables.items()]
    return "\n".join(lines)


def render_env(clients: list[str], endpoint: Endpoint, shell: str) -> str:
    """Exports for the clients, with Codex's config.toml block as comments."""
    parts: list[str] = []
    for client in clients:
        parts.append(f"# {client}")
        parts.append(render_exports(client_variables(client, endpoint), shell))
        if client == "codex":
            parts.append("# Codex also needs this in ~/.codex/config.toml (cliproxy run codex")
            parts.append("# passes it on the command line instead):")
            parts.extend(
                f"#   {line}" if line else "#" for line in codex_config_toml(endpoint).split("\n")
            )
    return "\n".join(parts) + "\n"


def shell_integration(shell: str, cliproxy: str) -> str:
    """cliproxy_activate [CLIENT...] / cliproxy_deactivate for an rc file."""
    names = " ".join(all_variable_names())
    command = quote(cliproxy, shell)
    if shell == "fish":
        return (
            "# cliproxy shell integration (fish): cliproxy_activate [CLIENT...]\n"
            "function cliproxy_activate\n"
            "    set -l clients $argv\n"
            "    test (count $clients) -eq 0; and set clients all\n"
            f"    set -l exports ({command} env $clients --shell fish); or return 1\n"
            "    printf '%s\\n' $exports | source\n"
            "    set -gx CLIPROXY_ACTIVE 1\n"
            "end\n"
            "function cliproxy_deactivate\n"
            f"    set -e {names} CLIPROXY_ACTIVE\n"
            "    return 0\n"
            "end\n"
        )
    return (
        f"# cliproxy shell integration ({shell}): cliproxy_activate [CLIENT...]\n"
        "cliproxy_activate() {\n"
        "    local _cliproxy_exports\n"
        f'    _cliproxy_exports="$({command} env "$@" --shell {shell})" || return 1\n'
        '    eval "$_cliproxy_exports"\n'
        "    export CLIPROXY_ACTIVE=1\n"
        "}\n"
        "cliproxy_deactivate() {\n"
        f"    unset {names} CLIPROXY_ACTIVE\n"
        "}\n"
    )
