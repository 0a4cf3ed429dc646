"""``enqueue=job``: each message stored as a durable job exactly once, before its ack."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from backburner import Backburner, JobState
from tests.rabbitmq import broker
from tests.rabbitmq.apps import serving, status, wait_status
from tests.support import POSTGRES_URL, drop_schema, fresh_schema, wait_until


class Order(BaseModel):
    number: int
    item: str


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobs.db'}"
        return
    schema = fresh_schema()
    yield f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}schema={schema}"
    drop_schema(schema)


def test_each_message_becomes_one_job_even_when_delivered_again(
    queue: str, storage_url: str
) -> None:
    app = Backburner(storage_url)
    ran: list[dict[str, Any]] = []
    lock = threading.Lock()

    @app.job(queue="orders")
    def process_order(order: dict[str, Any]) -> None:
        with lock:
            ran.append(order)

    app.consumer(queue, url=broker.BROKER_URL, enqueue=process_order, model=Order, prefetch=10)
    ids = [f"order-{n}" for n in range(30)]
    bodies = [b'{"number": %d, "item": "tea"}' % n for n in range(30)]
    with serving(app):
        broker.publish(queue, bodies, ids)
        # The same messages again, as a broker redelivers those whose ack it never got.
        broker.publish(queue, bodies[:10], ids[:10])
        broker.publish(queue, [b'{"number": "x"}'], ["bad"])
        done = wait_status(app, queue, lambda s: s.processed == 40 and s.dead_lettered == 1)
    assert done.failed == 0
    jobs = app.jobs.list(limit=100)
    assert len(jobs) == 30
    assert {job.name for job in jobs} == {process_order.name}
    assert {job.queue for job in jobs} == {"orders"}
    assert broker.ready(queue) == 0
    [(message_id, headers, _)] = broker.take_all(f"{queue}.dead")
    assert message_id == "bad"
    assert headers["x-backburner-reason"] == "undecodable"

    # The jobs are durable: a server started later (no consumer this time) runs them.
    worker = Backburner(storage_url)
    worker.job(queue="orders", name=process_order.name)(process_order.func)
    with worker.start_server(queues=["orders"]):
        wait_until(
            lambda: worker.stats().succeeded == 30, 30, "the stored orders to run", pause=0.05
        )
    assert sorted(order["number"] for order in ran) == list(range(30))
    assert all(order["item"] == "tea" for order in ran)
    assert {j.state for j in worker.jobs.list(limit=100)} == {JobState.SUCCEEDED}
    worker.close()
    app.close()


def test_a_message_without_an_id_is_still_stored(queue: str) -> None:
    app = Backburner("memory://")

    @app.job
    def note(text: str) -> None: ...

    app.consumer(queue, url=broker.BROKER_URL, enqueue=note, model=str)
    with serving(app):
        broker.publish(queue, [b"first", b"second"], [None, None])
        wait_status(app, queue, lambda s: s.processed == 2)
    assert status(app, queue).dead_lettered == 0
    assert sorted(job.args for job in app.jobs.list()) == [["first"], ["second"]]
