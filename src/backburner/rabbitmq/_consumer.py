"""A consumer: reads one queue, hands each message to a handler, settles it with the broker.

A delivery is acked only once its handler has returned. A handler that raises (or runs
past its timeout) has its message republished, with its delivery count in a header, to
the retry queue of the next delay, and only then acked; once the count reaches
``max_deliveries`` the message goes to the dead-letter queue instead, the error in its
headers. A body that does not read as what the handler takes is dead-lettered at once.
Every move is confirmed by the broker before the delivery it replaces is acked, so a
crash in between delivers a message twice, never zero times.

The consumer runs as a service of a server. It keeps its own connection, and when the
broker closes it (a restart, ``rabbitmqctl close_connection``) it reconnects with a
back-off, while ``/health`` shows it disconnected. Deliveries unacked when a connection
drops go back to the queue on the broker's side and come again.

On stop it cancels its subscription, gives running handlers the grace period to finish
and settle, and closes the connection, so the broker redelivers whatever is left.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from aiormq.abc import DeliveredMessage

from .._records import HostedConsumer
from ..server._services import Service
from . import _messages
from ._body import BodyError, Decoder
from ._options import REASON_FAILED, REASON_UNDECODABLE, ConsumerOptions, deliveries_of
from ._status import ConsumerStatus, Outcome, StatusBoard, consumer_report
from ._topology import Topology, declare

log = logging.getLogger("backburner.rabbitmq")

Handler = Callable[[Any], Any]
Store = Callable[[Any, str | None], object]
"""Stores a message's value as a job: ``(value, unique key or None)``."""

CONNECT_TIMEOUT = 10.0


class BrokerDisconnected(ConnectionError):
    """The broker closed the consumer's connection or channel."""


class Unroutable(RuntimeError):
    """A retry or dead-letter queue is gone: the broker returned the copy sent to it."""


def _check_routed(result: object, queue: str) -> None:
    if isinstance(result, DeliveredMessage):
        raise Unroutable(f"queue {queue} is gone; declaring the queues again")


class Consumer:
    """Runs ``handler`` (async, or sync on threads) for each message of ``options.queue``.

    ``model`` is what the handler takes (see ``_body``). With ``store`` instead of a
    handler, each message's value is stored as a durable job, keyed by its message id so
    that a redelivery stores nothing new.
    """

    def __init__(
        self,
        name: str,
        options: ConsumerOptions,
        decoder: Decoder,
        *,
        handler: Handler | None = None,
        store: Store | None = None,
    ) -> None:
        if (handler is None) == (store is None):
            raise ValueError(f"consumer {name}: give either a handler or a job to enqueue")
        self.name = name
        self.options = options
        self._decoder = decoder
        self._handler = handler
        self._store = store
        self._is_async = handler is not None and inspect.iscoroutinefunction(handler)
        self._board = StatusBoard(name, options.queue, options.dead_letter_queue)

    def status(self) -> ConsumerStatus:
        return self._board.read()

    def service(self, grace: float) -> Service:
        """This consumer as a service of a server whose running handlers get ``grace``
        seconds to finish on stop (the service's own grace covers theirs)."""

        async def run(stop: asyncio.Event) -> None:
            await self.run(stop, grace)

        return Service(self.name, run, grace=grace + CONNECT_TIMEOUT, report=self.report)

    def report(self) -> HostedConsumer:
        """This consumer's part of a server's heartbeat."""
        return consumer_report(self._board.read())

    # --- connecting, and again -----------------------------------------------------

    async def run(self, stop: asyncio.Event, grace: float) -> None:
        """Consume until ``stop`` is set, reconnecting with back-off when cut off; then
        give running handlers ``grace`` seconds."""
        options = self.options
        executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=options.prefetch, thread_name_prefix=f"backburner-{options.queue}"
        )
        delay = options.reconnect_delay
        self._board.run_started()
        try:
            while not stop.is_set():
                session = _Session(self, executor)
                try:
                    await session.run(stop, grace)
                except Exception as error:
                    if session.was_connected:
                        delay = options.reconnect_delay
                    else:
                        self._board.connect_failed(error)
                    log.warning(
                        "consumer %s: %s: %s; reconnecting in %g s",
                        self.name,
                        "connection lost" if session.was_connected else "cannot connect",
                        error,
                        delay,
                    )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
                    delay = min(options.max_reconnect_delay, delay * 2)
                    if not stop.is_set():
                        self._board.reconnecting()
        finally:
            self._board.run_ended()
            executor.shutdown(wait=False, cancel_futures=True)

    # --- one delivery --------------------------------------------------------------

    async def handle(
        self, message: AbstractIncomingMessage, topology: Topology, executor: Executor
    ) -> Outcome:
        options, board = self.options, self._board
        deliveries = deliveries_of(message.headers) + 1
        try:
            value = self._decoder.decode(message.body)
        except BodyError as error:
            log.warning(
                "consumer %s: message %s dead-lettered: %s", self.name, message.message_id, error
            )
            await self._dead_letter(message, topology, deliveries, REASON_UNDECODABLE, str(error))
            return "dead_lettered"
        started = time.perf_counter()
        try:
            if options.timeout is None:
                await self._invoke(value, message, executor)
            else:
                try:
                    await asyncio.wait_for(self._invoke(value, message, executor), options.timeout)
                except TimeoutError:
                    raise TimeoutError(
                        f"the handler ran past its timeout of {options.timeout:g} s"
                    ) from None
            failure: Exception | None = None
        except Exception as error:
            failure = error
        board.handler_ran(time.perf_counter() - started)
        if failure is None:
            await message.ack()
            return "processed"
        board.handler_failed()
        if deliveries >= options.max_deliveries:
            log.warning(
                "consumer %s: message %s failed on delivery %d of %d: dead-lettered",
                self.name,
                message.message_id,
                deliveries,
                options.max_deliveries,
                exc_info=failure,
            )
            await self._dead_letter(message, topology, deliveries, REASON_FAILED, failure)
            return "dead_lettered"
        delay = options.delay_before(deliveries + 1)
        log.warning(
            "consumer %s: message %s failed on delivery %d of %d: again in %g s",
            self.name,
            message.message_id,
            deliveries,
            options.max_deliveries,
            delay,
            exc_info=failure,
        )
        target = options.retry_queue(delay) if delay > 0 else options.queue
        channel = topology.queue.channel
        returned = await channel.default_exchange.publish(
            _messages.retry_copy(message, deliveries), routing_key=target
        )
        _check_routed(returned, target)
        await message.ack()
        return "retried"

    async def _dead_letter(
        self,
        message: AbstractIncomingMessage,
        topology: Topology,
        deliveries: int,
        reason: str,
        error: BaseException | str,
    ) -> None:
        copy = _messages.dead_copy(message, deliveries, self.options.queue, reason, error)
        returned = await topology.dead_exchange.publish(copy, routing_key=self.options.queue)
        _check_routed(returned, self.options.dead_letter_queue)
        await message.ack()

    def _invoke(
        self, value: Any, message: AbstractIncomingMessage, executor: Executor
    ) -> Awaitable[Any]:
        """The handler's run (or the job's storing) for one message's value."""
        loop = asyncio.get_running_loop()
        if self._store is not None:
            key = (
                None
                if not message.message_id
                else f"rabbitmq:{self.options.queue}:{message.message_id}"
            )
            return loop.run_in_executor(executor, self._store, self._decoder.to_json(value), key)
        assert self._handler is not None
        if self._is_async:
            return self._handler(value)  # type: ignore[no-any-return]
        return loop.run_in_executor(executor, self._handler, value)

    @property
    def board(self) -> StatusBoard:
        return self._board


class _Session:
    """One connection of a consumer: from connecting to its close."""

    def __init__(self, consumer: Consumer, executor: Executor) -> None:
        self._consumer = consumer
        self._executor = executor
        self._tasks: set[asyncio.Task[Any]] = set()
        self.was_connected = False

    async def run(self, stop: asyncio.Event, grace: float) -> None:
        consumer = self._consumer
        options = consumer.options
        connection = await asyncio.wait_for(
            aio_pika.connect(
                options.url,
                client_properties={"connection_name": f"backburner consumer {options.queue}"},
            ),
            CONNECT_TIMEOUT,
        )
        try:
            channel = await connection.channel(publisher_confirms=True)
            await channel.set_qos(prefetch_count=options.prefetch)
            topology = await declare(channel, options)
            on_message = functools.partial(self._on_message, topology)
            tag = await topology.queue.consume(on_message)
            self.was_connected = True
            consumer.board.connected()
            lost: BaseException | None = None
            try:
                await self._until_stop_or_close(stop, connection, channel)
                if not stop.is_set():
                    lost = BrokerDisconnected("the broker closed the connection")
                    raise lost
                with contextlib.suppress(Exception):  # closing anyway
                    await topology.queue.cancel(tag)
                await self._drain(grace)
            finally:
                consumer.board.disconnected(lost)
        finally:
            await self._cancel_running()
            with contextlib.suppress(Exception):
                await connection.close()

    async def _until_stop_or_close(
        self, stop: asyncio.Event, connection: aio_pika.abc.AbstractConnection, channel: Any
    ) -> None:
        waits = [
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(connection.closed()),
            asyncio.ensure_future(channel.closed()),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _on_message(
        self,
        topology: Topology,
        message: AbstractIncomingMessage,
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        consumer = self._consumer
        board = consumer.board
        board.received()
        outcome: Outcome = "returned"
        try:
            outcome = await consumer.handle(message, topology, self._executor)
        except Unroutable as error:
            # Not acked; a new connection declares the queues again and gets it back.
            log.warning("consumer %s: %s", consumer.name, error)
            with contextlib.suppress(Exception):
                await topology.queue.channel.close()
        except Exception as error:  # the channel went: the broker redelivers the message
            log.info(
                "consumer %s: message %s left to the broker (%s)",
                consumer.name,
                message.message_id,
                error,
            )
        finally:
            board.settled(outcome)
            self._tasks.discard(task)

    async def _drain(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        while self._tasks:
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning(
                    "consumer %s: %d handlers still running after %g s: their messages are "
                    "left to the broker",
                    self._consumer.name,
                    len(self._tasks),
                    grace,
                )
                return
            await asyncio.wait(list(self._tasks), timeout=left)

    async def _cancel_running(self) -> None:
        running = list(self._tasks)
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=1.0)
