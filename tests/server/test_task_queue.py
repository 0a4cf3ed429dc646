"""``app.task_queue``: a bounded in-process queue drained by the servers of this process."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from backburner import Backburner, QueueFull, QueueStopped, Settings
from tests.support import wait_until

LOCAL = ("127.0.0.1", 50123)


def test_a_full_queue_makes_producers_wait_or_raise_and_runs_everything_once() -> None:
    app = Backburner("memory://")
    orders = app.task_queue("orders", capacity=2, concurrency=1)
    release = threading.Event()
    done: list[int] = []

    def process(order_id: int) -> None:
        release.wait(10)
        done.append(order_id)

    with app.start_server():
        orders.put_nowait(process, 1)
        wait_until(lambda: orders.status().busy == 1, what="the first order running")
        orders.put_nowait(process, 2)
        orders.put_nowait(process, 3)
        with pytest.raises(QueueFull, match="task queue orders is full \\(2 tasks\\)"):
            orders.put_nowait(process, 4)

        # A blocking producer on a thread waits for room, and gets in once there is some.
        blocked = threading.Thread(target=orders.put_blocking, args=(process, 4))
        blocked.start()
        time.sleep(0.1)
        assert blocked.is_alive(), "put_blocking returned while the queue was full"
        release.set()
        blocked.join(10)
        assert not blocked.is_alive()
        # A task is counted once its function has returned, a moment after its append.
        wait_until(lambda: orders.status().processed == 4, what="every order processed")
        status = orders.status()
    assert sorted(done) == [1, 2, 3, 4]
    assert done[0] == 1  # taken in order
    assert (status.processed, status.failed, status.dropped, status.size) == (4, 0, 0, 0)
    assert sum(status.durations.counts) == 4


def test_an_async_put_waits_for_room_without_blocking_its_event_loop() -> None:
    app = Backburner("memory://")
    queue = app.task_queue("mail", capacity=1, concurrency=1)
    gate = threading.Event()
    sent: list[str] = []

    async def send(to: str) -> None:
        while not gate.is_set():
            await asyncio.sleep(0.01)
        sent.append(to)

    async def produce() -> float:
        await queue.put(send, "a")
        await queue.put(send, "b")  # "a" runs, "b" waits in the queue
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        threading.Timer(0.2, gate.set).start()
        await queue.put(send, "c")  # the queue is full until "b" is taken
        waited = time.monotonic() - started
        ticker.cancel()
        assert ticks >= 5, "the producer's loop was blocked while its put waited"
        return waited

    with app.start_server():
        waited = asyncio.run(produce())
        wait_until(lambda: len(sent) == 3, what="three mails sent")
    assert waited >= 0.15
    assert sent == ["a", "b", "c"]


def test_when_full_raise_makes_every_put_raise() -> None:
    app = Backburner("memory://")
    queue = app.task_queue("strict", capacity=1, when_full="raise")
    queue.put_nowait(print, "held until a server starts")
    with pytest.raises(QueueFull):
        queue.put_blocking(print, "no room")
    with pytest.raises(QueueFull):
        asyncio.run(queue.put(print, "no room"))


def test_a_failing_task_is_logged_and_the_next_ones_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Backburner("memory://")
    queue = app.task_queue("work", concurrency=2)
    ran: list[str] = []

    async def boom() -> None:
        raise RuntimeError("cache server unreachable")

    with caplog.at_level(logging.ERROR, logger="backburner.taskqueue"):
        queue.put_nowait(boom)  # held until the server starts, then run
        queue.put_nowait(ran.append, "sync")
        with app.start_server():
            wait_until(lambda: queue.status().processed == 1, what="the sync task")
            wait_until(lambda: queue.status().failed == 1, what="the failing task")
    assert ran == ["sync"]
    [record] = [r for r in caplog.records if "failed" in r.getMessage()]
    assert "task queue work" in record.getMessage()
    assert record.exc_info is not None
    assert "cache server unreachable" in caplog.text


def test_a_stop_drains_within_the_grace_period_drops_the_rest_and_refuses_new_work(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Backburner(
        settings=Settings(storage={"url": "memory://"}, server={"shutdown_timeout": 0.5})
    )
    queue = app.task_queue("slow", capacity=10, concurrency=1)
    finished: list[int] = []

    def slow(n: int) -> None:
        time.sleep(0.3)
        finished.append(n)

    with caplog.at_level(logging.WARNING, logger="backburner.taskqueue"):
        with app.start_server():
            for n in range(6):
                queue.put_nowait(slow, n)
            wait_until(lambda: queue.status().busy == 1, what="the first task running")
        status = queue.status()
    # About 0.5 s of grace at 0.3 s a task: the running one and one or two more finish.
    assert 1 <= len(finished) <= 3
    assert finished == list(range(len(finished)))
    assert status.processed + status.dropped == 6
    assert status.dropped >= 3
    assert not status.running
    assert "task queue slow stopped" in caplog.text
    with pytest.raises(QueueStopped, match="task queue slow is stopped"):
        queue.put_nowait(slow, 9)


def test_the_master_switch_disables_a_task_queue() -> None:
    app = Backburner(settings=Settings(storage={"url": "memory://"}, hosting={"enabled": False}))
    queue = app.task_queue("orders")
    with pytest.raises(QueueStopped, match="disabled"):
        queue.put_nowait(print, 1)
    with app.start_server() as server:
        assert "task-queue:orders" not in [s.name for s in server.services()]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": 1.5}, "capacity"),
        ({"concurrency": 0}, "concurrency"),
        ({"when_full": "drop"}, "when_full"),
    ],
)
def test_bad_options_are_refused_at_declaration(options: dict[str, object], message: str) -> None:
    app = Backburner("memory://")
    with pytest.raises(ValueError, match=message):
        app.task_queue("q", **options)  # type: ignore[arg-type]
    app.task_queue("twice")
    with pytest.raises(ValueError, match="exists already"):
        app.task_queue("twice")


def test_health_and_metrics_show_each_task_queue() -> None:
    app = Backburner("memory://")
    queue = app.task_queue("orders", capacity=2)
    client = TestClient(app.dashboard(), client=LOCAL)

    queue.put_nowait(print, "held")
    body = client.get("health").json()
    assert body["checks"]["task_queues"]["orders"]["status"] == "degraded"  # no server runs it
    assert body["status"] == "degraded"

    with app.start_server():
        wait_until(lambda: queue.status().processed == 1, what="the held task")
        queue.put_nowait(time.sleep, 0.01)
        wait_until(lambda: queue.status().processed == 2, what="the second task")
        check = client.get("health").json()["checks"]["task_queues"]["orders"]
        assert check == {
            "status": "healthy",
            "running": True,
            "size": 0,
            "capacity": 2,
            "fill": 0.0,
            "busy": 0,
            "processed": 2,
            "failed": 0,
            "dropped": 0,
        }
        families = {f.name: f for f in text_string_to_metric_families(client.get("metrics").text)}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for s in families["backburner_task_queue_duration_seconds"].samples
    }
    assert samples[("backburner_task_queue_duration_seconds_count", (("queue", "orders"),))] == 2
    assert samples[("backburner_task_queue_duration_seconds_sum", (("queue", "orders"),))] >= 0.01
    tasks = {
        s.labels["outcome"]: s.value
        for s in families["backburner_task_queue_tasks"].samples
        if s.name.endswith("_total")
    }
    assert tasks == {"processed": 2, "failed": 0, "dropped": 0}
    [capacity] = families["backburner_task_queue_capacity"].samples
    assert capacity.value == 2
