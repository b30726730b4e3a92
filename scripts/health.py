"""Fetch the router's health document from its loopback URL."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

# The router listens on loopback: never route the probe through an HTTP(S)_PROXY.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HealthUnavailable(Exception):
    """The health endpoint did not answer with a usable 200 JSON document."""


def fetch_health(url: str, timeout_s: float = 3.0, key: str = "") -> dict[str, Any]:
    """Return the parsed health JSON or raise HealthUnavailable with a one-line reason.

    ``key`` (a client key or the relay key) makes the router include its details.
    """
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
