"""``app.publish``: persistent messages, each confirmed by the broker before it returns.

One connection per broker URL and event loop, opened on first use and again after the
broker closed it; ``close()`` closes the calling loop's.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import weakref
from collections.abc import Mapping
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection
from aiormq.abc import DeliveredMessage

from ._body import encode


class Publisher:
    """Publishes to queues of the broker at ``url`` through the default exchange."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._links: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[AbstractConnection, AbstractChannel]
        ] = weakref.WeakKeyDictionary()
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    async def _channel(self) -> AbstractChannel:
        loop = asyncio.get_running_loop()
        link = self._links.get(loop)
        if link is not None and not link[1].is_closed:
            return link[1]
        lock = self._locks.setdefault(loop, asyncio.Lock())
        async with lock:
            link = self._links.get(loop)
            if link is not None and not link[1].is_closed:
                return link[1]
            if link is not None:
                with contextlib.suppress(Exception):
                    await link[0].close()
            connection = await aio_pika.connect(
                self.url, client_properties={"connection_name": "backburner publisher"}
            )
            channel = await connection.channel(publisher_confirms=True)
            self._links[loop] = (connection, channel)
            return channel

    async def publish(
        self,
        queue: str,
        body: Any,
        *,
        headers: Mapping[str, Any] | None = None,
        message_id: str | None = None,
    ) -> str:
        """Publish ``body`` to ``queue``; returns the message id. Raises if the broker
        does not confirm it, or if no queue of that name exists to take it."""
        data, content_type = encode(body)
        message_id = message_id or uuid.uuid4().hex
        message = aio_pika.Message(
            data,
            content_type=content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message_id,
            headers=dict(headers or {}),
        )
        channel = await self._channel()
        result = await channel.default_exchange.publish(message, routing_key=queue, mandatory=True)
        if isinstance(result, DeliveredMessage):  # returned: no queue was bound to take it
            raise LookupError(f"no queue {queue!r} on the broker took the message")
        return message_id

    async def close(self) -> None:
        """Close the calling event loop's connection, if any."""
        link = self._links.pop(asyncio.get_running_loop(), None)
        if link is not None:
            await link[0].close()
