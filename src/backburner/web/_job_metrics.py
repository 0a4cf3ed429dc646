"""Counters and histograms of the job events of this process, for ``metrics``.

Events are told in the process that made the change (``_events.py``): enqueues where the
client ran, runs where the server ran. So these count what this process did since its
first dashboard was made; a fleet is summed over the scrapes of every process.
"""

from __future__ import annotations

import bisect
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from .._events import Event, EventHub, JobEnqueued, JobFailed, JobStarted, JobSucceeded

if TYPE_CHECKING:
    from .._app import Backburner

BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0, 600.0, 1800.0, 3600.0,
)  # fmt: skip
"""Upper bounds in seconds of the duration and wait histograms: up to an hour."""

Labels = tuple[str, ...]


class _Histogram:
    """Observations of one label set: a count per bucket (not cumulative) and their sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, value)] += 1
        self.total += value

    def buckets(self) -> list[tuple[str, float]]:
        running, found = 0, []
        for bound, count in zip((*BUCKETS, float("inf")), self.counts, strict=True):
            running += count
            found.append(("+Inf" if bound == float("inf") else repr(bound), float(running)))
        return found


class JobMetrics(Collector):
    """Subscribes once to an app's events and counts them; collected on each scrape."""

    def __init__(self, events: EventHub) -> None:
        self._lock = threading.Lock()
        self._enqueued: dict[Labels, int] = {}
        self._finished: dict[Labels, int] = {}
        self._retries: dict[Labels, int] = {}
        self._failures: dict[Labels, int] = {}
        self._duration: dict[Labels, _Histogram] = {}
        self._wait: dict[Labels, _Histogram] = {}
        self.unsubscribe = events.subscribe(
            self._on_event, JobEnqueued, JobStarted, JobSucceeded, JobFailed
        )

    def _on_event(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, JobEnqueued):
                _add(self._enqueued, (event.queue, event.name))
            elif isinstance(event, JobStarted):
                if event.queued is not None:
                    _observe(self._wait, (event.queue, event.name), event.queued)
            elif isinstance(event, JobSucceeded):
                _add(self._finished, (event.queue, event.name, "succeeded"))
                _observe(self._duration, (event.queue, event.name), event.duration)
            elif isinstance(event, JobFailed):
                key = (event.queue, event.name)
                _add(self._failures, (*key, event.error_type))
                if event.will_retry:
                    _add(self._retries, key)
                else:
                    _add(self._finished, (*key, "failed"))
                _observe(self._duration, key, event.duration)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            counters = [
                (
                    "backburner_jobs_enqueued",
                    "Jobs this process stored.",
                    ["queue", "name"],
                    dict(self._enqueued),
                ),
                (
                    "backburner_jobs_finished",
                    "Runs this process's servers ended for good, by final state.",
                    ["queue", "name", "state"],
                    dict(self._finished),
                ),
                (
                    "backburner_job_retries",
                    "Failed runs this process's servers scheduled a retry for.",
                    ["queue", "name"],
                    dict(self._retries),
                ),
                (
                    "backburner_job_failures",
                    "Failed runs (retried or not) of this process's servers, by exception type.",
                    ["queue", "name", "error_type"],
                    dict(self._failures),
                ),
            ]
            histograms = [
                (
                    "backburner_job_duration_seconds",
                    "Seconds from a run's claim to its outcome (successes and failures).",
                    {k: (h.buckets(), h.total) for k, h in self._duration.items()},
                ),
                (
                    "backburner_job_wait_seconds",
                    "Seconds a run waited in its queue, from ready to started.",
                    {k: (h.buckets(), h.total) for k, h in self._wait.items()},
                ),
            ]
        for name, documentation, labels, values in counters:
            counter = CounterMetricFamily(name, documentation, labels=labels)
            for key, value in sorted(values.items()):
                counter.add_metric(list(key), value)
            yield counter
        for name, documentation, observed in histograms:
            histogram = HistogramMetricFamily(name, documentation, labels=["queue", "name"])
            for key, (buckets, total) in sorted(observed.items()):
                histogram.add_metric(list(key), buckets, total)
            yield histogram


def _add(counts: dict[Labels, int], key: Labels) -> None:
    counts[key] = counts.get(key, 0) + 1


def _observe(histograms: dict[Labels, _Histogram], key: Labels, value: float) -> None:
    found = histograms.get(key)
    if found is None:
        found = histograms[key] = _Histogram()
    found.observe(value)


_metrics: weakref.WeakKeyDictionary[Backburner, JobMetrics] = weakref.WeakKeyDictionary()
_metrics_lock = threading.Lock()


def job_metrics_for(app: Backburner) -> JobMetrics:
    """The process's one subscriber for this app, shared by all its dashboards."""
    with _metrics_lock:
        found = _metrics.get(app)
        if found is None:
            found = _metrics[app] = JobMetrics(app.events)
        return found
