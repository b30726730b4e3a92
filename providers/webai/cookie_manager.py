"""Point g4f at the configured cookie directory and load the browser cookies kept there.

Gemini (g4f.Provider.Gemini) authenticates with the Google web cookies
`__Secure-1PSID` and `__Secure-1PSIDTS`. Export them from a logged-in browser into the
cookie directory as either a `.har` capture or a `.json` list such as
`[{"domain": ".google.com", "name": "__Secure-1PSID", "value": "..."}, ...]`.
g4f reads that directory (`g4f.cookies.set_cookies_dir` + `read_cookie_files`) into its
in-process cookie store, which `Gemini` consults through `get_cookies(".google.com")`.
g4f also appends per-request usage records under `<dir>/.usage/` and would read a
`config.yaml` model-routing file from this directory, so keep it dedicated to webai.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from g4f.cookies import CookiesConfig, read_cookie_files, set_cookies_dir

from providers.webai.errors import WebAIConfigError

DIRECTORY_MODE = 0o700


@dataclass(frozen=True)
class LoadedCookies:
    """What was loaded: cookie names per domain (safe to show) and the values (to redact)."""

    directory: str
    names_by_domain: dict[str, tuple[str, ...]]
    values: tuple[str, ...]


def prepare_cookies_dir(cookies_dir: str) -> LoadedCookies:
    """Create the directory (owner-only), make it g4f's cookie dir and load its cookie files."""
    directory = Path(cookies_dir).expanduser().resolve()
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
        os.chmod(directory, DIRECTORY_MODE)
    except OSError as exc:
        raise WebAIConfigError(f"cannot prepare cookies dir {directory}: {exc.strerror}") from exc
    set_cookies_dir(str(directory))
    read_cookie_files(str(directory))
    loaded = dict(CookiesConfig.cookies)
    return LoadedCookies(
        directory=str(directory),
        names_by_domain={domain: tuple(sorted(jar)) for domain, jar in sorted(loaded.items())},
        values=tuple(value for jar in loaded.values() for value in jar.values() if value),
    )
