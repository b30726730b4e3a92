"""``cliproxy route explain`` asking the running router, which alone knows the cooldowns
in force now (and until when) and the sticky sessions.

The question goes to ``POST /v1/management/route/explain`` on loopback (never through an
HTTP(S)_PROXY) with the management secret: the config's own when it holds the plain
secret, else ``CLIPROXY_MANAGEMENT_SECRET``. When no router answers there, or it refuses
the secret, the caller explains statically and says why.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from router.config import Config
from router.config.secret import PREFIX as HASHED_SECRET
from router.ops.probe import local_url

PATH = "/v1/management/route/explain"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class NotLive(Exception):
    """No running router gave an explanation; the message says why (one line)."""


class RequestRefused(Exception):
    """The running router found the request itself wrong (its message)."""


def management_secret(config: Config) -> str:
    configured = config.management.secret
    if configured and not configured.startswith(HASHED_SECRET):
        return configured
    return os.environ.get("CLIPROXY_MANAGEMENT_SECRET", "")


def ask_router(
    config: Config,
    body: dict[str, Any],
    params: Sequence[tuple[str, str]],
    timeout_s: float = 5.0,
) -> tuple[str, dict[str, Any]]:
    """The router's URL and its explanation; raises NotLive or RequestRefused."""
    url = local_url(config)
    query = urllib.parse.urlencode(list(params))
    request = urllib.request.Request(
        f"{url}{PATH}" + (f"?{query}" if query else ""),
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    secret = management_secret(config)
    if secret:
        request.add_header("Authorization", f"Bearer {secret}")
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise _refusal(url, error) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise NotLive(f"no router answered at {url} ({reason})") from None
    except ValueError:
        raise NotLive(f"{url} did not answer with JSON: not a cliproxy router?") from None
    if not isinstance(answer, dict) or "candidates" not in answer:
        raise NotLive(f"{url} answered without an explanation: an older cliproxy?")
    return url, answer


def _refusal(url: str, error: urllib.error.HTTPError) -> Exception:
    message = _error_message(error)
    if error.code == 400:
        return RequestRefused(message)
    if error.code in (401, 403):
        return NotLive(
            f"the router at {url} refused the management secret ({message}); set "
            "CLIPROXY_MANAGEMENT_SECRET to the plain secret"
        )
    return NotLive(f"the router at {url} answered {error.code} ({message})")


def _error_message(error: urllib.error.HTTPError) -> str:
    try:
        answer = json.loads(error.read())
    except (ValueError, OSError):
        return f"HTTP {error.code}"
    found = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(found, dict) and isinstance(found.get("message"), str):
        return str(found["message"])
    return f"HTTP {error.code}"
