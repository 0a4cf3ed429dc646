from __future__ import annotations

import itertools
import math
import random

import pytest

from backburner import Retry
from backburner._retry import MAX_DELAY


def test_explicit_delays_repeat_the_last_one() -> None:
    retry = Retry(attempts=5, delays=[60, 300, 900])
    assert [retry.delay(n) for n in range(1, 6)] == [60, 300, 900, 900, 900]


def test_attempts_count_retries_after_the_first_failure() -> None:
    retry = Retry(attempts=3)
    assert [retry.should_retry(ValueError(), done) for done in range(5)] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_zero_attempts_fails_at_once() -> None:
    assert not Retry(attempts=0).should_retry(ValueError(), 0)


def test_retry_only_on_given_exception_types() -> None:
    retry = Retry(attempts=3, on=(ConnectionError, TimeoutError))
    assert retry.should_retry(ConnectionRefusedError(), 0)
    assert not retry.should_retry(ValueError(), 0)
    assert Retry(on=KeyError).should_retry(KeyError(), 0)  # type: ignore[arg-type]


def test_default_backoff_grows_with_jitter_and_is_capped() -> None:
    retry = Retry()
    rng = random.Random(7)
    delays = [retry.delay(n, rng) for n in range(1, 11)]
    assert 15 <= delays[0] <= 15 * 1.25
    assert 30 <= delays[1] <= 30 * 1.25
    assert all(later >= earlier * 0.9 for earlier, later in itertools.pairwise(delays))
    assert max(delays) <= 3600
    assert retry.attempts == 10


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="attempts"):
        Retry(attempts=-1)
    with pytest.raises(ValueError, match="negative"):
        Retry(delays=[-5])
    with pytest.raises(ValueError, match="starts at 1"):
        Retry().delay(0)


@pytest.mark.parametrize("delay", [math.inf, math.nan, 1e12, -math.inf])
def test_delays_that_could_never_be_scheduled_are_refused(delay: float) -> None:
    with pytest.raises(ValueError, match="delays"):
        Retry(attempts=3, delays=[delay])
    with pytest.raises(ValueError, match="max_delay"):
        Retry(max_delay=delay)


def test_delays_and_attempts_must_be_numbers() -> None:
    with pytest.raises(TypeError, match="delays"):
        Retry(delays=["60"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="delays"):
        Retry(delays=60)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="attempts"):
        Retry(attempts=2.5)  # type: ignore[arg-type]
    assert Retry(delays=[MAX_DELAY]).delay(1) == MAX_DELAY


def test_backoff_does_not_overflow_for_any_retry_number() -> None:
    retry = Retry(attempts=5000, max_delay=MAX_DELAY)
    rng = random.Random(1)
    assert retry.delay(1025, rng) == retry.delay(4999, rng) == MAX_DELAY
    assert Retry(attempts=5000).delay(1500) == 3600.0


def test_on_takes_exception_types() -> None:
    with pytest.raises(TypeError, match="on="):
        Retry(on=("ConnectionError",))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="on="):
        Retry(on=(int,))  # type: ignore[arg-type]
