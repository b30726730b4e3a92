"""Several router processes on one port (issue 16): the parent serves as worker 0 and
keeps workers 1..N-1 running; router/shared/ is what they share."""

from router.workers.parent import serve_workers, sharing_unsupported

__all__ = ["serve_workers", "sharing_unsupported"]
