"""What ``check-config`` verifies beyond the schema: that the enabled programs can start.

The schema decides what the router itself accepts; these checks look at the machine
(Chromium, the optional packages) and at what the webai sidecar refuses, so a restart is
refused before anything stops instead of leaving a program in FATAL.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from router.config import LoadedConfig
from router.config.proxy import redact
from router.config.schema import Config

_PROVIDER_INDEX = re.compile(r"^providers\[(\d+)\]")
CHROMIUM_FIX = (
    "install Chromium with: sudo apt-get install -y chromium "
    "(scripts/install.sh --with aistudio does it when run as root), or set aistudio.chromium-path"
)


def deployment_problems(loaded: LoadedConfig) -> list[str]:
    """``key: problem; fix`` lines for the programs the config enables."""
    problems: list[str] = []
    config = loaded.config
    if config.aistudio.enabled:
        problems.extend(aistudio_problems(config.aistudio.chromium_path))
    if config.webai.enabled:
        problems.extend(webai_problems(config.webai.providers))
    return problems


def aistudio_problems(chromium_path: str) -> list[str]:
    problems = []
    chromium = Path(chromium_path)
    if not chromium.is_file() or not os.access(chromium, os.X_OK):
        problems.append(
            f"aistudio.chromium-path: {chromium} is not an executable file; {CHROMIUM_FIX}"
        )
    if importlib.util.find_spec("playwright") is None:
        problems.append(
            "aistudio.enabled: the playwright package is not installed; "
            "run: scripts/install.sh --with aistudio"
        )
    return problems


def webai_problems(providers: tuple[str, ...]) -> list[str]:
    if importlib.util.find_spec("g4f") is None:
        return [
            "webai.enabled: the g4f package is not installed; run: scripts/install.sh --with webai"
        ]
    from providers.webai.errors import WebAIConfigError
    from providers.webai.gpt4free_client import resolve_providers

    try:
        resolve_providers(providers)
    except WebAIConfigError as exc:
        return [f"webai.providers: {exc}"]
    return []


def unset_variable_warnings(loaded: LoadedConfig) -> list[str]:
    """One line per ``${VAR}`` that is unset, naming where it is used and where to set it."""
    where = (
        "the .env beside the config" if loaded.path is None else str(loaded.path.parent / ".env")
    )
    return [
        f"{path} uses ${{{name}}}, which is not set (add {name}=... to {where})"
        for path, name in sorted(loaded.unset_env.items())
        if not in_disabled_section(path, loaded)
    ]


def unset_variables(loaded: LoadedConfig) -> list[str]:
    """Names of the unset variables that enabled sections use."""
    return sorted(
        {name for path, name in loaded.unset_env.items() if not in_disabled_section(path, loaded)}
    )


def in_disabled_section(path: str, loaded: LoadedConfig) -> bool:
    """Whether a key path lies in a section that is off (its variables are not needed)."""
    config = loaded.config
    section = path.split(".", 1)[0]
    if section == "webai":
        return not config.webai.enabled
    if section == "aistudio":
        return not config.aistudio.enabled
    match = _PROVIDER_INDEX.match(path)
    if match is not None and int(match.group(1)) < len(config.providers):
        return not config.providers[int(match.group(1))].enabled
    return False


def proxy_lines(config: Config) -> list[str]:
    """Which outbound proxy each section that leaves the router uses, secrets redacted."""
    uses: dict[str, list[str]] = {}

    def add(section: str, own: str) -> None:
        url = config.proxy_for(own).url
        if url:
            uses.setdefault(redact(url), []).append(section)

    for provider in config.providers:
        if provider.enabled:
            add(f"provider {provider.name}", provider.proxy_url)
    subscriptions = config.subscriptions
    for name, section in (
        ("claude", subscriptions.claude),
        ("chatgpt", subscriptions.chatgpt),
        ("ctonew", subscriptions.ctonew),
    ):
        if section.enabled:
            add(f"subscription {name}", section.proxy_url)
    add("amp", config.amp.proxy_url)
    if config.webai.enabled:
        add("webai's g4f providers", config.webai.proxy_url)
    lines = [f"outbound proxy {url}: {', '.join(names)}" for url, names in uses.items()]
    if lines and config.no_proxy:
        lines.append(f"no-proxy (reached directly): {config.no_proxy}")
    return lines
