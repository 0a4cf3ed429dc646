"""Reading a dead-letter queue, and sending its messages back to be consumed again."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from aio_pika.exceptions import AMQPError, ChannelNotFoundEntity
from aiormq.abc import DeliveredMessage

from ..storage._url import redact, scrub
from . import _messages
from ._consumer import CONNECT_TIMEOUT
from ._options import DELIVERIES, ERROR, ERROR_TYPE, FAILED_AT, ORIGIN, REASON, deliveries_of


@dataclass(frozen=True)
class DeadMessage:
    """A message in a dead-letter queue: why it is there, and what it holds."""

    message_id: str | None
    queue: str
    reason: str | None
    error: str | None
    error_type: str | None
    deliveries: int
    failed_at: dt.datetime | None
    body: bytes
    content_type: str | None
    headers: dict[str, Any]


class BrokerError(RuntimeError):
    """The broker cannot be reached, or refused what was asked."""


@contextlib.asynccontextmanager
async def _channel(url: str, *, confirms: bool) -> AsyncIterator[AbstractChannel]:
    try:
        connection = await asyncio.wait_for(aio_pika.connect(url), CONNECT_TIMEOUT)
    except (OSError, TimeoutError, AMQPError) as error:
        detail = scrub(str(error), url) or type(error).__name__
        raise BrokerError(f"cannot reach the broker at {redact(url)}: {detail}") from None
    async with connection:
        yield await connection.channel(publisher_confirms=confirms)


async def _existing(channel: AbstractChannel, name: str) -> AbstractQueue:
    try:
        return await channel.get_queue(name, ensure=True)
    except ChannelNotFoundEntity:
        raise LookupError(f"no queue {name!r} on the broker") from None


def _text(headers: dict[str, Any], key: str) -> str | None:
    value = headers.get(key)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None if value is None else str(value)


def _read(message: AbstractIncomingMessage, queue: str) -> DeadMessage:
    headers = dict(message.headers or {})
    failed_at = _text(headers, FAILED_AT)
    return DeadMessage(
        message_id=message.message_id,
        queue=_text(headers, ORIGIN) or queue,
        reason=_text(headers, REASON),
        error=_text(headers, ERROR),
        error_type=_text(headers, ERROR_TYPE) or None,
        deliveries=deliveries_of(headers),
        failed_at=dt.datetime.fromisoformat(failed_at) if failed_at else None,
        body=message.body,
        content_type=message.content_type,
        headers={k: v for k, v in headers.items() if k != DELIVERIES},
    )


async def dead_list(url: str, queue: str, limit: int = 100) -> tuple[int, list[DeadMessage]]:
    """How many messages the dead-letter queue of ``queue`` holds, and the first ``limit``.

    They are read and left where they are (returned to the queue unacked, so the broker
    marks them redelivered)."""
    async with _channel(url, confirms=False) as channel:
        dead = await _existing(channel, f"{queue}.dead")
        total = dead.declaration_result.message_count or 0
        found: list[DeadMessage] = []
        while len(found) < limit:
            message = await dead.get(no_ack=False, fail=False)
            if message is None:
                break
            found.append(_read(message, queue))
        # Closing the channel gives every message read back to the queue.
    return total, found


async def dead_requeue(url: str, queue: str, limit: int | None = None) -> int:
    """Move up to ``limit`` messages (all by default) from ``<queue>.dead`` back to the
    queue they came from, with a fresh delivery count; returns how many moved."""
    moved = 0
    async with _channel(url, confirms=True) as channel:
        dead = await _existing(channel, f"{queue}.dead")
        # Only those there now: one that fails again meanwhile comes back behind them.
        present = dead.declaration_result.message_count or 0
        limit = present if limit is None else min(limit, present)
        while moved < limit:
            message = await dead.get(no_ack=False, fail=False)
            if message is None:
                break
            origin = _text(dict(message.headers or {}), ORIGIN) or queue
            result = await channel.default_exchange.publish(
                _messages.requeued_copy(message), routing_key=origin, mandatory=True
            )
            if isinstance(result, DeliveredMessage):  # returned: left in the dead queue
                raise LookupError(f"no queue {origin!r} on the broker to send messages back to")
            await message.ack()
            moved += 1
    return moved
