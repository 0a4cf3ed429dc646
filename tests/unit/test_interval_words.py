"""A periodic function's interval in words, as the Servers page shows it."""

from __future__ import annotations

import pytest

from backburner.server._periodic import interval_words


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.05, "every 0.05 s"),
        (45, "every 45 s"),
        (60, "every minute"),
        (90, "every 90 s"),
        (1800, "every 30 minutes"),
        (3600, "every hour"),
        (7200, "every 2 hours"),
        (5400, "every 90 minutes"),
        (86_400, "every day"),
        (172_800, "every 2 days"),
    ],
)
def test_an_interval_reads_as_people_say_it(seconds: float, words: str) -> None:
    assert interval_words(seconds) == words
