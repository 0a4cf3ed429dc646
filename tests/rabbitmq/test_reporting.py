"""A consumer shows in its server's heartbeat report, read through storage as a
dashboard in another process reads it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from backburner import Backburner, HostedConsumer
from tests.rabbitmq import broker
from tests.support import wait_until


def test_a_consumer_shows_in_its_servers_hosting_report(queue: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    app = Backburner(url)
    elsewhere = Backburner(url)  # reads storage only, as `backburner dashboard` would

    @app.consumer(queue, url=broker.BROKER_URL, max_deliveries=1)
    async def on_message(message: dict[str, Any]) -> None:
        if message.get("bad"):
            raise ValueError("cannot handle it")

    def consumers() -> tuple[HostedConsumer, ...]:
        return tuple(c for s in elsewhere.servers() for c in s.hosting.consumers)

    try:
        with app.start_server(server_timeout=1.0):
            [connected] = wait_until(
                lambda: [c for c in consumers() if c.connected], 15, "a connected consumer"
            )
            assert (connected.queue, connected.processed, connected.failed) == (queue, 0, 0)

            async def send() -> None:
                for body in ({"n": 1}, {"bad": True}, {"n": 2}):
                    await app.publish(queue, body, url=broker.BROKER_URL)
                await app.close_publisher()

            asyncio.run(send())
            [reported] = wait_until(
                lambda: [c for c in consumers() if c.processed == 2 and c.dead_lettered == 1],
                15,
                "the outcomes in a heartbeat",
            )
    finally:
        elsewhere.close()
        app.close()
    assert reported == HostedConsumer(
        queue=queue, connected=True, in_flight=0, processed=2, failed=1, dead_lettered=1
    )
