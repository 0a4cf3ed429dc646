"""Declaring consumers: the broker URL from the settings, the hosting switches, the queue
arguments the broker is given."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest

from backburner import Backburner, Settings
from tests.rabbitmq import broker
from tests.rabbitmq.apps import serving, status, wait_status
from tests.support import wait_until


def test_the_broker_url_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKBURNER__RABBITMQ__URL", "amqp://guest:guest@127.0.0.1:1/")
    app = Backburner("memory://")
    assert app.settings.rabbitmq.url == "amqp://guest:guest@127.0.0.1:1/"
    assert app.settings.source_of("rabbitmq.url").where == "BACKBURNER__RABBITMQ__URL"

    @app.consumer("unreachable")
    async def handler(body: bytes) -> None: ...

    with app.start_server():
        found = wait_until(lambda: status(app, "unreachable").last_error, 15, "a refusal")
        assert status(app, "unreachable").running
    assert "refused" in found.lower() or "connect" in found.lower()


def test_the_hosting_switches_leave_consumers_off(queue: str) -> None:
    app = Backburner("memory://", settings=Settings(hosting={"enabled": False}))

    @app.consumer(queue, url=broker.BROKER_URL)
    async def off(body: bytes) -> None: ...

    named = Backburner("memory://", settings=Settings(hosting={"disabled": [f"rabbitmq.{queue}"]}))
    named.consumer(queue, url=broker.BROKER_URL)(off)
    flagged = Backburner("memory://")
    flagged.consumer(queue, url=broker.BROKER_URL, enabled=False)(off)
    for each in (app, named, flagged):
        with each.start_server():
            assert not status(each, queue).running
    assert not broker.exists(queue)


def test_a_consumer_name_is_taken_once() -> None:
    app = Backburner("memory://")
    app.consumer("mail", url=broker.BROKER_URL)(lambda message: None)
    with pytest.raises(ValueError, match="exists already"):
        app.consumer("mail", url=broker.BROKER_URL)(lambda message: None)


def test_a_quorum_queue_gets_the_brokers_delivery_limit(queue: str) -> None:
    app = Backburner("memory://")
    handled: list[bytes] = []

    @app.consumer(queue, url=broker.BROKER_URL, quorum=True, max_deliveries=3)
    async def on_message(body: bytes) -> None:
        handled.append(body)

    with serving(app):
        broker.publish(queue, [b"q"])
        wait_status(app, queue, lambda s: s.processed == 1)

    async def redeclare_classic() -> str:
        # The broker refuses a declaration that differs from the quorum queue's.
        async with await aio_pika.connect(broker.BROKER_URL) as connection:
            channel = await connection.channel()
            try:
                await channel.declare_queue(queue, durable=True)
            except aio_pika.exceptions.ChannelPreconditionFailed as error:
                return str(error)
            return ""

    refused = asyncio.run(redeclare_classic())
    assert "x-queue-type" in refused or "x-dead-letter-exchange" in refused
    assert handled == [b"q"]
