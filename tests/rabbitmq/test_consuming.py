"""Handling messages: acked on success, retried, dead-lettered, read as the handler asks."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from pydantic import BaseModel

from backburner import Backburner
from backburner.rabbitmq._dead import dead_list
from tests.rabbitmq import broker
from tests.rabbitmq.apps import serving, status, wait_status


class Email(BaseModel):
    to: str
    subject: str = ""


def test_a_message_is_acked_once_its_handler_returns(queue: str) -> None:
    app = Backburner("memory://")
    seen: list[Email] = []

    @app.consumer(queue, url=broker.BROKER_URL)
    async def on_email(message: Email) -> None:
        seen.append(message)

    with serving(app):

        async def send() -> None:
            for to in ("ann@example.com", "bob@example.com"):
                await app.publish(queue, {"to": to}, url=broker.BROKER_URL)
            await app.publish(
                queue, Email(to="cy@example.com", subject="hi"), url=broker.BROKER_URL
            )
            await app.close_publisher()

        asyncio.run(send())
        done = wait_status(app, queue, lambda s: s.processed == 3)
        assert broker.unacked(queue) == 0
    assert [m.to for m in seen] == ["ann@example.com", "bob@example.com", "cy@example.com"]
    assert seen[2].subject == "hi"
    assert (done.received, done.failed, done.retried, done.dead_lettered) == (3, 0, 0, 0)
    assert done.duration_count == 3
    assert broker.ready(queue) == 0
    assert broker.ready(f"{queue}.dead") == 0


def test_a_failing_message_is_retried_then_dead_lettered_with_its_error(queue: str) -> None:
    app = Backburner("memory://")
    deliveries: list[float] = []

    @app.consumer(queue, url=broker.BROKER_URL, max_deliveries=3, retry_delays=[0.3, 0.6])
    def on_message(message: dict[str, Any]) -> None:  # a plain def: run on a thread
        deliveries.append(time.monotonic())
        raise ValueError(f"cannot send to {message['to']}")

    with serving(app):
        broker.publish(queue, [b'{"to": "ann"}'], ["m-1"])
        done = wait_status(app, queue, lambda s: s.dead_lettered == 1)
    assert len(deliveries) == 3
    # The delays, waited in the broker's retry queues: 0.3 s, then 0.6 s.
    assert deliveries[1] - deliveries[0] >= 0.25
    assert deliveries[2] - deliveries[1] >= 0.55
    assert (done.received, done.failed, done.retried, done.processed) == (3, 3, 2, 0)
    assert broker.ready(queue) == 0
    [(message_id, headers, body)] = broker.take_all(f"{queue}.dead")
    assert (message_id, body) == ("m-1", b'{"to": "ann"}')
    assert headers["x-backburner-deliveries"] == 3
    assert headers["x-backburner-reason"] == "failed"
    assert headers["x-backburner-error-type"] == "ValueError"
    assert headers["x-backburner-error"] == "cannot send to ann"
    assert headers["x-backburner-queue"] == queue


def test_a_message_that_fails_then_succeeds_is_acked_once(queue: str) -> None:
    app = Backburner("memory://")
    attempts: list[str] = []

    @app.consumer(queue, url=broker.BROKER_URL, max_deliveries=5, retry_delays=[0])
    async def flaky(text: str) -> None:
        attempts.append(text)
        if len(attempts) < 3:
            raise RuntimeError("not yet")

    with serving(app):
        broker.publish(queue, [b"hello"])
        done = wait_status(app, queue, lambda s: s.processed == 1)
        time.sleep(0.3)  # nothing more comes
        assert status(app, queue).received == 3
    assert attempts == ["hello", "hello", "hello"]
    assert (done.failed, done.retried, done.dead_lettered) == (2, 2, 0)
    assert broker.ready(queue) == broker.ready(f"{queue}.dead") == 0


def test_a_body_that_does_not_read_goes_straight_to_the_dead_letter_queue(queue: str) -> None:
    app = Backburner("memory://")
    handled: list[Email] = []

    @app.consumer(queue, url=broker.BROKER_URL, max_deliveries=5)
    async def on_email(message: Email) -> None:
        handled.append(message)

    with serving(app):
        broker.publish(
            queue, [b"not json", b'{"subject": "no recipient"}', b'{"to": "ok"}'], ["a", "b", "c"]
        )
        done = wait_status(app, queue, lambda s: s.dead_lettered == 2 and s.processed == 1)
    assert [m.to for m in handled] == ["ok"]
    assert (done.received, done.failed, done.retried) == (3, 0, 0)
    total, dead = asyncio.run(dead_list(broker.BROKER_URL, queue))
    assert total == 2
    reasons = {m.message_id: (m.reason, m.error, m.deliveries) for m in dead}
    assert reasons["a"][0] == reasons["b"][0] == "undecodable"
    assert "not JSON" in str(reasons["a"][1])
    assert "to: Field required" in str(reasons["b"][1])
    assert reasons["a"][2] == 1
    assert broker.ready(f"{queue}.dead") == 2  # listing left them there


def test_sync_handlers_run_on_threads_up_to_prefetch_at_once(queue: str) -> None:
    app = Backburner("memory://")
    lock = threading.Lock()
    running, most, threads = 0, 0, set()

    @app.consumer(queue, url=broker.BROKER_URL, prefetch=4)
    def slow(body: bytes) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            threads.add(threading.get_ident())
        time.sleep(0.3)
        with lock:
            running -= 1

    with serving(app):
        broker.publish(queue, [b"%d" % n for n in range(12)])
        wait_status(app, queue, lambda s: s.processed == 12)
    assert most == 4
    assert len(threads) >= 4
    assert threading.get_ident() not in threads


def test_a_handler_past_its_timeout_fails_that_delivery(queue: str) -> None:
    app = Backburner("memory://")
    calls = 0

    @app.consumer(queue, url=broker.BROKER_URL, timeout=0.2, max_deliveries=2, retry_delays=[0])
    async def hangs(message: Any) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(30)

    with serving(app):
        started = time.monotonic()
        broker.publish(queue, [json.dumps({"n": 1}).encode()])
        wait_status(app, queue, lambda s: s.dead_lettered == 1)
        assert time.monotonic() - started < 5
    assert calls == 2
    [(_, headers, _)] = broker.take_all(f"{queue}.dead")
    assert headers["x-backburner-error-type"] == "TimeoutError"
    assert "timeout of 0.2 s" in headers["x-backburner-error"]
