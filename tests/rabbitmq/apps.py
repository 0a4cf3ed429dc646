"""Running an app's server with its consumers connected, and reading their status."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from backburner import Backburner
from backburner.rabbitmq import ConsumerStatus
from backburner.server.server import Server
from tests.support import wait_reading, wait_until


def status(app: Backburner, queue: str) -> ConsumerStatus:
    [found] = [s for s in app.consumer_statuses() if s.queue == queue]
    return found


@contextlib.contextmanager
def serving(app: Backburner, shutdown_timeout: float | None = None) -> Iterator[Server]:
    """A server of ``app``, once every consumer of it is connected."""
    with app.start_server(shutdown_timeout=shutdown_timeout) as server:
        wait_until(
            lambda: all(s.connected for s in app.consumer_statuses()),
            15,
            "the consumers to connect",
        )
        yield server


def wait_status(
    app: Backburner, queue: str, check: Callable[[ConsumerStatus], bool], timeout: float = 15
) -> ConsumerStatus:
    return wait_reading(lambda: status(app, queue), check, timeout, "the consumer", 0.02)
