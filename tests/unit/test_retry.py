from __future__ import annotations

import itertools
import random

import pytest

from backburner import Retry


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
