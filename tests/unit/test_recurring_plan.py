from __future__ import annotations

import datetime as dt

from backburner._cron import parse_cron, resolve_timezone
from backburner._recurring import MAX_CATCH_UP, plan_runs

UTC = dt.UTC
HOURLY = parse_cron("0 * * * *")


def t(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, 1, hour, minute, tzinfo=UTC)


def test_on_time_run_is_enqueued_once_and_next_is_after_now() -> None:
    assert plan_runs(HOURLY, UTC, t(6), t(6, 0), "relaxed") == ([t(6)], t(7))
    assert plan_runs(HOURLY, UTC, t(6), t(6, 0), "strict") == ([t(6)], t(7))
    assert plan_runs(HOURLY, UTC, t(6), t(6, 0), "ignore") == ([t(6)], t(7))


def test_relaxed_runs_once_for_many_missed_instants() -> None:
    assert plan_runs(HOURLY, UTC, t(2), t(6, 30), "relaxed") == ([t(2)], t(7))


def test_strict_runs_each_missed_instant() -> None:
    runs, following = plan_runs(HOURLY, UTC, t(2), t(6, 30), "strict")
    assert runs == [t(2), t(3), t(4), t(5), t(6)]
    assert following == t(7)


def test_strict_is_capped() -> None:
    every_second = parse_cron("* * * * * *")
    runs, following = plan_runs(every_second, UTC, t(0), t(5), "strict")
    assert len(runs) == MAX_CATCH_UP
    assert runs[0] == t(0)
    assert following == t(5) + dt.timedelta(seconds=1)


def test_ignore_skips_runs_found_too_late() -> None:
    assert plan_runs(HOURLY, UTC, t(2), t(6, 30), "ignore") == ([], t(7))
    late_a_little = t(6) + dt.timedelta(seconds=30)
    assert plan_runs(HOURLY, UTC, t(6), late_a_little, "ignore") == ([t(6)], t(7))


def test_next_run_follows_the_time_zone() -> None:
    madrid = resolve_timezone("Europe/Madrid")
    daily = parse_cron("0 6 * * *")
    _, following = plan_runs(daily, madrid, t(5), t(5, 1), "relaxed")
    assert following == dt.datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 06:00 in Madrid (UTC+1)
