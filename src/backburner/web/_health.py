"""``health``, ``health/live`` and ``metrics``."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._clock import utcnow
from ._snapshot import Snapshot, SnapshotCache, servers

if TYPE_CHECKING:
    from .._app import Backburner

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
    return 200, {"status": status, "checks": checks}


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
            "backburner_recurring_jobs", "Recurring jobs stored.", value=snap.recurring
        )


def metrics_endpoint(cache: SnapshotCache) -> Any:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(cache))

    def endpoint(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=PROMETHEUS_TEXT)

    return endpoint
