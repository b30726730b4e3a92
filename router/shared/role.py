"""Which worker this process is, handed from the parent to each child in the environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV = "CLIPROXY_WORKER_ROLE"
TOKEN_HEADER = "X-Cliproxy-Worker-Token"


@dataclass(frozen=True)
class WorkerRole:
    """Worker ``index`` of ``count``; ``directory`` holds the shared state and every
    worker's internal socket; ``token`` authenticates worker-to-worker calls."""

    index: int
    count: int
    directory: Path
    token: str
    # The read end of a pipe whose write end only the parent holds: EOF means the parent
    # is gone. -1 in the parent itself.
    lifeline: int = -1

    def socket_path(self, index: int | None = None) -> Path:
        return self.directory / f"worker-{self.index if index is None else index}.sock"

    def for_worker(self, index: int) -> WorkerRole:
        return WorkerRole(index, self.count, self.directory, self.token)

    def to_env(self, lifeline: int) -> str:
        return json.dumps(
            {
                "index": self.index,
                "count": self.count,
                "directory": str(self.directory),
                "token": self.token,
                "lifeline": lifeline,
            }
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> WorkerRole | None:
        text = env.get(ENV)
        if not text:
            return None
        data = json.loads(text)
        return cls(
            int(data["index"]),
            int(data["count"]),
            Path(data["directory"]),
            str(data["token"]),
            int(data["lifeline"]),
        )
