"""Counters and histograms kept as plain numbers by the event loop, exposed through a
Collector in the Prometheus text format prometheus_client's own metrics write.

prometheus_client's metrics take a lock and check observability on every ``inc`` and
``observe`` (two locks per histogram observation); recording one request cost ~15 us.
Everything here is changed and read on the event loop only (the observer records, the
``/metrics`` handler collects), so no lock is needed.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

Labels = tuple[str, ...]


class LoopCounter:
    """A counter family: ``inc(labels)``; ``cliproxy_x`` is written as ``cliproxy_x_total``."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = list(labelnames)
        self.values: dict[Labels, float] = {}
        self._created: dict[Labels, float] = {}

    def inc(self, labels: Labels, amount: float = 1.0) -> None:
        value = self.values.get(labels)
        if value is None:
            self._created[labels] = time.time()
            value = 0.0
        self.values[labels] = value + amount

    def family(self) -> CounterMetricFamily:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in self.values.items():
            family.add_metric(list(labels), value, created=self._created[labels])
        return family


class LoopHistogram:
    """A histogram family with fixed upper bounds (``+Inf`` added)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float],
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = list(labelnames)
        self.bounds = (*buckets, float("inf"))
        self._names = [floatToGoString(bound) for bound in self.bounds]
        # labels -> per-bucket counts (not cumulative), then the sum of observations
        self.rows: dict[Labels, list[float]] = {}
        self._created: dict[Labels, float] = {}

    def observe(self, labels: Labels, value: float) -> None:
        row = self.rows.get(labels)
        if row is None:
            row = self.rows[labels] = [0.0] * (len(self.bounds) + 1)
            self._created[labels] = time.time()
        row[bisect_left(self.bounds, value)] += 1
        row[-1] += value

    def family(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, row in self.rows.items():
            cumulative = 0.0
            buckets = []
            for name, count in zip(self._names, row, strict=False):
                cumulative += count
                buckets.append((name, cumulative))
            family.add_metric(list(labels), buckets, row[-1])
            family.samples.append(
                Sample(
                    self.name + "_created",
                    dict(zip(self.labelnames, labels, strict=True)),
                    self._created[labels],
                )
            )
        return family


class LoopFamilies(Collector):
    """The registry's view of the loop-local families."""

    def __init__(self, families: Sequence[LoopCounter | LoopHistogram]) -> None:
        self._families = families

    def collect(self) -> Iterator[Any]:
        for family in self._families:
            yield family.family()
