"""What a consumer is told: its queue, broker, concurrency and retry rules (pure).

The names of the queues around a consumer's own are worked out here too: the
dead-letter exchange and queue ``<queue>.dead``, and one retry queue per delay,
``<queue>.retry.<delay>s``, whose messages wait out their time to live and then fall
back into ``<queue>``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

DEFAULT_RETRY_DELAYS = (1.0, 10.0, 60.0)
"""Seconds before the second, third and later deliveries of a failed message."""

HEADER_PREFIX = "x-backburner-"
DELIVERIES = "x-backburner-deliveries"
"""How many times a message has been handed to a handler, carried in the message."""
ERROR = "x-backburner-error"
ERROR_TYPE = "x-backburner-error-type"
REASON = "x-backburner-reason"
FAILED_AT = "x-backburner-failed-at"
ORIGIN = "x-backburner-queue"
"""The queue a dead-lettered message came from, where ``dead requeue`` sends it back."""

REASON_FAILED = "failed"
REASON_UNDECODABLE = "undecodable"


def _seconds(value: object, what: str, queue: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"consumer {queue}: {what} must be a number of seconds, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"consumer {queue}: {what} must be finite and 0 or more, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class ConsumerOptions:
    """How one consumer reads its queue.

    ``prefetch``: messages handled at once (the broker sends no more unacknowledged
    ones). ``max_deliveries``: deliveries of a failing message before it is
    dead-lettered. ``retry_delays``: seconds to wait before each redelivery (the last
    one repeats). ``timeout``: seconds a handler may take, else that delivery fails.
    ``quorum``: declare a quorum queue, whose broker-side delivery limit also ends a
    message that keeps killing its consumer.
    """

    queue: str
    url: str
    prefetch: int = 1
    max_deliveries: int = 5
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    timeout: float | None = None
    quorum: bool = False
    dead_letter_queue: str = ""
    reconnect_delay: float = 0.5
    max_reconnect_delay: float = 30.0
    retry_queues: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        queue = self.queue
        if not isinstance(queue, str) or not queue or len(queue.encode()) > 200:
            raise ValueError(f"a consumer's queue is a name of 1 to 200 bytes, not {queue!r}")
        if queue.startswith("amq."):
            raise ValueError(f"consumer {queue}: names starting amq. are the broker's own")
        if not isinstance(self.prefetch, int) or isinstance(self.prefetch, bool):
            raise ValueError(f"consumer {queue}: prefetch must be an integer")
        if not 1 <= self.prefetch <= 65535:
            raise ValueError(f"consumer {queue}: prefetch must be 1 to 65535, not {self.prefetch}")
        if (
            not isinstance(self.max_deliveries, int)
            or isinstance(self.max_deliveries, bool)
            or self.max_deliveries < 1
        ):
            raise ValueError(
                f"consumer {queue}: max_deliveries must be 1 or more, not {self.max_deliveries!r}"
            )
        delays = tuple(_seconds(d, "each retry delay", queue) for d in self.retry_delays)
        if not delays and self.max_deliveries > 1:
            raise ValueError(f"consumer {queue}: retry_delays is empty but max_deliveries > 1")
        object.__setattr__(self, "retry_delays", delays)
        if self.timeout is not None and _seconds(self.timeout, "timeout", queue) == 0:
            raise ValueError(f"consumer {queue}: timeout must be more than 0 seconds, or None")
        if not self.dead_letter_queue:
            object.__setattr__(self, "dead_letter_queue", f"{queue}.dead")
        names = tuple(dict.fromkeys(self.retry_queue(d) for d in self.delays_used() if d > 0))
        object.__setattr__(self, "retry_queues", names)

    def delays_used(self) -> Sequence[float]:
        """The delays a message can meet before its last delivery."""
        return [self.delay_before(n) for n in range(2, self.max_deliveries + 1)]

    def delay_before(self, delivery: int) -> float:
        """Seconds to wait before delivery number ``delivery`` (2 or more)."""
        return self.retry_delays[min(delivery - 2, len(self.retry_delays) - 1)]

    def retry_queue(self, delay: float) -> str:
        """The queue where a message waits ``delay`` seconds before coming back."""
        return f"{self.queue}.retry.{delay:g}s"

    @property
    def dead_letter_exchange(self) -> str:
        return self.dead_letter_queue


def deliveries_of(headers: Mapping[str, object] | None) -> int:
    """How many deliveries a message has had before this one, from its headers."""
    value = (headers or {}).get(DELIVERIES, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value
