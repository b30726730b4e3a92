"""Imports every module that registers benchmarks; add new benchmark modules here."""

from bench import core, formats, relay, routing, usage

__all__ = ["core", "formats", "relay", "routing", "usage"]
