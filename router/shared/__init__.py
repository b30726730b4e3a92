"""State the router's worker processes share: cooldowns, locks and what each worker
publishes about itself (health, relay sessions).

``SharedState`` is the interface; ``LocalState`` serves one process, ``EmbeddedState``
(SQLite and lock files in one directory) serves the workers of one machine. A
distributed store can implement the same interface later.
"""

from router.shared.base import CooldownRow, LocalState, SharedState
from router.shared.embedded import EmbeddedState
from router.shared.role import TOKEN_HEADER, WorkerRole

__all__ = [
    "TOKEN_HEADER",
    "CooldownRow",
    "EmbeddedState",
    "LocalState",
    "SharedState",
    "WorkerRole",
]
