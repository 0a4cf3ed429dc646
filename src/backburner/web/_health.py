"""``health``, ``health/live`` and ``metrics``."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._clock import utcnow
from ..rabbitmq import DURATION_BUCKETS
from ._job_metrics import job_metrics_for
from ._snapshot import Snapshot, SnapshotCache, servers

if TYPE_CHECKING:
    from .._app import Backburner
    from ..server._taskqueue import TaskQueueStatus

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def health(app: Backburner) -> tuple[int, dict[str, Any]]:
    """Storage answers (else unhealthy); this process's servers heartbeat (else degraded)."""
    checks: dict[str, Any] = {}
    status = "healthy"
    try:
        app.jobs.search(limit=1)
        rows = servers(app)
    except Exception as error:  # any failure of the backend is what this check reports
        checks["storage"] = {"status": "unhealthy", "error": f"{type(error).__name__}: {error}"}
        return 503, {"status": "unhealthy", "checks": checks}
    checks["storage"] = {"status": "healthy"}
    host, pid = socket.gethostname(), os.getpid()
    mine = [s for s in rows if s.hostname == host and s.pid == pid]
    timeout = app.settings.server.server_timeout
    if mine:
        newest = max(s.heartbeat_at for s in mine)
        age = (utcnow() - newest).total_seconds()
        ok = age <= timeout
        checks["servers"] = {
            "status": "healthy" if ok else "degraded",
            "count": len(mine),
            "last_heartbeat_seconds": round(age, 3),
        }
        if not ok:
            status = "degraded"
    else:
        checks["servers"] = {"status": "healthy", "count": 0, "note": "no server in this process"}
    services, services_ok = _services(app)
    periodic, periodic_ok = _periodic(app)
    task_queues, task_queues_ok = _task_queues(app)
    consumers, consumers_ok = _consumers(app)
    if services:
        checks["services"] = services
    if periodic:
        checks["periodic"] = periodic
    if task_queues:
        checks["task_queues"] = task_queues
    if consumers:
        checks["consumers"] = consumers
    if not (services_ok and periodic_ok and task_queues_ok and consumers_ok):
        status = "degraded"
    return 200, {"status": status, "checks": checks}


def _when(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _services(app: Backburner) -> tuple[dict[str, Any], bool]:
    """This process's services (of its servers, the server's own upkeep included): a
    failing one makes the process degraded."""
    found: dict[str, Any] = {}
    ok = True
    for service in app.service_statuses():
        failing = service.state == "failing"
        ok = ok and not failing
        found[service.name] = {
            "status": "degraded" if failing else "healthy",
            "state": service.state,
            "leader_only": service.leader_only,
            "restarts": service.restarts,
            "failing_since": _when(service.failing_since),
            "last_success": _when(service.last_success),
            "last_error": service.last_error,
        }
    return found, ok


def _periodic(app: Backburner) -> tuple[dict[str, Any], bool]:
    """Periodic functions: a run stuck over ``stuck_after`` intervals makes it degraded."""
    found: dict[str, Any] = {}
    ok = True
    for work in app.periodic_statuses():
        ok = ok and not work.stuck
        found[work.name] = {
            "status": "degraded" if work.stuck else "healthy",
            "schedule": work.schedule,
            "runs": work.runs,
            "failures": work.failures,
            "consecutive_failures": work.consecutive_failures,
            "last_run": _when(work.last_run_at),
            "last_success": _when(work.last_success_at),
            "last_duration_seconds": work.last_duration,
            "running_since": _when(work.running_since),
            "last_error": work.last_error,
        }
    return found, ok


def _task_queues(app: Backburner) -> tuple[dict[str, Any], bool]:
    """Task queues: full, or holding work that no server of this process runs, is degraded."""
    found: dict[str, Any] = {}
    ok = True
    for queue in app.task_queue_statuses():
        full = queue.size >= queue.capacity
        orphaned = queue.size > 0 and not queue.running
        ok = ok and not (full or orphaned)
        found[queue.name] = {
            "status": "degraded" if full or orphaned else "healthy",
            "running": queue.running,
            "size": queue.size,
            "capacity": queue.capacity,
            "fill": round(queue.size / queue.capacity, 3),
            "busy": queue.busy,
            "processed": queue.processed,
            "failed": queue.failed,
            "dropped": queue.dropped,
        }
    return found, ok


def _consumers(app: Backburner) -> tuple[dict[str, Any], bool]:
    """RabbitMQ consumers run by this process's servers: one cut off from its broker
    makes the process degraded."""
    found: dict[str, Any] = {}
    ok = True
    for consumer in app.consumer_statuses():
        if not consumer.running:
            continue
        ok = ok and consumer.connected
        found[consumer.name] = {
            "status": "healthy" if consumer.connected else "degraded",
            "queue": consumer.queue,
            "connected": consumer.connected,
            "connected_since": _when(consumer.connected_since),
            "disconnected_since": _when(consumer.disconnected_since),
            "reconnects": consumer.reconnects,
            "in_flight": consumer.in_flight,
            "processed": consumer.processed,
            "failed": consumer.failed,
            "dead_lettered": consumer.dead_lettered,
            "last_error": consumer.last_error,
        }
    return found, ok


def health_endpoint(app: Backburner) -> Any:
    def endpoint(request: Request) -> Response:
        code, body = health(app)
        return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})

    return endpoint


def live_endpoint(request: Request) -> Response:
    return JSONResponse({"status": "healthy"}, headers={"Cache-Control": "no-store"})


class _SnapshotCollector(Collector):
    def __init__(self, cache: SnapshotCache) -> None:
        self._cache = cache

    def collect(self) -> Iterator[Metric]:
        snap: Snapshot = self._cache.get()
        jobs = GaugeMetricFamily(
            "backburner_jobs",
            "Jobs by queue and state (exact up to 10,000 per cell, estimated above).",
            labels=["queue", "state"],
        )
        for (queue, state), cell in sorted(snap.counts.items(), key=lambda i: (i[0][0], i[0][1])):
            jobs.add_metric([queue, state.value], cell.count)
        yield jobs
        oldest = GaugeMetricFamily(
            "backburner_queue_oldest_waiting_seconds",
            "How long the oldest enqueued job of each queue has been ready to run.",
            labels=["queue"],
        )
        for info in snap.queues:
            waited = 0.0 if info.oldest_waiting is None else info.oldest_waiting.total_seconds()
            oldest.add_metric([info.name], waited)
        yield oldest
        alive = snap.alive()
        yield GaugeMetricFamily(
            "backburner_servers_alive", "Servers whose heartbeat is recent.", value=len(alive)
        )
        yield GaugeMetricFamily(
            "backburner_workers",
            "Workers of the live servers.",
            value=sum(s.workers for s in alive),
        )
        yield GaugeMetricFamily(
            "backburner_workers_busy",
            "Workers of the live servers running a job, as of their last heartbeat.",
            value=sum(s.busy for s in alive),
        )
        yield GaugeMetricFamily(
            "backburner_recurring_jobs", "Recurring jobs stored.", value=snap.recurring
        )


class _HostingCollector(Collector):
    """Services and periodic functions of this process, read when scraped."""

    def __init__(self, app: Backburner) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        restarts = CounterMetricFamily(
            "backburner_service_restarts",
            "Restarts of each service after a crash, in this process.",
            labels=["service"],
        )
        failing = GaugeMetricFamily(
            "backburner_service_failing",
            "1 while a service is crashed and waiting to be restarted.",
            labels=["service"],
        )
        for service in self._app.service_statuses():
            restarts.add_metric([service.name], service.restarts)
            failing.add_metric([service.name], 1.0 if service.state == "failing" else 0.0)
        yield restarts
        yield failing
        runs = CounterMetricFamily(
            "backburner_periodic_runs", "Runs of each periodic function.", labels=["name"]
        )
        failures = CounterMetricFamily(
            "backburner_periodic_failures",
            "Runs of each periodic function that raised.",
            labels=["name"],
        )
        duration = GaugeMetricFamily(
            "backburner_periodic_last_duration_seconds",
            "How long the last run of each periodic function took.",
            labels=["name"],
        )
        for work in self._app.periodic_statuses():
            runs.add_metric([work.name], work.runs)
            failures.add_metric([work.name], work.failures)
            if work.last_duration is not None:
                duration.add_metric([work.name], work.last_duration)
        yield runs
        yield failures
        yield duration
        yield from _task_queue_metrics(self._app.task_queue_statuses())


def _task_queue_metrics(queues: list[TaskQueueStatus]) -> Iterator[Metric]:
    labels = ["queue"]
    size = GaugeMetricFamily("backburner_task_queue_size", "Tasks waiting.", labels=labels)
    capacity = GaugeMetricFamily(
        "backburner_task_queue_capacity", "Tasks a queue holds at most.", labels=labels
    )
    busy = GaugeMetricFamily("backburner_task_queue_busy", "Tasks running now.", labels=labels)
    done = CounterMetricFamily(
        "backburner_task_queue_tasks", "Tasks run, by outcome.", labels=[*labels, "outcome"]
    )
    durations = HistogramMetricFamily(
        "backburner_task_queue_duration_seconds", "How long tasks ran.", labels=labels
    )
    waits = HistogramMetricFamily(
        "backburner_task_queue_wait_seconds", "How long tasks waited to start.", labels=labels
    )
    for queue in queues:
        size.add_metric([queue.name], queue.size)
        capacity.add_metric([queue.name], queue.capacity)
        busy.add_metric([queue.name], queue.busy)
        for outcome, count in (
            ("processed", queue.processed),
            ("failed", queue.failed),
            ("dropped", queue.dropped),
        ):
            done.add_metric([queue.name, outcome], count)
        durations.add_metric([queue.name], queue.durations.cumulative(), queue.durations.total)
        waits.add_metric([queue.name], queue.waits.cumulative(), queue.waits.total)
    yield from (size, capacity, busy, done, durations, waits)


class _ConsumerCollector(Collector):
    """RabbitMQ consumers of this process, by queue, read when scraped."""

    COUNTERS = (
        ("received", "Messages delivered to the consumer of each queue."),
        ("acked", "Messages handled and acked."),
        ("failed", "Deliveries whose handler raised or ran past its timeout."),
        ("retried", "Failed messages sent to wait for another delivery."),
        ("dead_lettered", "Messages moved to the dead-letter queue."),
    )

    def __init__(self, app: Backburner) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        statuses = self._app.consumer_statuses()
        for key, text in self.COUNTERS:
            family = CounterMetricFamily(f"backburner_rabbitmq_{key}", text, labels=["queue"])
            for status in statuses:
                value = status.processed if key == "acked" else getattr(status, key)
                family.add_metric([status.queue], value)
            yield family
        connected = GaugeMetricFamily(
            "backburner_rabbitmq_connected",
            "1 while the consumer of each queue is connected to its broker.",
            labels=["queue"],
        )
        in_flight = GaugeMetricFamily(
            "backburner_rabbitmq_in_flight",
            "Messages delivered and not yet settled.",
            labels=["queue"],
        )
        duration = HistogramMetricFamily(
            "backburner_rabbitmq_handler_duration_seconds",
            "How long each handler run took.",
            labels=["queue"],
        )
        for status in statuses:
            connected.add_metric([status.queue], 1.0 if status.connected else 0.0)
            in_flight.add_metric([status.queue], status.in_flight)
            buckets = [
                (repr(bound), count)
                for bound, count in zip(DURATION_BUCKETS, status.duration_buckets, strict=True)
            ]
            buckets.append(("+Inf", status.duration_count))
            duration.add_metric([status.queue], buckets, sum_value=status.duration_sum)
        yield connected
        yield in_flight
        yield duration


def metrics_endpoint(cache: SnapshotCache, app: Backburner | None = None) -> Any:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(cache))
    if app is not None:
        registry.register(_HostingCollector(app))
        registry.register(job_metrics_for(app))
        registry.register(_ConsumerCollector(app))

    def endpoint(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=PROMETHEUS_TEXT)

    return endpoint
