"""How the router asks a sidecar (webai, the AI Studio service) whether it is up."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

_PROBE_TIMEOUT = aiohttp.ClientTimeout(total=1.0)


async def probe_health(
    session: aiohttp.ClientSession, base_url: str, headers: Mapping[str, str] | None = None
) -> dict[str, object]:
    """The sidecar's own ``/health`` as ``{"status": "up", "service": ...}``, or
    ``{"status": "down", "reason": ...}`` saying why it could not be read (no exception:
    an unreachable sidecar, a non-200 answer and a body that is not JSON are all "down")."""
    try:
        async with session.get(
            f"{base_url}/health", headers=headers, timeout=_PROBE_TIMEOUT
        ) as response:
            if response.status != 200:
                return {"status": "down", "reason": f"/health answered {response.status}"}
            service = await response.json()
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
        return {"status": "down", "reason": f"not reachable at {base_url}: {type(exc).__name__}"}
    return {"status": "up", "service": service}
