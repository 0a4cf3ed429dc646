"""Cron parsing, next fire times across daylight saving, descriptions and builders."""

from __future__ import annotations

import calendar
import doctest
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backburner import _cron, _cron_describe
from backburner._cron import Cron, CronSchedule, describe, parse_cron, resolve_timezone

MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def at(
    tz: ZoneInfo,
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    """An instant given as wall time in ``tz``, in UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=tz, fold=fold).astimezone(UTC)


def fires(expression: str, after: datetime, tz: tzinfo, count: int) -> list[datetime]:
    schedule = parse_cron(expression)
    found: list[datetime] = []
    moment = after
    for _ in range(count):
        nxt = schedule.next_after(moment, tz)
        assert nxt is not None
        found.append(nxt)
        moment = nxt
    return found


def local(moments: list[datetime], tz: tzinfo) -> list[str]:
    return [m.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S%z") for m in moments]


# --- formats ---------------------------------------------------------------------------


def test_five_fields_fire_on_the_minute() -> None:
    moments = fires("*/15 * * * *", datetime(2024, 5, 1, 10, 7, 30, tzinfo=UTC), UTC, 3)
    assert local(moments, UTC) == [
        "2024-05-01 10:15:00+0000",
        "2024-05-01 10:30:00+0000",
        "2024-05-01 10:45:00+0000",
    ]


def test_six_fields_put_seconds_first() -> None:
    moments = fires("*/20 30 9 * * *", datetime(2024, 5, 1, 9, 30, 5, tzinfo=UTC), UTC, 3)
    assert local(moments, UTC) == [
        "2024-05-01 09:30:20+0000",
        "2024-05-01 09:30:40+0000",
        "2024-05-02 09:30:00+0000",
    ]
    assert parse_cron("*/20 30 9 * * *").has_seconds
    assert not parse_cron("30 9 * * *").has_seconds


def test_quartz_daily_at_two() -> None:
    moments = fires("0 0 2 * * ?", datetime(2024, 5, 1, 2, 0, tzinfo=UTC), UTC, 2)
    assert local(moments, UTC) == ["2024-05-02 02:00:00+0000", "2024-05-03 02:00:00+0000"]


def test_year_field_limits_the_years() -> None:
    schedule = parse_cron("0 0 12 1 1 ? 2030,2032")
    first = schedule.next_after(datetime(2024, 5, 1, tzinfo=UTC), UTC)
    assert first == datetime(2030, 1, 1, 12, tzinfo=UTC)
    second = schedule.next_after(first, UTC)
    assert second == datetime(2032, 1, 1, 12, tzinfo=UTC)
    assert schedule.next_after(second, UTC) is None


@pytest.mark.parametrize(
    ("alias", "equivalent"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@DAILY", "0 0 * * *"),
    ],
)
def test_aliases(alias: str, equivalent: str) -> None:
    start = datetime(2024, 2, 14, 13, 27, tzinfo=UTC)
    assert fires(alias, start, MADRID, 4) == fires(equivalent, start, MADRID, 4)
    assert parse_cron(alias).canonical == equivalent


@pytest.mark.parametrize(
    ("expression", "weekday"),
    [
        ("0 12 * * 2", "Tue"),  # unix: 2 = TUE
        ("0 0 12 * * 2", "Tue"),  # 6 fields without '?' stay unix
        ("0 0 12 ? * 2", "Mon"),  # Quartz: 1 = SUN, so 2 = MON
        ("0 0 12 ? * 7", "Sat"),
        ("0 12 * * 7", "Sun"),
        ("0 12 * * 0", "Sun"),
        ("0 12 * * MON", "Mon"),
        ("0 0 12 ? * MON", "Mon"),
        ("0 0 12 ? * mon 2030", "Mon"),
    ],
)
def test_day_of_week_numbering(expression: str, weekday: str) -> None:
    moments = fires(expression, datetime(2024, 5, 1, tzinfo=UTC), UTC, 3)
    assert {m.strftime("%a") for m in moments} == {weekday}


def test_names_for_months_and_days() -> None:
    moments = fires("0 9 * JAN,jul MON-FRI", datetime(2024, 6, 28, tzinfo=UTC), UTC, 2)
    assert local(moments, UTC) == ["2024-07-01 09:00:00+0000", "2024-07-02 09:00:00+0000"]


def test_day_of_month_or_day_of_week_when_both_restricted() -> None:
    moments = fires("0 0 13 * FRI", datetime(2024, 9, 1, tzinfo=UTC), UTC, 4)
    assert [m.date().isoformat() for m in moments] == [
        "2024-09-06",
        "2024-09-13",
        "2024-09-20",
        "2024-09-27",
    ]


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 0 L * *", date(2024, 2, 1), ["2024-02-29", "2024-03-31", "2024-04-30"]),
        ("0 0 LW * *", date(2024, 8, 1), ["2024-08-30", "2024-09-30", "2024-10-31"]),
        ("0 0 15W * *", date(2024, 6, 1), ["2024-06-14", "2024-07-15", "2024-08-15"]),
        ("0 0 1W * *", date(2024, 5, 31), ["2024-06-03", "2024-07-01", "2024-08-01"]),
        ("0 0 * * 5#3", date(2024, 1, 1), ["2024-01-19", "2024-02-16", "2024-03-15"]),
        ("0 0 0 ? * 6#3", date(2024, 1, 1), ["2024-01-19", "2024-02-16", "2024-03-15"]),
        ("0 0 * * FRIL", date(2024, 1, 1), ["2024-01-26", "2024-02-23", "2024-03-29"]),
        ("0 0 * * FRI-MON", date(2024, 5, 1), ["2024-05-03", "2024-05-04", "2024-05-05"]),
        ("0 0 * * 6-1/2", date(2024, 5, 1), ["2024-05-04", "2024-05-06", "2024-05-11"]),
        ("0 0 1 NOV-FEB *", date(2024, 5, 1), ["2024-11-01", "2024-12-01", "2025-01-01"]),
        ("0 0 1 10-3/5 *", date(2024, 5, 1), ["2024-10-01", "2025-03-01", "2025-10-01"]),
        ("0 0 5-5 * *", date(2024, 5, 1), ["2024-05-05", "2024-06-05", "2024-07-05"]),
        ("0 0 29 2 *", date(2024, 3, 1), ["2028-02-29", "2032-02-29", "2036-02-29"]),
        ("0 0 * * 5-7", date(2024, 5, 1), ["2024-05-03", "2024-05-04", "2024-05-05"]),
    ],
)
def test_day_rules(expression: str, after: date, expected: list[str]) -> None:
    start = datetime(after.year, after.month, after.day, tzinfo=UTC)
    moments = fires(expression, start, UTC, len(expected))
    assert [m.date().isoformat() for m in moments] == expected


def test_next_after_is_strict_and_returns_utc() -> None:
    schedule = parse_cron("30 9 * * *")
    exact = at(MADRID, 2024, 5, 1, 9, 30)
    nxt = schedule.next_after(exact, MADRID)
    assert nxt == at(MADRID, 2024, 5, 2, 9, 30)
    assert nxt is not None
    assert nxt.tzinfo is UTC
    assert schedule.next_after(exact - timedelta(microseconds=1), MADRID) == exact


def test_next_after_accepts_any_aware_datetime() -> None:
    after = datetime(2024, 5, 1, 9, 0, tzinfo=MADRID)  # not UTC on purpose
    assert parse_cron("30 9 * * *").next_after(after, MADRID) == at(MADRID, 2024, 5, 1, 9, 30)


def test_next_after_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_cron("* * * * *").next_after(datetime(2024, 1, 1), UTC)


def test_schedule_is_frozen_and_printable() -> None:
    schedule = parse_cron(" 0 3 * * SUN ")
    assert isinstance(schedule, CronSchedule)
    assert str(schedule) == "0 3 * * SUN"
    assert schedule.canonical == "0 3 * * 0"
    assert schedule == parse_cron("0 3 * * SUN")
    with pytest.raises(AttributeError):
        schedule.expression = "x"  # type: ignore[misc]


def test_every_hour_selects_interval_style() -> None:
    assert parse_cron("*/15 * * * *").every_hour
    assert parse_cron("0 0-23 * * *").every_hour
    assert not parse_cron("0 */2 * * *").every_hour
    assert not parse_cron("0 0 2 * * ?").every_hour


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("61 0 * * *", "invalid cron '61 0 * * *': minute field '61' is out of range 0-59"),
        ("0 61 * * *", "invalid cron '0 61 * * *': hour field '61' is out of range 0-23"),
        ("0 0,61 * * *", "hour field '0,61': '61' is out of range 0-23"),
        ("50-70 * * * *", "minute field '50-70': '70' is out of range 0-59"),
        ("60 * * * * *", "second field '60' is out of range 0-59"),
        ("0 0 0 * * * 1969", "year field '1969' is out of range 1970-2099"),
        ("0 0 32 * *", "day-of-month field '32' is out of range 1-31"),
        ("0 0 0 * *", "day-of-month field '0' is out of range 1-31"),
        ("0 0 * 13 *", "month field '13' is out of range 1-12"),
        ("0 0 * JANX *", "month field 'JANX' is not a number or a month name (JAN-DEC)"),
        ("0 0 * * 8", "day-of-week field '8' is out of range 0-7 (0 and 7 = SUN)"),
        ("0 0 0 ? * 0", "day-of-week field '0' is out of range 1-7 (Quartz numbering"),
        ("0 0 * * FUN", "day-of-week field 'FUN' is not a number or a day name (SUN-SAT)"),
        ("x * * * *", "minute field 'x' is not a number"),
        ("-5 * * * *", "minute field '-5' is not valid: negative numbers"),
        ("*/0 * * * *", "minute field '*/0' has step 0, which must be 1-60"),
        ("*/x * * * *", "minute field '*/x' has step 'x', which is not a whole number"),
        ("5-1 * * * *", "minute field '5-1' runs backwards; write the smaller value first (1-5)"),
        ("0 0 1,,2 * *", "day-of-month field '1,,2' has an empty list item"),
        ("? * * * *", "minute field '?' is only allowed in day-of-month or day-of-week"),
        ("0 0 1,? * *", "day-of-month field '1,?': '?' is not allowed"),
        ("*-5 * * * *", "'*' must stand alone or be followed by /step"),
        ("0 0 ? * L", "day-of-week field 'L' is ambiguous"),
        ("0 0 * * 5#6", "day-of-week field '5#6' must end in #1 to #5"),
        ("0 0 32W * *", "day-of-month field '32W': '32' is out of range 1-31"),
        ("0 0 30 2 *", "invalid cron '0 0 30 2 *': it never fires"),
        ("0 0 31 4,6,9,11 *", "it never fires"),
        ("@reboot", "invalid cron '@reboot': unknown alias; the aliases are @yearly"),
    ],
)
def test_invalid_expressions_name_the_field(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid cron ") as info:
        parse_cron(expression)
    assert message in str(info.value)


@pytest.mark.parametrize(("expression", "count"), [("", 0), ("* *", 2), ("* * * * * * * *", 8)])
def test_wrong_field_count(expression: str, count: int) -> None:
    with pytest.raises(ValueError, match=r"^invalid cron ") as info:
        parse_cron(expression)
    text = str(info.value)
    assert f"found {count} fields" in text
    assert "5 fields (minute hour day-of-month month day-of-week)" in text
    assert "6 fields (second minute" in text
    assert "7 fields" in text
    assert "@daily" in text


def test_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_cron(5)  # type: ignore[arg-type]


# --- daylight saving -------------------------------------------------------------------
# Madrid: 2024-03-31 02:00 -> 03:00 and 2024-10-27 03:00 -> 02:00.
# New York: 2024-03-10 02:00 -> 03:00 and 2024-11-03 02:00 -> 01:00.
# Lord Howe: 2024-10-06 02:00 -> 02:30 and 2024-04-07 02:00 -> 01:30.


def test_madrid_spring_gap_fires_once_at_three() -> None:
    moments = fires("30 2 * * *", at(MADRID, 2024, 3, 30, 12, 0), MADRID, 2)
    assert local(moments, MADRID) == ["2024-03-31 03:00:00+0200", "2024-04-01 02:30:00+0200"]


def test_several_matches_in_one_gap_fire_once() -> None:
    moments = fires("*/15 2 * * *", at(MADRID, 2024, 3, 30, 12, 0), MADRID, 2)
    assert local(moments, MADRID) == ["2024-03-31 03:00:00+0200", "2024-04-01 02:00:00+0200"]


def test_gap_match_and_matching_gap_end_are_one_run() -> None:
    moments = fires("0 2,3 * * *", at(MADRID, 2024, 3, 30, 12, 0), MADRID, 2)
    assert local(moments, MADRID) == ["2024-03-31 03:00:00+0200", "2024-04-01 02:00:00+0200"]


def test_madrid_autumn_repeat_fires_once() -> None:
    moments = fires("30 2 * * *", at(MADRID, 2024, 10, 26, 12, 0), MADRID, 2)
    assert local(moments, MADRID) == ["2024-10-27 02:30:00+0200", "2024-10-28 02:30:00+0100"]


def test_fixed_hour_after_the_first_pass_skips_the_second() -> None:
    after = at(MADRID, 2024, 10, 27, 2, 10, fold=1)  # second pass, 02:10 CET
    nxt = parse_cron("*/30 2 * * *").next_after(after, MADRID)
    assert nxt is not None
    assert local([nxt], MADRID) == ["2024-10-28 02:00:00+0100"]


def test_interval_fires_on_both_passes_of_the_repeat() -> None:
    moments = fires("*/30 * * * *", at(MADRID, 2024, 10, 27, 1, 50), MADRID, 6)
    assert local(moments, MADRID) == [
        "2024-10-27 02:00:00+0200",
        "2024-10-27 02:30:00+0200",
        "2024-10-27 02:00:00+0100",
        "2024-10-27 02:30:00+0100",
        "2024-10-27 03:00:00+0100",
        "2024-10-27 03:30:00+0100",
    ]
    assert all(b - a == timedelta(minutes=30) for a, b in itertools.pairwise(moments))


def test_interval_skips_wall_times_inside_the_gap() -> None:
    moments = fires("30 * * * *", at(MADRID, 2024, 3, 31, 1, 0), MADRID, 3)
    assert local(moments, MADRID) == [
        "2024-03-31 01:30:00+0100",
        "2024-03-31 03:30:00+0200",
        "2024-03-31 04:30:00+0200",
    ]


def test_new_york_spring_gap() -> None:
    moments = fires("30 2 * * *", at(NEW_YORK, 2024, 3, 9, 12, 0), NEW_YORK, 3)
    assert local(moments, NEW_YORK) == [
        "2024-03-10 03:00:00-0400",
        "2024-03-11 02:30:00-0400",
        "2024-03-12 02:30:00-0400",
    ]


def test_new_york_autumn_repeat() -> None:
    moments = fires("*/20 1 * * *", at(NEW_YORK, 2024, 11, 3, 0, 50), NEW_YORK, 4)
    assert local(moments, NEW_YORK) == [
        "2024-11-03 01:00:00-0400",
        "2024-11-03 01:20:00-0400",
        "2024-11-03 01:40:00-0400",
        "2024-11-04 01:00:00-0500",
    ]


def test_new_york_interval_during_the_repeat() -> None:
    moments = fires("0 * * * *", at(NEW_YORK, 2024, 11, 3, 0, 30), NEW_YORK, 3)
    assert local(moments, NEW_YORK) == [
        "2024-11-03 01:00:00-0400",
        "2024-11-03 01:00:00-0500",
        "2024-11-03 02:00:00-0500",
    ]


def test_lord_howe_half_hour_changes() -> None:
    spring = fires("15 2 * * *", at(LORD_HOWE, 2024, 10, 5, 12, 0), LORD_HOWE, 2)
    assert local(spring, LORD_HOWE) == ["2024-10-06 02:30:00+1100", "2024-10-07 02:15:00+1100"]
    autumn = fires("45 1 * * *", at(LORD_HOWE, 2024, 4, 6, 12, 0), LORD_HOWE, 2)
    assert local(autumn, LORD_HOWE) == ["2024-04-07 01:45:00+1100", "2024-04-08 01:45:00+1030"]


def test_seconds_in_the_gap() -> None:
    moments = fires("*/20 59 1,2 * * *", at(MADRID, 2024, 3, 31, 1, 59, 30), MADRID, 3)
    assert local(moments, MADRID) == [
        "2024-03-31 01:59:40+0100",
        "2024-03-31 03:00:00+0200",
        "2024-04-01 01:59:00+0200",
    ]


def test_far_future_crosses_changes_correctly() -> None:
    after = at(MADRID, 2024, 1, 15, 12, 0)
    assert parse_cron("0 9 1 7 *").next_after(after, MADRID) == at(MADRID, 2024, 7, 1, 9, 0)


# --- time zones, descriptions, builders -------------------------------------------------


def test_resolve_timezone() -> None:
    assert resolve_timezone(None) == ZoneInfo("UTC")
    assert resolve_timezone("Europe/Madrid") is MADRID


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../../etc/passwd", "/etc/localtime"])
def test_resolve_timezone_rejects_unknown_names(name: str) -> None:
    with pytest.raises(ValueError, match=r"^unknown time zone ") as info:
        resolve_timezone(name)
    assert str(info.value) == f"unknown time zone {name!r}"


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        ("0 6 * * *", "At 06:00"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("0 3 * * 0", "At 03:00, only on Sunday"),
        ("0 3 * * SUN", "At 03:00, only on Sunday"),
        ("0 0 3 ? * 1", "At 03:00, only on Sunday"),
        ("0 0 2 * * ?", "At 02:00"),
        ("*/20 * * * * *", "Every 20 seconds"),
        ("@daily", "At 00:00"),
        ("0 9 * * MON-FRI", "At 09:00, Monday through Friday"),
        ("0 0 2 * * ? 2030", "At 02:00, only in 2030"),
        ("30 2 L * *", "At 02:30, on the last day of the month"),
    ],
)
def test_describe(expression: str, text: str) -> None:
    assert describe(expression) == text
    assert parse_cron(expression).describe() == text


def test_describe_rejects_invalid_expressions() -> None:
    with pytest.raises(ValueError, match="minute field"):
        describe("61 * * * *")


def test_describe_falls_back_to_the_expression() -> None:
    assert _cron_describe.describe_canonical("not a cron") == "Cron: not a cron"


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (Cron.minutely(), "* * * * *"),
        (Cron.hourly(), "0 * * * *"),
        (Cron.hourly(minute=45), "45 * * * *"),
        (Cron.daily(), "0 0 * * *"),
        (Cron.daily(hour=23, minute=59), "59 23 * * *"),
        (Cron.weekly(), "0 0 * * 0"),
        (Cron.weekly(day_of_week=6, hour=1, minute=2), "2 1 * * 6"),
        (Cron.monthly(), "0 0 1 * *"),
        (Cron.monthly(day=31, hour=4), "0 4 31 * *"),
        (Cron.yearly(), "0 0 1 1 *"),
        (Cron.yearly(month=2, day=29), "0 0 29 2 *"),
        (Cron.every(seconds=1), "* * * * * *"),
        (Cron.every(seconds=15), "*/15 * * * * *"),
        (Cron.every(minutes=1), "* * * * *"),
        (Cron.every(minutes=15), "*/15 * * * *"),
        (Cron.every(hours=1), "0 * * * *"),
        (Cron.every(hours=8), "0 */8 * * *"),
    ],
)
def test_builders(built: str, expected: str) -> None:
    assert built == expected
    parse_cron(built)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Cron.hourly(minute=60), "minute must be 0-59, not 60"),
        (lambda: Cron.daily(hour=24), "hour must be 0-23, not 24"),
        (lambda: Cron.daily(minute=-1), "minute must be 0-59, not -1"),
        (lambda: Cron.weekly(day_of_week=7), "day_of_week must be 0-6, not 7"),
        (lambda: Cron.monthly(day=0), "day must be 1-31, not 0"),
        (lambda: Cron.yearly(month=13), "month must be 1-12, not 13"),
        (lambda: Cron.yearly(month=2, day=30), "day must be 1-29, not 30"),
        (lambda: Cron.yearly(month=4, day=31), "day must be 1-30, not 31"),
        (lambda: Cron.every(), "exactly one of seconds=, minutes= or hours="),
        (lambda: Cron.every(seconds=5, minutes=1), "exactly one"),
        (lambda: Cron.every(minutes=7), "7 does not divide a hour evenly"),
        (lambda: Cron.every(seconds=45), "use one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30"),
        (lambda: Cron.every(hours=5), "use one of 1, 2, 3, 4, 6, 8, 12"),
        (lambda: Cron.every(seconds=60), "is a whole minute; use Cron.every(minutes=1)"),
        (lambda: Cron.every(hours=24), "use Cron.daily()"),
        (lambda: Cron.every(minutes=90), "minutes must be 1-60, not 90"),
        (lambda: Cron.every(minutes=0), "minutes must be 1-60, not 0"),
    ],
)
def test_builders_validate(build: Callable[[], str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


def test_builders_refuse_non_integers() -> None:
    with pytest.raises(TypeError):
        Cron.daily(hour=True)
    with pytest.raises(TypeError):
        Cron.every(minutes=1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("module", [_cron, _cron_describe])
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


# --- property: next_after against a brute-force walk -----------------------------------
# The reference knows nothing of the implementation: it gets value sets straight from the
# generator, walks real instants step by step, reads each one's wall clock and applies the
# daylight saving rules from the module docstring in their plainest form.

ALL_HOURS = frozenset(range(24))
DayTest = Callable[[date], bool]


@dataclass(frozen=True)
class Reference:
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    dom: DayTest | None  # None: unrestricted
    dow: frozenset[int] | None  # 0 = Sunday; None: unrestricted

    def matches(self, wall: datetime) -> bool:
        if not (
            wall.second in self.seconds
            and wall.minute in self.minutes
            and wall.hour in self.hours
            and wall.month in self.months
        ):
            return False
        day = wall.date()
        dom_ok = self.dom is not None and self.dom(day)
        dow_ok = self.dow is not None and (day.weekday() + 1) % 7 in self.dow
        if self.dom is not None and self.dow is not None:
            return dom_ok or dow_ok
        if self.dom is not None:
            return dom_ok
        if self.dow is not None:
            return dow_ok
        return True


def reference_fires(
    ref: Reference, tz: ZoneInfo, after: datetime, until: datetime, step: timedelta
) -> list[datetime]:
    """Every fire instant in (after, until], found by walking real instants."""
    fixed_hours = ref.hours != ALL_HOURS
    # Start early enough to have walked the first pass of any repeat ``after`` sits in.
    start = after - timedelta(hours=3)
    t = datetime.fromtimestamp(
        start.timestamp() // step.total_seconds() * step.total_seconds(), UTC
    )
    previous_wall = (t - step).astimezone(tz).replace(tzinfo=None)
    latest_wall = previous_wall
    found: list[datetime] = []
    while t <= until:
        wall = t.astimezone(tz).replace(tzinfo=None)
        fire = False
        if ref.matches(wall):
            seen_before = wall <= latest_wall
            fire = not (fixed_hours and seen_before)
        if fixed_hours and wall - previous_wall > step:
            skipped = previous_wall + step
            while skipped < wall and not fire:
                fire = ref.matches(skipped)
                skipped += step
        if fire and t > after:
            found.append(t)
        latest_wall = max(latest_wall, wall)
        previous_wall = wall
        t += step
    return found


ZONES = {
    "UTC": [datetime(2024, 3, 31, 1, tzinfo=UTC)],
    "Europe/Madrid": [datetime(2024, 3, 31, 1, tzinfo=UTC), datetime(2024, 10, 27, 1, tzinfo=UTC)],
    "America/New_York": [
        datetime(2024, 3, 10, 7, tzinfo=UTC),
        datetime(2024, 11, 3, 6, tzinfo=UTC),
    ],
    "Australia/Lord_Howe": [
        datetime(2024, 4, 6, 15, tzinfo=UTC),
        datetime(2024, 10, 5, 15, 30, tzinfo=UTC),
    ],
    "Asia/Kolkata": [datetime(2024, 3, 31, 1, tzinfo=UTC)],
}


def _days_from(*days: int) -> DayTest:
    return lambda d: d.day in days


def _last_day(d: date) -> bool:
    return d.day == calendar.monthrange(d.year, d.month)[1]


SIXTY = frozenset(range(60))
SECONDS = [
    ("0", frozenset({0})),
    ("*/20", frozenset({0, 20, 40})),
    ("30", frozenset({30})),
    ("15-17", frozenset({15, 16, 17})),
    ("*", SIXTY),
]
MINUTES = [
    ("*", SIXTY),
    ("0", frozenset({0})),
    ("30", frozenset({30})),
    ("*/15", frozenset({0, 15, 30, 45})),
    ("5,35", frozenset({5, 35})),
    ("10-20/5", frozenset({10, 15, 20})),
    ("45", frozenset({45})),
]
HOURS = [
    ("*", ALL_HOURS),
    ("1", frozenset({1})),
    ("2", frozenset({2})),
    ("3", frozenset({3})),
    ("1-3", frozenset({1, 2, 3})),
    ("0,2", frozenset({0, 2})),
    ("*/2", frozenset(range(0, 24, 2))),
    ("2-23", frozenset(range(2, 24))),
]
MONTHS = [
    ("*", frozenset(range(1, 13))),
    ("3,4,10,11", frozenset({3, 4, 10, 11})),
    ("MAR-APR", frozenset({3, 4})),
]
DAYS_OF_MONTH: list[tuple[str, DayTest | None]] = [
    ("*", None),
    ("1-15", _days_from(*range(1, 16))),
    ("*/2", _days_from(*range(1, 32, 2))),
    ("L", _last_day),
    ("3,6,27,31", _days_from(3, 6, 27, 31)),
]
UNIX_DAYS_OF_WEEK: list[tuple[str, frozenset[int] | None]] = [
    ("*", None),
    ("1-5", frozenset(range(1, 6))),
    ("SUN", frozenset({0})),
    ("7", frozenset({0})),
    ("FRI-MON", frozenset({5, 6, 0, 1})),
    ("0,6", frozenset({0, 6})),
]
QUARTZ_DAYS_OF_WEEK: list[tuple[str, frozenset[int] | None]] = [
    ("2-6", frozenset(range(1, 6))),
    ("1", frozenset({0})),
    ("1,7", frozenset({0, 6})),
    ("SAT-SUN", frozenset({6, 0})),
]


@st.composite
def cron_cases(draw: st.DrawFn, with_seconds: bool) -> tuple[str, Reference]:
    second_text, seconds = draw(st.sampled_from(SECONDS)) if with_seconds else ("0", {0})
    minute_text, minutes = draw(st.sampled_from(MINUTES))
    hour_text, hours = draw(st.sampled_from(HOURS))
    month_text, months = draw(st.sampled_from(MONTHS))
    dom_text, dom = draw(st.sampled_from(DAYS_OF_MONTH))
    style = draw(st.sampled_from(["unix", "quartz"])) if with_seconds else "unix"
    dow_text: str
    dow: frozenset[int] | None
    if style == "quartz" and dom is None:
        dom_text = "?"
        dow_text, dow = draw(st.sampled_from(QUARTZ_DAYS_OF_WEEK))
    elif style == "quartz":
        dow_text, dow = "?", None
    else:
        dow_text, dow = draw(st.sampled_from(UNIX_DAYS_OF_WEEK))
    fields = [minute_text, hour_text, dom_text, month_text, dow_text]
    if with_seconds:
        fields.insert(0, second_text)
        if draw(st.booleans()):
            fields.append("2024")
    reference = Reference(frozenset(seconds), minutes, hours, months, dom, dow)
    return " ".join(fields), reference


def _check_against_reference(
    expression: str,
    reference: Reference,
    zone: str,
    after: datetime,
    window: timedelta,
    step: timedelta,
) -> None:
    tz = ZoneInfo(zone)
    until = after + window
    expected = reference_fires(reference, tz, after, until, step)
    schedule = parse_cron(expression)
    actual: list[datetime] = []
    moment = after
    while True:
        nxt = schedule.next_after(moment, tz)
        if nxt is None or nxt > until:
            break
        actual.append(nxt)
        moment = nxt
    assert local(actual, tz) == local(expected, tz), expression


@settings(max_examples=400, deadline=None)
@given(
    case=cron_cases(with_seconds=False),
    zone=st.sampled_from(sorted(ZONES)),
    pick=st.integers(0, 1),
    shift=st.integers(-36 * 3600, 12 * 3600),
    on_minute=st.booleans(),
    micro=st.integers(0, 999_999),
)
def test_next_after_matches_minute_walk(
    case: tuple[str, Reference],
    zone: str,
    pick: int,
    shift: int,
    on_minute: bool,
    micro: int,
) -> None:
    expression, reference = case
    changes = ZONES[zone]
    after = changes[pick % len(changes)] + timedelta(seconds=shift)
    after = after.replace(second=0) if on_minute else after.replace(microsecond=micro)
    _check_against_reference(
        expression, reference, zone, after, timedelta(hours=60), timedelta(minutes=1)
    )


@settings(max_examples=120, deadline=None)
@given(
    case=cron_cases(with_seconds=True),
    zone=st.sampled_from(sorted(ZONES)),
    pick=st.integers(0, 1),
    shift=st.integers(-5400, 1800),
    micro=st.sampled_from([0, 1, 500_000]),
)
def test_next_after_matches_second_walk(
    case: tuple[str, Reference],
    zone: str,
    pick: int,
    shift: int,
    micro: int,
) -> None:
    expression, reference = case
    changes = ZONES[zone]
    after = changes[pick % len(changes)] + timedelta(seconds=shift, microseconds=micro)
    _check_against_reference(
        expression, reference, zone, after, timedelta(hours=2), timedelta(seconds=1)
    )
