"""``@app.service`` and ``@app.periodic``: user work that starts and stops with a server."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from backburner import Backburner, Settings
from tests.support import wait_until

LOCAL = ("127.0.0.1", 50123)


def test_a_periodic_function_runs_again_and_again_and_survives_its_errors() -> None:
    app = Backburner("memory://")
    calls: list[int] = []

    @app.periodic(every=0.05)
    async def flaky() -> None:
        calls.append(len(calls))
        if len(calls) % 2:
            raise RuntimeError("the cache is gone")

    with app.start_server():
        wait_until(lambda: len(calls) >= 3, what="three runs of a function that keeps failing")
    [status] = app.periodic_statuses()
    assert status.name.endswith("flaky")
    assert status.failures >= 1
    assert status.runs >= 3
    assert status.last_error == "RuntimeError: the cache is gone"
    assert status.last_success_at is not None


def test_a_periodic_run_never_overlaps_the_one_before() -> None:
    app = Backburner("memory://")
    running = 0
    most = 0
    runs = 0
    lock = threading.Lock()

    @app.periodic(every=timedelta(milliseconds=10), name="slow")
    def slow() -> None:
        nonlocal running, most, runs
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
            runs += 1

    with app.start_server():
        wait_until(lambda: runs >= 4, what="four runs")
    assert most == 1


def test_a_service_starts_with_the_server_and_gets_the_stop_signal() -> None:
    app = Backburner("memory://")
    seen: list[str] = []

    @app.service(name="sync-inventory")
    async def sync_inventory(stop: asyncio.Event) -> None:
        seen.append("started")
        await stop.wait()
        seen.append("stopped")

    with app.start_server() as server:
        wait_until(lambda: seen == ["started"], what="the service to start")
        assert "sync-inventory" in [s.name for s in server.services()]
    assert seen == ["started", "stopped"]


@pytest.mark.parametrize("hosting", [{"enabled": False}, {"disabled": "poll,sweep"}])
def test_the_master_switch_and_the_disabled_list_turn_services_off(
    hosting: dict[str, object],
) -> None:
    app = Backburner(settings=Settings(storage={"url": "memory://"}, hosting=hosting))
    ran: list[str] = []

    @app.service(name="poll")
    def poll(stop: threading.Event) -> None:
        ran.append("poll")

    @app.periodic(every=0.01, name="sweep")
    def sweep() -> None:
        ran.append("sweep")

    with app.start_server() as server:
        time.sleep(0.2)
        names = [s.name for s in server.services()]
    assert "poll" not in names
    assert "sweep" not in names
    assert ran == []


def test_enabled_may_name_a_setting_and_a_wrong_one_fails_at_declaration() -> None:
    app = Backburner(settings=Settings(storage={"url": "memory://"}, hosting={"enabled": True}))

    @app.service(name="on", enabled="hosting.enabled")
    def on(stop: threading.Event) -> None:
        stop.wait()

    with pytest.raises(ValueError, match="must name a setting that is true or false"):

        @app.service(name="bad", enabled="hosting.no_such_key")
        def bad(stop: threading.Event) -> None: ...

    with pytest.raises(ValueError, match="exists already"):

        @app.periodic(every=1, name="on")
        def again() -> None: ...

    with app.start_server() as server:
        assert "on" in [s.name for s in server.services()]


@pytest.mark.parametrize(
    ("every", "cron"), [(None, None), (1, "* * * * *"), (0, None), (-1, None), (float("nan"), None)]
)
def test_a_periodic_needs_one_valid_schedule(every: float | None, cron: str | None) -> None:
    app = Backburner("memory://")
    with pytest.raises(ValueError, match="periodic"):
        app.periodic(every=every, cron=cron)(lambda: None)


def test_health_shows_a_stuck_periodic_run_and_a_failing_service_as_degraded() -> None:
    app = Backburner("memory://")
    release = threading.Event()

    @app.periodic(every=0.05, stuck_after=2, name="stuck")
    def stuck() -> None:
        release.wait(10)

    @app.service(name="broken")
    async def broken(stop: asyncio.Event) -> None:
        raise RuntimeError("no inventory today")

    client = TestClient(app.dashboard(), client=LOCAL)
    with app.start_server():
        body = wait_until(
            lambda: (
                (b := client.get("health").json())["status"] == "degraded"
                and b["checks"]["periodic"]["stuck"]["status"] == "degraded"
                and b["checks"]["services"]["broken"]["status"] == "degraded"
                and b
            ),
            what="a degraded /health",
        )
        assert body["checks"]["services"]["broken"]["last_error"].endswith("no inventory today")
        assert body["checks"]["services"]["heartbeat"]["status"] == "healthy"
        metrics = client.get("metrics").text
        assert 'backburner_service_failing{service="broken"} 1.0' in metrics
        assert 'backburner_periodic_runs_total{name="stuck"}' in metrics
        release.set()
