"""The orders example (seed 001): a FastAPI endpoint, the task queue, a cache cleanup."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType

from fastapi.testclient import TestClient

from tests.support import wait_until

Load = Callable[[str], ModuleType]
LOCAL = ("127.0.0.1", 50123)


def test_posted_orders_are_processed_in_process_and_confirmed_by_a_job(example: Load) -> None:
    orders = example("orders")
    with TestClient(orders.api, client=LOCAL) as client:
        answers = [client.post("/orders", json={"id": n, "items": 2}) for n in (1, 2, 3)]
        assert [a.status_code for a in answers] == [202, 202, 202]
        wait_until(lambda: client.get("/orders/3").status_code == 200, what="order 3 processed")
        assert client.get("/orders/3").json() == {"order": "3", "status": "processed"}
        for answer in answers:
            job = orders.app.jobs.wait(answer.json()["confirmation_job"], timeout=10)
            assert job.result.startswith("confirmation sent for order")
        wait_until(lambda: orders.orders.status().processed == 3, what="three tasks counted")
        metrics = client.get("/jobs/metrics").text
        assert (
            'backburner_task_queue_tasks_total{outcome="processed",queue="orders"} 3.0' in metrics
        )
        assert 'backburner_task_queue_capacity{queue="orders"} 100.0' in metrics
        assert 'backburner_periodic_runs_total{name="cache-cleanup"}' in metrics
        health = client.get("/jobs/health").json()
        assert health["checks"]["task_queues"]["orders"]["capacity"] == 100
        assert client.post("/orders", json={"id": 0}).status_code == 422
        assert client.get("/orders/99").status_code == 404


def test_the_cache_cleanup_drops_only_expired_entries(example: Load) -> None:
    orders = example("orders")
    now = time.monotonic()
    orders.cache.update({"old": (now - 1, "x"), "fresh": (now + 60, "y")})
    assert orders.cleanup_cache() == 1
    assert set(orders.cache) == {"fresh"}
