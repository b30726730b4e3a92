"""One /metrics answer for several worker processes: their expositions added up.

Counters, histograms and per-process gauges (requests in flight, streams, relay sessions
each worker holds, ledger queues) are summed sample by sample. Gauges read from state the
workers share (cooldowns, accounts, sidecars) are the same everywhere: the largest wins.
A series' ``_created`` time is the earliest worker's.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector, CollectorRegistry

SHARED_GAUGES = frozenset(
    {"cliproxy_credential_cooldowns", "cliproxy_accounts", "cliproxy_sidecar_up"}
)


class _Merged(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def _combiner(family: Metric) -> Callable[[float, float], float]:
    if family.name.endswith("_created"):
        return min
    if family.type == "gauge" and family.name in SHARED_GAUGES:
        return max
    return operator.add


def _merge(families: Iterable[Metric]) -> list[Metric]:
    merged: dict[str, Metric] = {}
    values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for family in families:
        merged.setdefault(
            family.name, Metric(family.name, family.documentation, family.type, family.unit)
        )
        bucket = values.setdefault(family.name, {})
        combine = _combiner(family)
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            bucket[key] = combine(bucket[key], sample.value) if key in bucket else sample.value
    result = []
    for name, family in merged.items():
        for (sample_name, labels), value in values[name].items():
            family.add_sample(sample_name, dict(labels), value)
        result.append(family)
    return result


def merge_expositions(texts: Iterable[str]) -> bytes:
    """The Prometheus text format of every worker's exposition, added up."""
    families: list[Any] = []
    for text in texts:
        families.extend(text_string_to_metric_families(text))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged(_merge(families)))
    return generate_latest(registry)
