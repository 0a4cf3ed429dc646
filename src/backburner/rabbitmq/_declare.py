"""What ``@app.consumer`` and ``app.publish`` build: checked options, then the consumer or
publisher itself (which needs aio-pika, imported here only when one is built)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from . import _driver
from ._body import Decoder, inferred_model
from ._options import DEFAULT_RETRY_DELAYS, ConsumerOptions

if TYPE_CHECKING:
    from ._consumer import Consumer, Store
    from ._publisher import Publisher


def build_consumer(
    name: str,
    queue: str,
    url: str,
    *,
    handler: Callable[..., Any] | None = None,
    store: Store | None = None,
    model: Any = None,
    prefetch: int = 1,
    max_deliveries: int = 5,
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    timeout: float | None = None,
    quorum: bool = False,
    dead_letter_queue: str | None = None,
) -> Consumer:
    """A consumer of ``queue``, for ``handler`` or storing each message with ``store``."""
    _driver.require()
    from ._consumer import Consumer

    if isinstance(retry_delays, str | bytes) or not isinstance(retry_delays, Sequence):
        raise ValueError(f"consumer {queue}: retry_delays is a list of seconds")
    options = ConsumerOptions(
        queue,
        url,
        prefetch=prefetch,
        max_deliveries=max_deliveries,
        retry_delays=tuple(retry_delays),
        timeout=timeout,
        quorum=quorum,
        dead_letter_queue=dead_letter_queue or "",
    )
    if model is None:
        model = inferred_model(handler) if handler is not None else Any
    return Consumer(name, options, Decoder(model), handler=handler, store=store)


class Publishers:
    """One ``Publisher`` per broker URL, made on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_url: dict[str, Publisher] = {}

    def get(self, url: str) -> Publisher:
        _driver.require()
        from ._publisher import Publisher

        with self._lock:
            found = self._by_url.get(url)
            if found is None:
                found = self._by_url[url] = Publisher(url)
            return found

    def all(self) -> list[Publisher]:
        with self._lock:
            return list(self._by_url.values())
