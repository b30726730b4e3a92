"""``GET /v1/ws``: where relay peers (the AI Studio service, a Build applet) connect.

A peer must present the relay key (``aistudio.relay-key``, else the one generated into
auth-dir, see router/relay/key.py) as ``?auth_token=`` or ``Authorization: Bearer``, or a
client key; the hub (router/relay/) carries its frames from then on. A peer's
``session_login`` frame (an interactive sign-in finished) ends the quota cooldowns of
provider aistudio, as a login through router/api/auth_aistudio.py does.
"""

from __future__ import annotations

from aiohttp import web

from router.clientauth import key_matches, presented_key
from router.config.schema import AISTUDIO_PROVIDER
from router.errors import ErrorKind, ProxyError
from router.state import STATE


async def relay_socket(request: web.Request) -> web.StreamResponse:
    """Hand a relay peer to the hub once it showed the relay key (or a client key)."""
    state = request.app[STATE]
    if not _relay_peer_authorised(request):
        raise ProxyError(
            401,
            "relay peers must present the relay key as ?auth_token= or Authorization: Bearer "
            "(aistudio.relay-key, or the generated one `python -m router relay-key` prints)",
            ErrorKind.AUTHENTICATION,
        )

    def signed_in_again(name: str) -> None:
        state.cooldowns.reset(AISTUDIO_PROVIDER)

    return await state.relay.handle_ws(request, on_login=signed_in_again)


def _relay_peer_authorised(request: web.Request) -> bool:
    runtime = request.app[STATE].runtime
    presented = presented_key(request)
    relay_key = runtime.config.aistudio.relay_key
    if relay_key and key_matches(presented, relay_key):
        return True
    return runtime.client_keys.identify(presented) is not None
