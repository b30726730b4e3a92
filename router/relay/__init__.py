"""WebSocket relay hub: browser-side peers (AI Studio service, Build applet) serve requests."""

from router.relay.errors import RelayError, RelayUnavailable
from router.relay.hub import RelayHub
from router.relay.reply import RelayReply

__all__ = ["RelayError", "RelayHub", "RelayReply", "RelayUnavailable"]
