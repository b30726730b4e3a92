"""Reading a running router's health document the way an operator's tools should.

Sends the relay key or a client key (the detailed health view needs one), goes straight
to loopback (never through an HTTP(S)_PROXY) and turns every failure into one line.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

from router.config import Config, ConfigError, LoadedConfig, read_config
from router.relay.key import relay_key_path

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def local_url(config: Config) -> str:
    """Where this machine reaches the router the config describes."""
    host = "127.0.0.1" if config.host in ("0.0.0.0", "") else config.host
    host = "[::1]" if host == "::" else (f"[{host}]" if ":" in host else host)
    return f"http://{host}:{config.port}"


class HealthUnavailable(Exception):
    """The health endpoint did not answer with a usable 200 JSON document."""


def operator_key(loaded: LoadedConfig | None = None) -> str:
    """The key that shows health details to a local operator.

    CLIPROXY_CLIENT_KEY, else the relay key (configured, or stored in auth-dir, which this
    user can read; it exists whether or not client keys are configured), else the first
    client key of the config, else ''. Nothing is created here.
    """
    chosen = os.environ.get("CLIPROXY_CLIENT_KEY")
    if chosen:
        return chosen
    if loaded is None:
        try:
            loaded = read_config()
        except ConfigError:
            return ""
    config = loaded.config
    relay_key = config.aistudio.relay_key or _stored_relay_key(config)
    if relay_key:
        return relay_key
    keys = [k.key for k in config.api_keys if k.key]
    return keys[0] if keys else ""


def _stored_relay_key(config: Config) -> str:
    try:
        return relay_key_path(config).read_text().strip()
    except OSError:
        return ""


def fetch_health(url: str, key: str = "", timeout_s: float = 3.0) -> dict[str, Any]:
    """The parsed health JSON; raises HealthUnavailable with a one-line reason."""
    request = urllib.request.Request(url)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        raise HealthUnavailable(f"HTTP {error.code} from {url}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise HealthUnavailable(f"no answer from {url}: {reason}") from None
    try:
        document = json.loads(body)
    except ValueError:
        raise HealthUnavailable(f"{url} did not return JSON") from None
    if not isinstance(document, dict) or "status" not in document:
        raise HealthUnavailable(f"{url} returned JSON without a status field")
    return document
