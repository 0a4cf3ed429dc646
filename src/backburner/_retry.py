"""Retry policy: how many times a failed job runs again, and after how long (pure)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Retry:
    """How a failing job is retried.

    ``attempts`` is the number of retries after the first failure, so a job runs at most
    ``attempts + 1`` times. ``delays`` (seconds) gives the wait before each retry; the last
    one repeats when the list runs out. Without delays the wait grows exponentially with
    jitter: about 15 s, 30 s, 1 min, 2 min ... capped at one hour. ``on`` limits retries to
    the given exception types; any other exception fails the job at once.

    >>> Retry(attempts=3, delays=[60, 300, 900]).delay(retry_number=2)
    300.0
    """

    attempts: int = 10
    delays: Sequence[float] = ()
    on: tuple[type[BaseException], ...] = field(default=(Exception,))
    max_delay: float = 3600.0

    def __post_init__(self) -> None:
        if self.attempts < 0:
            raise ValueError(f"Retry(attempts=...) must be 0 or more, not {self.attempts}")
        if any(d < 0 for d in self.delays):
            raise ValueError("Retry(delays=...) must not hold negative delays")
        if isinstance(self.on, type):
            object.__setattr__(self, "on", (self.on,))

    def should_retry(self, error: BaseException, retries_done: int) -> bool:
        """Whether a job that failed with ``error`` after ``retries_done`` retries runs again."""
        return retries_done < self.attempts and isinstance(error, self.on)

    def delay(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry_number`` (1 for the first retry)."""
        if retry_number < 1:
            raise ValueError("retry_number starts at 1")
        if self.delays:
            return float(self.delays[min(retry_number, len(self.delays)) - 1])
        base = min(self.max_delay, 15.0 * 2.0 ** (retry_number - 1))
        spread = base * 0.25
        jitter = rng.uniform(0.0, spread) if rng else random.uniform(0.0, spread)
        return min(self.max_delay, base + jitter)


DEFAULT_RETRY = Retry()
