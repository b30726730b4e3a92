"""Imports every module that registers benchmarks; add new benchmark modules here."""

from bench import core, cost, formats, relay, routing, stream_latency, usage, workers

__all__ = [
    "core",
    "cost",
    "formats",
    "relay",
    "routing",
    "stream_latency",
    "usage",
    "workers",
]
