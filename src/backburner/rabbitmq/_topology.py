"""The queues and exchange around a consumer, declared on every (re)connection.

``<queue>``: durable (classic, or quorum with the broker's delivery limit), dead-lettering
into the fanout exchange ``<queue>.dead``, which feeds the queue ``<queue>.dead``. Each
retry delay has a queue ``<queue>.retry.<delay>s`` with that time to live, dead-lettering
back into ``<queue>`` through the default exchange: a message waits there, in the broker,
and comes back on its own, so no retry depends on this process staying up.
"""

from __future__ import annotations

from dataclasses import dataclass

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue
from pamqp.common import FieldTable

from ._options import ConsumerOptions


@dataclass(frozen=True)
class Topology:
    queue: AbstractQueue
    dead_exchange: AbstractExchange


def queue_arguments(options: ConsumerOptions) -> FieldTable:
    arguments: FieldTable = {"x-dead-letter-exchange": options.dead_letter_exchange}
    if options.quorum:
        # Ends a message that kills its consumer before it can count the delivery itself.
        arguments |= {"x-queue-type": "quorum", "x-delivery-limit": options.max_deliveries}
    return arguments


async def declare(channel: AbstractChannel, options: ConsumerOptions) -> Topology:
    dead_exchange = await channel.declare_exchange(
        options.dead_letter_exchange, ExchangeType.FANOUT, durable=True
    )
    dead = await channel.declare_queue(options.dead_letter_queue, durable=True)
    await dead.bind(dead_exchange)
    queue = await channel.declare_queue(
        options.queue, durable=True, arguments=queue_arguments(options)
    )
    for delay in sorted({d for d in options.delays_used() if d > 0}):
        await channel.declare_queue(
            options.retry_queue(delay),
            durable=True,
            arguments={
                "x-message-ttl": round(delay * 1000),
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": options.queue,
            },
        )
    return Topology(queue, dead_exchange)
