"""The loop-local counters and histograms write what prometheus_client's own would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from router.usage.families import LoopCounter, LoopFamilies, LoopHistogram

BUCKETS = (0.01, 0.1, 1.0, 10.0)
OBSERVED = [0.0, 0.01, 0.05, 0.1, 3.0, 10.0, 11.0, 0.5]


def _samples(registry: CollectorRegistry) -> list[tuple[str, tuple, float]]:
    text = generate_latest(registry).decode()
    found = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            value = 0.0 if sample.name.endswith("_created") else sample.value
            found.append((sample.name, tuple(sorted(sample.labels.items())), value))
    return sorted(found)


def test_same_exposition_as_prometheus_client() -> None:
    theirs = CollectorRegistry(auto_describe=False)
    counter = Counter("x_requests", "Requests.", ["a", "b"], registry=theirs)
    histogram = Histogram("x_seconds", "Seconds.", ["a"], buckets=BUCKETS, registry=theirs)
    ours = CollectorRegistry(auto_describe=False)
    loop_counter = LoopCounter("x_requests", "Requests.", ["a", "b"])
    loop_histogram = LoopHistogram("x_seconds", "Seconds.", ["a"], BUCKETS)
    ours.register(LoopFamilies([loop_counter, loop_histogram]))
    for i, value in enumerate(OBSERVED):
        labels = ("one" if i % 3 else "two",)
        histogram.labels(*labels).observe(value)
        loop_histogram.observe(labels, value)
        counter.labels(labels[0], "z").inc(i)
        loop_counter.inc((labels[0], "z"), i)
    assert _samples(ours) == _samples(theirs)
    assert generate_latest(ours).count(b"# TYPE") == generate_latest(theirs).count(b"# TYPE")
