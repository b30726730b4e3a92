"""Read program state from this project's supervisord over its unix socket.

This is the XML-RPC interface `supervisorctl status` itself uses; going through it gives
exact pids and start times instead of parsing supervisorctl's human-readable output.
"""

from __future__ import annotations

import xmlrpc.client
from dataclasses import dataclass

from supervisor.xmlrpc import SupervisorTransport


@dataclass(frozen=True)
class ProgramInfo:
    """One supervised program as supervisord reports it."""

    name: str
    state: str
    pid: int
    description: str


def connect(socket_path: str) -> xmlrpc.client.ServerProxy:
    """Return a proxy for the supervisord listening on `socket_path`."""
    transport = SupervisorTransport(None, None, f"unix://{socket_path}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def program_infos(socket_path: str) -> dict[str, ProgramInfo]:
    """Map program name to its state; raises OSError when supervisord does not answer."""
    try:
        raw_infos = connect(socket_path).supervisor.getAllProcessInfo()
    except xmlrpc.client.Error as error:
        raise ConnectionError(f"supervisord at {socket_path} failed: {error}") from None
    return {
        raw["name"]: ProgramInfo(
            name=raw["name"],
            state=raw["statename"],
            pid=int(raw["pid"]),
            description=raw["description"],
        )
        for raw in raw_infos
    }
