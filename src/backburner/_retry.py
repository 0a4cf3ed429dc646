"""Retry policy: how many times a failed job runs again, and after how long (pure)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_DELAY = 366 * 24 * 3600.0
"""The longest wait a policy may give before a retry (seconds): a little over a year.
Beyond it a retry time stops being a plain date, and ``inf`` would never come due."""

# 15 s * 2**22 is past MAX_DELAY already: a larger exponent only risks an overflow.
_MAX_EXPONENT = 22


def _seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"Retry({what}=...) takes seconds as numbers, not {value!r}")
    seconds = float(value)
    if seconds < 0:
        raise ValueError(f"Retry({what}=...) must not be negative, not {value!r}")
    if not (math.isfinite(seconds) and seconds <= MAX_DELAY):
        raise ValueError(
            f"Retry({what}=...) must be finite and at most {MAX_DELAY:.0f} seconds "
            f"(a little over a year), not {value!r}"
        )
    return seconds


@dataclass(frozen=True)
class Retry:
    """How a failing job is retried.

    ``attempts`` is the number of retries after the first failure, so a job runs at most
    ``attempts + 1`` times. ``delays`` (seconds) gives the wait before each retry; the last
    one repeats when the list runs out. Without delays the wait grows exponentially with
    jitter: about 15 s, 30 s, 1 min, 2 min ... capped at ``max_delay`` (one hour). Every
    delay is a finite number of seconds between 0 and ``MAX_DELAY`` (a little over a year).
    ``on`` limits retries to the given exception types; any other exception fails the job
    at once.

    >>> Retry(attempts=3, delays=[60, 300, 900]).delay(retry_number=2)
    300.0
    """

    attempts: int = 10
    delays: Sequence[float] = ()
    on: tuple[type[BaseException], ...] = field(default=(Exception,))
    max_delay: float = 3600.0

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise TypeError(f"Retry(attempts=...) takes a whole number, not {self.attempts!r}")
        if self.attempts < 0:
            raise ValueError(f"Retry(attempts=...) must be 0 or more, not {self.attempts}")
        if isinstance(self.delays, str | bytes) or not isinstance(self.delays, Sequence):
            raise TypeError(f"Retry(delays=...) takes a list of seconds, not {self.delays!r}")
        # Kept as a tuple: a list changed after this check would skip it.
        object.__setattr__(self, "delays", tuple(_seconds(d, "delays") for d in self.delays))
        object.__setattr__(self, "max_delay", _seconds(self.max_delay, "max_delay"))
        if isinstance(self.on, type):
            object.__setattr__(self, "on", (self.on,))
        if not isinstance(self.on, tuple) or not all(
            isinstance(kind, type) and issubclass(kind, BaseException) for kind in self.on
        ):
            raise TypeError(f"Retry(on=...) takes exception types, not {self.on!r}")

    def should_retry(self, error: BaseException, retries_done: int) -> bool:
        """Whether a job that failed with ``error`` after ``retries_done`` retries runs again."""
        return retries_done < self.attempts and isinstance(error, self.on)

    def delay(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry_number`` (1 for the first retry)."""
        if retry_number < 1:
            raise ValueError("retry_number starts at 1")
        if self.delays:
            return float(self.delays[min(retry_number, len(self.delays)) - 1])
        base = min(self.max_delay, 15.0 * 2.0 ** min(retry_number - 1, _MAX_EXPONENT))
        spread = base * 0.25
        jitter = rng.uniform(0.0, spread) if rng else random.uniform(0.0, spread)
        return min(self.max_delay, base + jitter)


DEFAULT_RETRY = Retry()
