"""A connection cut by the broker, a stop mid-stream: nothing acked is lost, nothing is
left unacked, and ``/health`` tells while the consumer is cut off."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import pytest
from starlette.testclient import TestClient

from backburner import Backburner
from backburner.rabbitmq import ConsumerStatus
from tests.rabbitmq import broker
from tests.rabbitmq.apps import serving, status, wait_status
from tests.support import wait_until

LOCAL = ("127.0.0.1", 50123)


def every_message_handled(
    app: Backburner, queue: str, seen: Counter[str], ids: list[str], again_at_most: int
) -> ConsumerStatus:
    """Wait until each of ``ids`` was handled and nothing is in flight; check that none is
    left in the broker, unacked or waiting, and that at most ``again_at_most`` (those in
    flight at the cut, at most the prefetch) came twice: an ack sent as the connection
    went never reaches the broker."""
    wait_until(lambda: len(seen) == len(ids), 60, "every message handled")
    wait_status(app, queue, lambda s: s.in_flight == 0)
    assert broker.unacked(queue) == 0
    assert broker.ready(queue) == 0
    assert set(seen) == set(ids)
    done = status(app, queue)
    assert len(ids) <= done.processed <= len(ids) + again_at_most
    assert sum(seen.values()) - len(ids) <= again_at_most
    return done


def test_a_connection_closed_by_the_broker_mid_stream_loses_no_message(queue: str) -> None:
    app = Backburner("memory://")
    seen: Counter[str] = Counter()
    total = 10_000

    @app.consumer(queue, url=broker.BROKER_URL, prefetch=50)
    async def record(body: bytes) -> None:
        seen[body.decode()] += 1

    with serving(app):
        ids = [f"m-{n}" for n in range(total)]
        publishing = threading.Thread(
            target=broker.publish, args=(queue, [i.encode() for i in ids], ids)
        )
        publishing.start()
        wait_status(app, queue, lambda s: s.processed >= 2_000, timeout=60)
        assert broker.close_connections(f"backburner consumer {queue}") == 1
        wait_status(app, queue, lambda s: s.reconnects >= 1 and s.connected)
        publishing.join()
        done = every_message_handled(app, queue, seen, ids, again_at_most=50)
    assert done.last_error is not None


@pytest.mark.rabbitmq_restart
def test_a_broker_restart_mid_stream_loses_no_message(queue: str) -> None:
    app = Backburner("memory://")
    seen: Counter[str] = Counter()
    total = 10_000
    ids = [f"m-{n}" for n in range(total)]

    @app.consumer(queue, url=broker.BROKER_URL, prefetch=10)
    async def record(body: bytes) -> None:
        await asyncio.sleep(0.01)  # about 1,000 a second: the restart comes mid-stream
        seen[body.decode()] += 1

    with serving(app):  # the queue is declared (durable): publish into it, persistent
        broker.publish(queue, [i.encode() for i in ids], ids)
        wait_status(app, queue, lambda s: s.processed >= 1_000, timeout=60)
        try:
            broker.stop_app()
            wait_status(app, queue, lambda s: not s.connected)
            assert len(seen) < total, "the restart should catch the stream under way"
        finally:
            broker.start_app()
        wait_status(app, queue, lambda s: s.reconnects >= 1 and s.connected, timeout=60)
        every_message_handled(app, queue, seen, ids, again_at_most=10)


def test_a_stop_mid_stream_leaves_the_rest_to_the_broker(queue: str) -> None:
    app = Backburner("memory://")
    handled: list[str] = []
    total = 2_000

    @app.consumer(queue, url=broker.BROKER_URL, prefetch=10)
    async def slowish(body: bytes) -> None:
        await asyncio.sleep(0.01)  # at most 1,000 a second: the stop comes mid-stream
        handled.append(body.decode())

    ids = [f"m-{n}" for n in range(total)]
    with serving(app, shutdown_timeout=5):
        broker.publish(queue, [i.encode() for i in ids], ids)
        wait_status(app, queue, lambda s: s.processed >= 300, timeout=30)
    done = status(app, queue)
    assert not done.running
    assert done.in_flight == 0
    assert broker.unacked(queue) == 0
    left = [message_id for message_id, _, _ in broker.take_all(queue)]
    # Every message is either acked (handled) or back in the queue: none lost, and the
    # handlers running at the stop finished and were acked.
    assert len(handled) == done.processed < total
    assert sorted(set(handled) | set(left)) == sorted(ids)
    assert len(left) == total - done.processed


def test_a_handler_still_running_after_the_grace_period_leaves_its_message(queue: str) -> None:
    app = Backburner("memory://")
    started = threading.Event()

    @app.consumer(queue, url=broker.BROKER_URL)
    async def endless(body: bytes) -> None:
        started.set()
        await asyncio.sleep(60)

    with serving(app, shutdown_timeout=0.3):
        broker.publish(queue, [b"x"], ["only"])
        assert started.wait(10)
    done = status(app, queue)
    assert (done.processed, done.failed, done.in_flight) == (0, 0, 0)
    [(message_id, _, _)] = broker.take_all(queue)
    assert message_id == "only"


def test_health_is_degraded_while_a_consumer_cannot_reach_its_broker(queue: str) -> None:
    app = Backburner("memory://")

    @app.consumer(queue, url=broker.BROKER_URL)
    async def fine(body: bytes) -> None: ...

    @app.consumer("nowhere", url="amqp://guest:guest@127.0.0.1:1/")
    async def cut_off(body: bytes) -> None: ...

    client = TestClient(app.dashboard(), client=LOCAL)
    with app.start_server():
        wait_until(lambda: status(app, queue).connected, 15, "the good consumer to connect")
        wait_until(lambda: status(app, "nowhere").last_error, 15, "a failed connection")
        body = client.get("health").json()
        broker.publish(queue, [b"one"])
        wait_status(app, queue, lambda s: s.processed == 1)
        metrics = client.get("metrics").text
    assert body["status"] == "degraded"
    consumers = body["checks"]["consumers"]
    assert consumers[f"rabbitmq.{queue}"]["status"] == "healthy"
    assert consumers["rabbitmq.nowhere"]["status"] == "degraded"
    assert consumers["rabbitmq.nowhere"]["connected"] is False
    assert consumers["rabbitmq.nowhere"]["disconnected_since"] is not None
    assert f'backburner_rabbitmq_received_total{{queue="{queue}"}} 1.0' in metrics
    assert f'backburner_rabbitmq_acked_total{{queue="{queue}"}} 1.0' in metrics
    assert f'backburner_rabbitmq_connected{{queue="{queue}"}} 1.0' in metrics
    assert 'backburner_rabbitmq_connected{queue="nowhere"} 0.0' in metrics
    assert f'backburner_rabbitmq_handler_duration_seconds_count{{queue="{queue}"}} 1.0' in metrics
    # Once the server is gone, its consumers no longer count.
    assert "consumers" not in client.get("health").json()["checks"]
    time.sleep(0)


def test_a_retry_queue_deleted_under_the_consumer_is_declared_again(queue: str) -> None:
    app = Backburner("memory://")
    calls = 0

    @app.consumer(queue, url=broker.BROKER_URL, max_deliveries=2, retry_delays=[0.2])
    async def fails(body: bytes) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("down")

    with serving(app):
        broker.delete_queue(f"{queue}.retry.0.2s")
        broker.publish(queue, [b"x"], ["lost?"])
        done = wait_status(app, queue, lambda s: s.dead_lettered == 1, timeout=30)
    # The copy the broker returned was not acked: the message came again on the new
    # connection, and went through the retry queue declared anew.
    assert done.reconnects >= 1
    assert calls >= 2
    [(message_id, headers, _)] = broker.take_all(f"{queue}.dead")
    assert message_id == "lost?"
    assert headers["x-backburner-deliveries"] == 2
