"""The cyclic garbage collector tuned for a server that answers many small requests.

Measured with ``make bench`` (request-cost, 32 connections): with Python's defaults a
full collection walks every object the router made at start (config, codecs, routing
tables, imported modules) over and over, and those pauses were most of the router's p99
(32 ms against the bare forwarder's 13). Freezing what exists once the router is up
takes those objects out of every later collection (p99 18 ms), and a larger young
generation makes collections rarer (about 5% less CPU per request).
"""

from __future__ import annotations

import gc

# Allocations of container objects between young collections (Python's default: 700),
# and how many collections of one generation trigger one of the next (default 10, 10).
THRESHOLDS = (20_000, 50, 100)


def settle() -> None:
    """Collect what is garbage now, then freeze every live object out of later
    collections. Called once the router is serving and again after each reload, so the
    runtime a reload replaced is collected, not kept frozen."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
