"""What a server reports through storage with its heartbeats: busy workers, and what it
hosts besides its jobs, read back by ``app.servers()`` as another process would."""

from __future__ import annotations

import asyncio
import threading

from backburner import Backburner, HostedPeriodic, ServerInfo
from backburner.server._report import ERROR_CHARS
from tests.support import wait_until


def test_a_running_server_reports_busy_workers_services_periodic_work_and_task_queues(
    app: Backburner,
) -> None:
    started, release = threading.Event(), threading.Event()

    @app.job
    def hold() -> None:
        started.set()
        release.wait(10)

    @app.service(name="sync")
    async def sync(stop: asyncio.Event) -> None:
        await stop.wait()

    @app.service(name="broken")
    def broken(stop: threading.Event) -> None:
        raise RuntimeError("the feed is down: " + "x" * 500)

    @app.periodic(every=0.05, name="tick")
    def tick() -> None:
        raise ValueError("no cache")

    @app.periodic(cron="0 0 2 * * *", timezone="Europe/Paris", name="nightly", leader_only=True)
    def nightly() -> None: ...

    orders = app.task_queue("orders", capacity=10, concurrency=2)
    hold.enqueue()

    def reported() -> ServerInfo | None:
        [info] = app.servers()
        services = {s.name: s for s in info.hosting.services}
        queues = {q.name: q for q in info.hosting.task_queues}
        periodic = {p.name: p for p in info.hosting.periodic}
        ready = (
            info.busy == 1
            and info.hosting.leader
            and "broken" in services
            and services["broken"].state == "failing"
            and "tick" in periodic
            and periodic["tick"].last_outcome == "failed"
            and "orders" in queues
            and queues["orders"].processed == 1
        )
        return info if ready else None

    with app.start_server(workers=2, server_timeout=1.0):
        assert started.wait(10)
        orders.put_blocking(lambda: None)
        info = wait_until(reported, what="a heartbeat telling all of it")
        release.set()

    assert (info.busy, info.workers) == (1, 2)
    hosting = info.hosting
    # The server's own upkeep (heartbeat, rescue, schedule...) is left out.
    assert [s.name for s in hosting.services] == ["sync", "broken"]
    sync_status, broken_status = hosting.services
    assert sync_status.state == "running"
    assert sync_status.last_error is None
    assert broken_status.last_error is not None
    assert broken_status.last_error.startswith("RuntimeError: the feed is down: xxx")
    assert len(broken_status.last_error) == ERROR_CHARS
    assert broken_status.last_error.endswith("…")

    tick_report, nightly_report = hosting.periodic
    assert tick_report.name == "tick"
    assert tick_report.schedule == "every 0.05 s"
    assert tick_report.last_error == "ValueError: no cache"
    assert tick_report.last_run is not None
    assert nightly_report == HostedPeriodic(
        name="nightly",
        schedule="At 02:00 (Europe/Paris)",
        leader_only=True,
        next_run=nightly_report.next_run,
    )
    assert nightly_report.next_run is not None
    assert nightly_report.next_run > info.heartbeat_at

    [queue] = hosting.task_queues
    assert (queue.name, queue.capacity, queue.concurrency) == ("orders", 10, 2)
    assert (queue.size, queue.busy, queue.failed, queue.dropped) == (0, 0, 0, 0)
    assert hosting.consumers == ()


def test_a_server_idle_and_hosting_nothing_reports_so(app: Backburner) -> None:
    with app.start_server(workers=3, server_timeout=1.0):
        [info] = wait_until(app.servers, what="the server's row")
    assert (info.busy, info.workers) == (0, 3)
    assert info.hosting.services == ()
    assert info.hosting.periodic == ()
    assert info.hosting.task_queues == ()
