"""A server's services: their order, their stop, their restarts and their leader."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future

import pytest

from backburner import Backburner, JobState
from backburner._clock import utcnow
from backburner.server import Server, ServerOptions, Service, ServiceCrashed
from backburner.server.server import run_in_thread
from tests.support import wait_until

OPTIONS = ServerOptions(server_timeout=1.5, shutdown_timeout=1.0)


def started(app: Backburner, *services: Service) -> tuple[Server, Future[None]]:
    server = app._server(OPTIONS)
    for service in services:
        server.add_service(service)
    return server, run_in_thread(server)


def stop(server: Server, done: Future[None]) -> None:
    server.request_stop()
    done.result(timeout=15)


def status(server: Server, name: str) -> str:
    return next(s.state for s in server.services() if s.name == name)


@pytest.fixture
def memory_app() -> Iterator[Backburner]:
    app = Backburner("memory://")
    yield app
    app.close()


def test_services_start_in_order_and_stop_in_reverse(memory_app: Backburner) -> None:
    events: list[str] = []

    def threaded(name: str) -> Callable[[threading.Event], None]:
        def run(stop: threading.Event) -> None:
            events.append(f"start {name}")
            stop.wait()
            events.append(f"stop {name}")

        return run

    def on_loop(name: str) -> Callable[[asyncio.Event], Awaitable[None]]:
        async def run(stop: asyncio.Event) -> None:
            events.append(f"start {name}")
            await stop.wait()
            events.append(f"stop {name}")

        return run

    # A thread's first step races whatever starts after it: only the last is one.
    server, done = started(
        memory_app,
        Service("first", on_loop("first")),
        Service("second", on_loop("second")),
        Service("last", threaded("last")),
    )
    wait_until(lambda: len(events) == 3, 5)
    assert [s.state for s in server.services()][-3:] == ["running"] * 3
    stop(server, done)
    assert events == [
        "start first",
        "start second",
        "start last",
        "stop last",
        "stop second",
        "stop first",
    ]
    names = [s.name for s in server.services()]
    assert names[:6] == ["heartbeat", "lost-jobs", "rescue", "claims", "schedule", "prune"]
    assert {s.state for s in server.services()} == {"stopped"}


def test_a_service_that_ignores_its_stop_is_cancelled_after_its_grace(
    memory_app: Backburner,
) -> None:
    seen: list[str] = []

    async def stubborn(stop: asyncio.Event) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    def stubborn_thread(stop: threading.Event) -> None:
        time.sleep(3600)

    server, done = started(
        memory_app,
        Service("stubborn", stubborn, grace=0.2),
        Service("stubborn-thread", stubborn_thread, grace=0.2),
    )
    wait_until(lambda: status(server, "stubborn") == "running", 5)
    stop(server, done)
    assert seen == ["cancelled"]
    assert status(server, "stubborn") == "stopped"
    assert status(server, "stubborn-thread") == "stopped"


def test_a_crashed_service_is_restarted_with_back_off_and_reported(
    memory_app: Backburner, caplog: pytest.LogCaptureFixture
) -> None:
    runs: list[float] = []
    go_on = threading.Event()

    def flaky(stop: threading.Event) -> None:
        runs.append(time.monotonic())
        if len(runs) <= 2:
            raise RuntimeError(f"crash {len(runs)}")
        go_on.wait(10)
        stop.wait()

    caplog.set_level(logging.ERROR, "backburner.services")
    server, done = started(memory_app, Service("flaky", flaky, backoff=0.3, max_backoff=0.6))
    try:
        wait_until(lambda: len(runs) >= 1, 5)
        wait_until(lambda: status(server, "flaky") == "failing", 5)
        [failing] = [s for s in server.services() if s.name == "flaky"]
        assert failing.failing_since is not None
        assert failing.last_error == "RuntimeError: crash 1"
        wait_until(lambda: len(runs) == 3, 5)
        [running] = [s for s in server.services() if s.name == "flaky"]
        assert running.state == "running"
        assert running.restarts == 2
        assert running.last_error == "RuntimeError: crash 2"
        # The back-off doubles: 0.3 s, then 0.6 s.
        assert runs[1] - runs[0] >= 0.3
        assert runs[2] - runs[1] >= 0.6
    finally:
        go_on.set()
        stop(server, done)
    crashes = [r for r in caplog.records if "service flaky crashed" in r.getMessage()]
    assert len(crashes) == 2
    assert all(r.exc_info is not None for r in crashes)


def test_a_service_that_must_not_be_restarted_stops_its_server_when_it_crashes(
    app: Backburner,
) -> None:
    release = threading.Event()

    @app.job
    def work() -> None:
        release.wait(10)

    def fragile(stop: threading.Event) -> None:
        release.wait(10)
        raise RuntimeError("broken")

    server, done = started(app, Service("fragile", fragile, restart="never"))
    job = work.enqueue()
    wait_until(lambda: app.jobs.get(job).state is JobState.PROCESSING, 5)  # type: ignore[union-attr]
    release.set()
    with pytest.raises(ServiceCrashed, match="service fragile crashed: broken"):
        done.result(timeout=15)
    assert app.jobs.get(job).state is JobState.SUCCEEDED  # type: ignore[union-attr]
    assert app.storage.server_list() == []
    [fragile_status] = [s for s in server.services() if s.name == "fragile"]
    assert fragile_status.last_error == "RuntimeError: broken"


def test_a_leader_only_service_runs_on_one_server_and_moves_when_it_stops(
    app: Backburner,
) -> None:
    running: dict[str, int] = {}
    lock = threading.Lock()

    def leader_only(stop: threading.Event) -> None:
        name = threading.current_thread().name
        with lock:
            running[name] = running.get(name, 0) + 1
        stop.wait()
        with lock:
            running[name] -= 1

    def service() -> Service:
        return Service("solo", leader_only, leader_only=True)

    first, first_done = started(app, service())
    second, second_done = started(app, service())
    try:
        wait_until(lambda: sum(running.values()) == 1, 5)
        time.sleep(1.0)  # several renewals: still one
        assert sum(running.values()) == 1
        assert [first.leading, second.leading].count(True) == 1
        leader, follower = (first, second) if first.leading else (second, first)
        leader_done = first_done if leader is first else second_done
        assert status(follower, "solo") == "stopped"
        assert status(follower, "prune") == "stopped"
        stop(leader, leader_done)
        wait_until(lambda: follower.leading and status(follower, "solo") == "running", 5)
        assert sum(running.values()) == 1
    finally:
        for server, done in ((first, first_done), (second, second_done)):
            if not done.done():
                stop(server, done)


def test_a_server_that_cannot_renew_its_lease_stops_its_leader_only_services(
    app: Backburner,
) -> None:
    stopped = threading.Event()

    def leader_only(stop: threading.Event) -> None:
        stop.wait()
        stopped.set()

    server, done = started(app, Service("solo", leader_only, leader_only=True))
    try:
        wait_until(lambda: status(server, "solo") == "running", 5)
        # Another server takes the lease, as it may once this one stalled past its lease.
        later = utcnow() + dt.timedelta(days=1)
        assert app.storage.lease_acquire("leader", "usurper", later, later)
        wait_until(stopped.is_set, 5)
        wait_until(lambda: not server.leading and status(server, "solo") == "stopped", 5)
    finally:
        stop(server, done)
