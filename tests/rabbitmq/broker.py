"""The machine's RabbitMQ, driven from tests: publishing in bulk, reading queues, cutting
connections from the broker's side."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import aio_pika
from aio_pika.exceptions import ChannelNotFoundEntity

BROKER_URL = os.environ.get("BACKBURNER_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672/")
START_HINT = "start it with `rabbitmq-server -detached` (or set BACKBURNER_TEST_RABBITMQ)"


def fresh_queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def unreachable() -> str | None:
    """Why the test broker cannot be used, or None."""

    async def probe() -> None:
        connection = await asyncio.wait_for(aio_pika.connect(BROKER_URL), 5)
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def delete_queues(queue: str, extra: Iterable[str] = ()) -> None:
    """Delete ``queue``, its dead-letter queue and exchange, and its retry queues."""

    async def delete() -> None:
        names = [queue, f"{queue}.dead", *extra, *_retry_queues(queue)]
        async with await aio_pika.connect(BROKER_URL) as connection:
            for name in names:
                channel = await connection.channel()
                await channel.queue_delete(name)
                await channel.close()
            channel = await connection.channel()
            await channel.exchange_delete(f"{queue}.dead")

    asyncio.run(delete())


def delete_queue(name: str) -> None:
    async def delete() -> None:
        async with await aio_pika.connect(BROKER_URL) as connection:
            channel = await connection.channel()
            await channel.queue_delete(name)

    asyncio.run(delete())


def _retry_queues(queue: str) -> list[str]:
    listed = subprocess.run(
        ["rabbitmqctl", "list_queues", "name", "-q", "--no-table-headers"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [name for name in listed if name.startswith(f"{queue}.retry.")]


def publish(
    queue: str, bodies: Sequence[bytes], message_ids: Sequence[str | None] | None = None
) -> list[str | None]:
    """Publish raw bodies (with confirms, many at once); returns their message ids."""
    ids: list[str | None] = (
        list(message_ids) if message_ids is not None else [uuid.uuid4().hex for _ in bodies]
    )

    async def send() -> None:
        async with await aio_pika.connect(BROKER_URL) as connection:
            channel = await connection.channel(publisher_confirms=True)
            for start in range(0, len(bodies), 500):
                await asyncio.gather(
                    *(
                        channel.default_exchange.publish(
                            aio_pika.Message(
                                body,
                                message_id=message_id,
                                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            ),
                            routing_key=queue,
                        )
                        for body, message_id in zip(
                            bodies[start : start + 500], ids[start : start + 500], strict=True
                        )
                    )
                )

    asyncio.run(send())
    return ids


def ready(queue: str) -> int:
    """Messages waiting in ``queue`` (not counting those delivered and unacked)."""

    async def count() -> int:
        async with await aio_pika.connect(BROKER_URL) as connection:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(queue, passive=True)
            except ChannelNotFoundEntity:
                return 0
            return declared.declaration_result.message_count or 0

    return asyncio.run(count())


def exists(queue: str) -> bool:
    async def declared() -> bool:
        async with await aio_pika.connect(BROKER_URL) as connection:
            channel = await connection.channel()
            try:
                await channel.declare_queue(queue, passive=True)
            except ChannelNotFoundEntity:
                return False
            return True

    return asyncio.run(declared())


def unacked(queue: str) -> int:
    """Messages of ``queue`` delivered to a consumer and not yet acked."""
    listed = subprocess.run(
        ["rabbitmqctl", "list_queues", "name", "messages_unacknowledged", "-q"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in listed.splitlines():
        name, _, count = line.partition("\t")
        if name == queue:
            return int(count)
    return 0


def take_all(queue: str) -> list[Any]:
    """Every message now in ``queue``, removed from it: (message id, headers, body)."""

    async def take() -> list[Any]:
        found: list[Any] = []
        async with await aio_pika.connect(BROKER_URL) as connection:
            channel = await connection.channel()
            declared = await channel.declare_queue(queue, passive=True)
            while True:
                message = await declared.get(no_ack=True, fail=False)
                if message is None:
                    return found
                found.append((message.message_id, dict(message.headers or {}), message.body))

    return asyncio.run(take())


def close_connections(named: str) -> int:
    """Close, from the broker's side, every connection whose client called itself
    ``named``; returns how many."""
    listed = subprocess.run(
        ["rabbitmqctl", "list_connections", "pid", "client_properties", "-q"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    closed = 0
    for line in listed.splitlines():
        pid, _, properties = line.partition("\t")
        if f'{{"connection_name","{named}"}}' in properties:
            subprocess.run(
                ["rabbitmqctl", "close_connection", pid, "closed by a test"],
                capture_output=True,
                check=True,
            )
            closed += 1
    return closed


def stop_app() -> None:
    """Stop the broker's application (its node stays up): every connection drops."""
    subprocess.run(["rabbitmqctl", "stop_app"], capture_output=True, check=True, timeout=60)


def start_app() -> None:
    """Start the broker's application again and wait until it takes connections."""
    subprocess.run(["rabbitmqctl", "start_app"], capture_output=True, check=True, timeout=120)
    subprocess.run(
        ["rabbitmqctl", "await_startup", "--timeout", "60"],
        capture_output=True,
        check=True,
        timeout=90,
    )
