"""RabbitMQ consumer throughput: Backburner's consumer next to a plain aio-pika loop.

    .venv/bin/python benchmarks/rabbitmq.py [--messages 20000] [--repeat 3] [--url amqp://...]

Each run preloads ``--messages`` persistent messages into a fresh queue (declared as the
consumer declares it: durable, with its dead-letter exchange), then consumes them all and
reports messages per second from the first delivery to the last ack:

- ``plain``: ``queue.consume(callback)`` whose callback acks at once, aio-pika's own loop;
- ``consumer``: ``@app.consumer`` with a no-op ``async def`` handler, in a server started
  with ``app.start_server()`` (the last ack is seen through ``app.consumer_statuses()``);
- ``bridge``: ``app.consumer(queue, enqueue=job)``, each message stored as a job in a
  SQLite file before its ack (the jobs are not run).

At prefetch 1 and 100, the variants interleaved, the median of ``--repeat`` runs each.
The queues are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backburner import Backburner  # noqa: E402
from backburner.rabbitmq._options import ConsumerOptions  # noqa: E402
from backburner.rabbitmq._topology import declare  # noqa: E402
from benchmarks.bench import cpu_yardstick  # noqa: E402


async def _preload(url: str, options: ConsumerOptions, count: int) -> None:
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel(publisher_confirms=True)
        await declare(channel, options)
        body = json.dumps({"to": "ann@example.com", "n": 0}).encode()
        for start in range(0, count, 1000):
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(
                            body,
                            message_id=uuid.uuid4().hex,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=options.queue,
                    )
                    for _ in range(min(1000, count - start))
                )
            )


async def _delete(url: str, options: ConsumerOptions) -> None:
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        for name in (options.queue, options.dead_letter_queue, *options.retry_queues):
            await channel.queue_delete(name)
        await channel.exchange_delete(options.dead_letter_exchange)


def _fresh(url: str, prefetch: int) -> ConsumerOptions:
    return ConsumerOptions(f"bench-{uuid.uuid4().hex[:10]}", url, prefetch=prefetch)


def plain(url: str, count: int, prefetch: int) -> float:
    options = _fresh(url, prefetch)
    asyncio.run(_preload(url, options, count))

    async def consume() -> float:
        done = asyncio.Event()
        seen = 0
        first = 0.0

        async def on_message(message: AbstractIncomingMessage) -> None:
            nonlocal seen, first
            if seen == 0:
                first = time.perf_counter()
            await message.ack()
            seen += 1
            if seen == count:
                done.set()

        async with await aio_pika.connect(url) as connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=prefetch)
            queue = await channel.get_queue(options.queue)
            await queue.consume(on_message)
            await done.wait()
            return count / (time.perf_counter() - first)

    try:
        return asyncio.run(consume())
    finally:
        asyncio.run(_delete(url, options))


def _through_app(
    url: str, count: int, prefetch: int, declare_on: Callable[[Backburner, str], None], app: Any
) -> float:
    options = _fresh(url, prefetch)
    asyncio.run(_preload(url, options, count))
    declare_on(app, options.queue)
    try:
        with app.start_server():
            while True:
                [status] = app.consumer_statuses()
                if status.received:
                    break
                time.sleep(0.0005)
            first = time.perf_counter()
            while app.consumer_statuses()[0].processed < count:
                time.sleep(0.02)
            return count / (time.perf_counter() - first)
    finally:
        asyncio.run(_delete(url, options))


def consumer(url: str, count: int, prefetch: int) -> float:
    def add(app: Backburner, queue: str) -> None:
        @app.consumer(queue, url=url, prefetch=prefetch)
        async def no_op(message: dict[str, Any]) -> None:
            return None

    return _through_app(url, count, prefetch, add, Backburner("memory://"))


def bridge(url: str, count: int, prefetch: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        app = Backburner(f"sqlite:///{folder}/jobs.db")

        @app.job(queue="emails")
        def send(message: dict[str, Any]) -> None: ...

        def add(app: Backburner, queue: str) -> None:
            app.consumer(queue, url=url, prefetch=prefetch, enqueue=send)

        try:
            return _through_app(url, count, prefetch, add, app)
        finally:
            app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--bridge-messages", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, float] = {}
    before = cpu_yardstick()
    for prefetch in (1, 100):
        runs: dict[str, list[float]] = {}
        # Interleaved, so that a busy moment of the machine falls on every variant alike.
        for _ in range(args.repeat):
            for name, run, count in (
                ("plain", plain, args.messages),
                ("consumer", consumer, args.messages),
                ("bridge", bridge, args.bridge_messages),
            ):
                runs.setdefault(name, []).append(run(args.url, count, prefetch))
        for name, rates in runs.items():
            key = f"{name} prefetch={prefetch}"
            results[key] = statistics.median(rates)
            print(f"{key:<24} {results[key]:>9.0f} msg/s  (runs: {[round(r) for r in rates]})")
    for prefetch in (1, 100):
        ratio = results[f"consumer prefetch={prefetch}"] / results[f"plain prefetch={prefetch}"]
        print(f"consumer / plain at prefetch {prefetch}: {ratio:.0%}")
    print(
        f"yardstick (a 10-million-step Python loop): {before:.2f} s before, "
        f"{cpu_yardstick():.2f} s after"
    )


if __name__ == "__main__":
    main()
