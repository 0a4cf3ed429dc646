"""Cron expressions for recurring jobs: parsing, next fire time and helpers (pure, no I/O).

Accepted forms
--------------
* 5 fields: ``minute hour day-of-month month day-of-week`` (classic unix cron).
* 6 fields: ``second minute hour day-of-month month day-of-week``. Seconds come FIRST, as
  in Quartz and Hangfire: ``0 0 2 * * ?`` is 02:00:00 every day.
* 7 fields: the 6 above followed by ``year`` (1970-2099).
* Aliases: ``@hourly @daily @midnight @weekly @monthly @yearly @annually``.

A field holds ``*``, a number, a range ``a-b``, a step ``*/n``, ``a/n`` or ``a-b/n``, or a
comma list of those. Months and days of the week also take names (``JAN``, ``MON``) in every
form. Day-of-month also takes ``L`` (last day), ``LW`` (last weekday) and ``15W`` (the
weekday nearest the 15th, never leaving the month); day-of-week takes ``5#3`` (third Friday)
and ``5L`` (last Friday of the month). ``?`` means "any" and may only stand as the whole
day-of-month or day-of-week field. Ranges of months and days of the week may wrap
(``NOV-FEB``, ``FRI-MON``); other ranges must go upwards.

Day-of-week numbers
-------------------
Unix counts 0-7 with 0 and 7 both Sunday; Quartz counts 1-7 with 1 = Sunday. The rule: an
expression with 6 or 7 fields whose day-of-month or day-of-week field is ``?`` is Quartz
style, and its day-of-week numbers mean 1 = SUN ... 7 = SAT. Every other expression reads
them unix style: 0 or 7 = SUN ... 6 = SAT. Names mean the same in both.

When day-of-month and day-of-week are both restricted (neither is ``*`` nor ``?``), a day
matches if EITHER matches, as in unix cron; otherwise only the restricted one counts.

Time zones and daylight saving
------------------------------
An expression is evaluated against the wall clock of a time zone. Where that clock jumps
forward (a gap) or back (a repeat), the behaviour depends on the hour field:

* Fixed-hour expressions, whose hour field does not cover all 24 hours (``30 2 * * *``,
  ``0 9-17 * * MON-FRI``), behave like alarm clocks. A matching wall time skipped by a gap
  fires ONCE, at the first instant after the gap: 02:30 on a day when 02:00-03:00 does not
  exist fires at 03:00, and several skipped matches in one gap still fire once. A matching
  wall time inside a repeat fires only at its first occurrence.
* Expressions whose hour field covers all 24 hours (``*/15 * * * *``, ``0 * * * *``,
  ``* * * * * *``) behave like interval timers: they fire at every real instant whose wall
  time matches. Skipped wall times never fire (``30 * * * *`` has no 02:30 that day) and
  repeated ones fire on both passes.

Field values are expanded with croniter and descriptions come from cron-descriptor; no
type of either leaves these modules, so both can be swapped without touching callers.
Next fire times are computed here from the expanded field values, because the daylight
saving rules above are ours, not the library's.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from backburner._cron_describe import Cron, describe_canonical

__all__ = ["ALIASES", "Cron", "CronSchedule", "describe", "parse_cron", "resolve_timezone"]

# The aliases parse_cron accepts, and the 5-field expression each stands for.
ALIASES: Mapping[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

# Spelled out rather than taken from calendar.month_abbr, which follows the process locale.
_MONTH_NAMES = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_DAY_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_ONE_SECOND = timedelta(seconds=1)
# Without a year field a schedule repeats within the 400-year Gregorian cycle, so a
# search that finds nothing in that span never will.
_SEARCH_YEARS = 400


class _Field(NamedTuple):
    name: str
    low: int  # bounds as the user writes them
    high: int
    names: Mapping[str, int]
    wraps: bool  # whether a range may run past the top back to the bottom
    quartz: bool = False

    @property
    def weekdays(self) -> bool:
        return self.names is _DAY_NAMES

    def range_text(self) -> str:
        if self.quartz:
            return f"{self.low}-{self.high} (Quartz numbering, 1 = SUN, used because of '?')"
        if self.weekdays:
            return f"{self.low}-{self.high} (0 and 7 = SUN)"
        return f"{self.low}-{self.high}"


_SECOND = _Field("second", 0, 59, {}, wraps=False)
_MINUTE = _Field("minute", 0, 59, {}, wraps=False)
_HOUR = _Field("hour", 0, 23, {}, wraps=False)
_DOM = _Field("day-of-month", 1, 31, {}, wraps=False)
_MONTH = _Field("month", 1, 12, _MONTH_NAMES, wraps=True)
_DOW = _Field("day-of-week", 0, 7, _DAY_NAMES, wraps=True)
_QUARTZ_DOW = _Field("day-of-week", 1, 7, _DAY_NAMES, wraps=True, quartz=True)
_YEAR = _Field("year", 1970, 2099, {}, wraps=False)


class _FieldError(Exception):
    def __init__(self, subject: str, problem: str) -> None:
        super().__init__(subject, problem)
        self.subject = subject
        self.problem = problem


@dataclass(frozen=True)
class _Days:
    """Which days of a month match; the day-of-month/day-of-week part of an expression."""

    dom: frozenset[int] = frozenset()
    last_day: bool = False
    last_weekday: bool = False
    nearest_weekday: frozenset[int] = frozenset()
    dow: frozenset[int] = frozenset()  # 0 = Sunday
    nth_dow: frozenset[tuple[int, int]] = frozenset()
    last_dow: frozenset[int] = frozenset()
    dom_restricted: bool = False
    dow_restricted: bool = False


@dataclass(frozen=True)
class _Spec:
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...] | None
    days: _Days


@dataclass(frozen=True)
class CronSchedule:
    """A parsed cron expression; build it with :func:`parse_cron`.

    ``expression`` is the text as given; ``canonical`` is the same schedule with names
    turned into numbers and day-of-week numbers in unix form (0 = SUN), which is what
    descriptions are built from.

    >>> from zoneinfo import ZoneInfo
    >>> s = parse_cron("30 6 * * MON-FRI")
    >>> s.next_after(datetime(2024, 1, 5, 12, 0, tzinfo=UTC), ZoneInfo("Europe/Madrid"))
    datetime.datetime(2024, 1, 8, 5, 30, tzinfo=datetime.timezone.utc)
    """

    expression: str
    canonical: str
    has_seconds: bool
    _spec: _Spec = field(repr=False)

    @property
    def every_hour(self) -> bool:
        """Whether the hour field covers all 24 hours, which selects interval-style DST rules.

        >>> parse_cron("*/15 * * * *").every_hour, parse_cron("0 2 * * *").every_hour
        (True, False)
        """
        return len(self._spec.hours) == 24

    def next_after(self, after: datetime, tz: tzinfo) -> datetime | None:
        """The first fire instant strictly after ``after``, as an aware UTC datetime.

        The expression is read on the wall clock of ``tz``; see the module docstring for
        daylight-saving gaps and repeats. Returns None only when a year field leaves no
        later year.

        >>> from zoneinfo import ZoneInfo
        >>> # 02:30 does not exist in Madrid on 2024-03-31; the run moves to 03:00 local.
        >>> parse_cron("30 2 * * *").next_after(
        ...     datetime(2024, 3, 30, 12, 0, tzinfo=UTC), ZoneInfo("Europe/Madrid"))
        datetime.datetime(2024, 3, 31, 1, 0, tzinfo=datetime.timezone.utc)
        """
        if after.tzinfo is None or after.utcoffset() is None:
            raise ValueError(f"next_after needs an aware datetime, got {after!r}")
        return _next_after(self._spec, self.every_hour, after, tz)

    def describe(self) -> str:
        """A short English description.

        >>> parse_cron("0 0 2 * * ?").describe()
        'At 02:00'
        """
        return describe_canonical(self.canonical)

    def __str__(self) -> str:
        return self.expression


def parse_cron(expression: str) -> CronSchedule:
    """Parse a cron expression, raising ValueError that names the faulty field.

    >>> parse_cron("0 0 2 * * ?").canonical
    '0 0 2 * * ?'
    >>> parse_cron("61 0 * * *")
    Traceback (most recent call last):
    ...
    ValueError: invalid cron '61 0 * * *': minute field '61' is out of range 0-59
    """
    if not isinstance(expression, str):
        raise TypeError(f"a cron expression must be a str, not {type(expression).__name__}")
    text = expression.strip()
    parts = _split(text)
    has_seconds = len(parts) >= 6
    if not has_seconds:
        parts = ["0", *parts]
    if len(parts) == 6:
        parts.append("*")
    dom, dow, year = parts[3], parts[5], parts[6]
    quartz = has_seconds and "?" in (dom, dow)
    fields = (_SECOND, _MINUTE, _HOUR, _DOM, _MONTH, _QUARTZ_DOW if quartz else _DOW, _YEAR)

    days = _DayCollector()
    plains: list[str] = []
    shown: list[str] = []
    for fdef, raw in zip(fields, parts, strict=True):
        try:
            plain, display = _parse_field(fdef, raw, days)
        except _FieldError as err:
            where = f"{fdef.name} field {raw!r}"
            if err.subject != raw:
                where += f": {err.subject!r}"
            raise ValueError(f"invalid cron {text!r}: {where} {err.problem}") from None
        plains.append(plain)
        shown.append(display)

    values = _expand(text, plains)
    spec = _Spec(
        seconds=values[0],
        minutes=values[1],
        hours=values[2],
        months=values[4],
        years=None if year == "*" else values[6],
        days=days.build(
            dom=values[3] if plains[3] != "-" else (),
            dow=values[5] if plains[5] != "-" else (),
            dom_restricted=dom not in ("*", "?"),
            dow_restricted=dow not in ("*", "?"),
        ),
    )
    start = datetime(spec.years[0] if spec.years else 2000, 1, 1)
    if _next_match(spec, start) is None:
        raise ValueError(
            f"invalid cron {text!r}: it never fires, because no date matches its"
            " day-of-month, month, day-of-week and year fields together"
        )
    if year == "*":
        shown = shown[:6]
    if not has_seconds:
        shown = shown[1:]
    return CronSchedule(text, " ".join(shown), has_seconds, spec)


def describe(expression: str) -> str:
    """A short English description of ``expression``; ValueError if it is invalid.

    >>> describe("*/15 * * * *")
    'Every 15 minutes'
    >>> describe("0 3 * * SUN")
    'At 03:00, only on Sunday'
    """
    return parse_cron(expression).describe()


def resolve_timezone(name: str | None) -> ZoneInfo:
    """The time zone called ``name`` (an IANA name); None means UTC.

    >>> resolve_timezone("Europe/Madrid")
    zoneinfo.ZoneInfo(key='Europe/Madrid')
    >>> resolve_timezone(None)
    zoneinfo.ZoneInfo(key='UTC')
    """
    if name is None:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # Malformed keys (absolute paths, "..") surface as ValueError or OSError, not
        # as ZoneInfoNotFoundError; to a caller they are all just unknown names.
        raise ValueError(f"unknown time zone {name!r}") from None


# --- parsing -------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    if text.startswith("@"):
        alias = ALIASES.get(text.lower())
        if alias is None:
            raise ValueError(
                f"invalid cron {text!r}: unknown alias; the aliases are {', '.join(ALIASES)}"
            )
        return alias.split()
    parts = text.split()
    if len(parts) not in (5, 6, 7):
        raise ValueError(
            f"invalid cron {text!r}: found {len(parts)} field{'' if len(parts) == 1 else 's'},"
            " but a cron expression has 5 fields (minute hour day-of-month month"
            " day-of-week), 6 fields (second minute hour day-of-month month day-of-week),"
            f" 7 fields (those 6 plus year) or is an alias ({', '.join(ALIASES)})"
        )
    return parts


class _DayCollector:
    """Special day tokens (L, W, #) found while parsing, which croniter is not asked about."""

    def __init__(self) -> None:
        self.last_day = False
        self.last_weekday = False
        self.nearest_weekday: set[int] = set()
        self.nth_dow: set[tuple[int, int]] = set()
        self.last_dow: set[int] = set()

    def build(
        self,
        dom: tuple[int, ...],
        dow: tuple[int, ...],
        dom_restricted: bool,
        dow_restricted: bool,
    ) -> _Days:
        return _Days(
            dom=frozenset(dom),
            last_day=self.last_day,
            last_weekday=self.last_weekday,
            nearest_weekday=frozenset(self.nearest_weekday),
            dow=frozenset(dow),
            nth_dow=frozenset(self.nth_dow),
            last_dow=frozenset(self.last_dow),
            dom_restricted=dom_restricted,
            dow_restricted=dow_restricted,
        )


_NEAREST_WEEKDAY = re.compile(r"([0-9]+)w")
_NTH_DOW = re.compile(r"(.+)#(.*)")
_LAST_DOW = re.compile(r"(.+)l")


def _parse_field(fdef: _Field, raw: str, days: _DayCollector) -> tuple[str, str]:
    """Validate one field; return its plain part for croniter and its canonical display.

    The plain part is ``-`` when only special day tokens remain, so croniter is never
    asked to expand an empty list.
    """
    if raw == "?":
        if fdef.name not in ("day-of-month", "day-of-week"):
            raise _FieldError(raw, "is only allowed in day-of-month or day-of-week")
        return "*", "?"
    if raw == "*":
        return "*", "*"
    plain: list[str] = []
    shown: list[str] = []
    for item in raw.split(","):
        if not item:
            raise _FieldError(raw, "has an empty list item (check the commas)")
        display = _parse_special(fdef, item, days)
        if display is None:
            pieces, display = _parse_range(fdef, item)
            plain.extend(pieces)
        shown.append(display)
    return ",".join(plain) or "-", ",".join(shown)


def _parse_special(fdef: _Field, item: str, days: _DayCollector) -> str | None:
    low = item.lower()
    if "?" in low:
        raise _FieldError(
            item, "is not allowed: '?' can only be a whole day-of-month or day-of-week field"
        )
    if fdef.name == "day-of-month":
        if low == "l":
            days.last_day = True
            return "L"
        if low == "lw":
            days.last_weekday = True
            return "LW"
        if m := _NEAREST_WEEKDAY.fullmatch(low):
            day = _number(fdef, m[1])
            days.nearest_weekday.add(day)
            return f"{day}W"
    elif fdef.name == "day-of-week":
        if low == "l":
            raise _FieldError(
                item,
                "is ambiguous; write e.g. '5L' for the last Friday of the month,"
                " or 'L' in day-of-month for the last day",
            )
        if m := _NTH_DOW.fullmatch(low):
            dow = _dow_value(fdef, m[1])
            if not m[2].isascii() or not m[2].isdigit() or not 1 <= int(m[2]) <= 5:
                raise _FieldError(item, "must end in #1 to #5 (which week of the month)")
            days.nth_dow.add((dow, int(m[2])))
            return f"{dow}#{int(m[2])}"
        if m := _LAST_DOW.fullmatch(low):
            dow = _dow_value(fdef, m[1])
            days.last_dow.add(dow)
            return f"{dow}L"
    return None


def _dow_value(fdef: _Field, token: str) -> int:
    return _value(fdef, token) % 7


def _parse_range(fdef: _Field, item: str) -> tuple[list[str], str]:
    """Validate ``*``, ``a``, ``a-b`` with an optional ``/step``.

    Returns upward ``a-b/step`` pieces for croniter (it expands equal and wrapping ranges
    in surprising ways, so it only ever sees these) and the item for display.
    """
    base, slash, step_text = item.partition("/")
    top = 6 if fdef.weekdays else fdef.high
    bottom = 0 if fdef.weekdays else fdef.low
    step = 1
    if slash:
        if not step_text.isascii() or not step_text.isdigit():
            raise _FieldError(item, f"has step {step_text!r}, which is not a whole number")
        step = int(step_text)
        if not 1 <= step <= top - bottom + 1:
            raise _FieldError(
                item, f"has step {step}, which must be 1-{top - bottom + 1} in this field"
            )
    suffix = f"/{step}" if slash else ""
    if base == "*":
        return [_piece(bottom, top, step)], f"*{suffix}"
    if "*" in base:
        raise _FieldError(item, "is not valid: '*' must stand alone or be followed by /step")
    first, dash, last = base.partition("-")
    if not first:
        raise _FieldError(item, "is not valid: negative numbers and empty ranges are not allowed")
    start = _value(fdef, first)
    if not dash:
        if fdef.quartz or fdef.weekdays:
            start %= 7
        end = top if slash else start
        return _pieces(fdef, start, end, step), f"{start}{suffix}"
    end = _value(fdef, last)
    if start > end and not fdef.wraps:
        raise _FieldError(item, f"runs backwards; write the smaller value first ({end}-{start})")
    return _pieces(fdef, start, end, step), f"{start}-{end}{suffix}"


def _pieces(fdef: _Field, start: int, end: int, step: int) -> list[str]:
    if start == end:
        return [str(start % 7 if fdef.weekdays else start)]
    if fdef.weekdays:
        # Unix day-of-week runs 0-7 with 7 = Sunday again; fold it onto a 0-6 week.
        if end == 7 and not fdef.quartz:
            tail = ["0"] if (7 - start) % step == 0 else []
            return [_piece(start, 6, step), *tail] if start <= 6 else tail
        start %= 7
        end %= 7
        if start == end:
            return [str(start)]
    if start <= end:
        return [_piece(start, end, step)]
    # A wrapping range (FRI-MON, NOV-FEB) is split in two upward ranges, keeping the
    # step's rhythm across the wrap.
    bottom, top = (0, 6) if fdef.weekdays else (fdef.low, fdef.high)
    last_before_wrap = start + (top - start) // step * step
    resume = last_before_wrap + step - (top - bottom + 1)
    pieces = [_piece(start, top, step)]
    if resume <= end:
        pieces.append(_piece(resume, end, step))
    return pieces


def _piece(start: int, end: int, step: int) -> str:
    if start == end:
        return str(start)
    return f"{start}-{end}" if step == 1 else f"{start}-{end}/{step}"


def _number(fdef: _Field, token: str) -> int:
    if not token.isascii() or not token.isdigit():
        raise _FieldError(token, "is not a number")
    value = int(token)
    if not fdef.low <= value <= fdef.high:
        raise _FieldError(token, f"is out of range {fdef.range_text()}")
    return value


def _value(fdef: _Field, token: str) -> int:
    """A number or a name, as the field's internal number (Quartz days become 0-6)."""
    if token.isascii() and token.isdigit():
        value = _number(fdef, token)
        return value - 1 if fdef.quartz else value
    named = fdef.names.get(token.lower())
    if named is not None:
        return named
    if fdef.names is _MONTH_NAMES:
        raise _FieldError(token, "is not a number or a month name (JAN-DEC)")
    if fdef.weekdays:
        raise _FieldError(token, "is not a number or a day name (SUN-SAT)")
    raise _FieldError(token, "is not a number")


def _expand(text: str, plains: list[str]) -> list[tuple[int, ...]]:
    """Expand the seven plain fields into sorted value tuples with croniter."""
    second, minute, hour, dom, month, dow, year = ("*" if p == "-" else p for p in plains)
    # croniter's 7-field layout is minute hour dom month dow second year.
    try:
        expanded, _ = croniter.expand(f"{minute} {hour} {dom} {month} {dow} {second} {year}")
    except CroniterError as exc:
        # Our validation runs first, so this only fires if croniter grows stricter.
        raise ValueError(f"invalid cron {text!r}: {exc}") from None
    order = (5, 0, 1, 2, 3, 4, 6)
    bounds = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6), (1970, 2099))
    result: list[tuple[int, ...]] = []
    for index, (low, high) in zip(order, bounds, strict=True):
        values = expanded[index]
        if values == ["*"]:
            result.append(tuple(range(low, high + 1)))
        else:
            result.append(tuple(sorted({int(v) for v in values})))
    return result


# --- matching --------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _month_days(days: _Days, year: int, month: int) -> tuple[int, ...]:
    """The matching days of one month, in order."""
    first_weekday, length = calendar.monthrange(year, month)  # Monday = 0
    targets: set[int] = set()
    for day in days.nearest_weekday:
        if day <= length:
            targets.add(_nearest_weekday(first_weekday, length, day))
    if days.last_weekday:
        targets.add(_nearest_weekday(first_weekday, length, length))
    matches: list[int] = []
    for day in range(1, length + 1):
        dow = (first_weekday + day) % 7  # 0 = Sunday
        dom_ok = day in days.dom or day in targets or (days.last_day and day == length)
        dow_ok = (
            dow in days.dow
            or (dow, (day - 1) // 7 + 1) in days.nth_dow
            or (dow in days.last_dow and day + 7 > length)
        )
        if days.dom_restricted and days.dow_restricted:
            ok = dom_ok or dow_ok
        elif days.dom_restricted:
            ok = dom_ok
        elif days.dow_restricted:
            ok = dow_ok
        else:
            ok = True
        if ok:
            matches.append(day)
    return tuple(matches)


def _nearest_weekday(first_weekday: int, length: int, day: int) -> int:
    weekday = (first_weekday + day - 1) % 7  # Monday = 0
    if weekday == 5:  # Saturday: Friday before, unless that leaves the month
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: Monday after, unless that leaves the month
        return day + 1 if day < length else day - 2
    return day


def _first_at_least(values: tuple[int, ...], wanted: int) -> int | None:
    index = bisect_left(values, wanted)
    return values[index] if index < len(values) else None


def _next_match(spec: _Spec, start: datetime) -> datetime | None:
    """The first matching wall time at or after ``start`` (naive, whole seconds).

    Walks the fields from year down to second, jumping to the next allowed value of each
    and resetting the smaller ones, so it costs a handful of steps, not one per second.
    """
    year, month, day = start.year, start.month, start.day
    hour, minute, second = start.hour, start.minute, start.second
    limit = min(9999, start.year + _SEARCH_YEARS)
    while True:
        if spec.years is not None:
            found = _first_at_least(spec.years, year)
            if found is None:
                return None
        elif year > limit:
            return None
        else:
            found = year
        if found != year:
            year, month, day, hour, minute, second = found, 1, 1, 0, 0, 0
        found = _first_at_least(spec.months, month)
        if found is None:
            year, month, day, hour, minute, second = year + 1, 1, 1, 0, 0, 0
            continue
        if found != month:
            month, day, hour, minute, second = found, 1, 0, 0, 0
        found = _first_at_least(_month_days(spec.days, year, month), day)
        if found is None:
            month, day, hour, minute, second = month + 1, 1, 0, 0, 0
            continue
        if found != day:
            day, hour, minute, second = found, 0, 0, 0
        found = _first_at_least(spec.hours, hour)
        if found is None:
            day, hour, minute, second = day + 1, 0, 0, 0
            continue
        if found != hour:
            hour, minute, second = found, 0, 0
        found = _first_at_least(spec.minutes, minute)
        if found is None:
            hour, minute, second = hour + 1, 0, 0
            continue
        if found != minute:
            minute, second = found, 0
        found = _first_at_least(spec.seconds, second)
        if found is None:
            minute, second = minute + 1, 0
            continue
        return datetime(year, month, day, hour, minute, found)


# --- time zones ------------------------------------------------------------------------
# Wall times are naive datetimes on the zone's clock; instants are naive datetimes in UTC.


def _offset(moment: datetime) -> timedelta:
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"time zone {moment.tzinfo!r} gives no UTC offset")
    return offset


def _offsets(wall: datetime, tz: tzinfo) -> tuple[timedelta, timedelta]:
    """UTC offsets of a wall time read with fold=0 and fold=1.

    Equal: the wall time happens once. fold=0 larger: it happens twice (a repeat).
    fold=0 smaller: it never happens (a gap), per PEP 495.
    """
    return (
        _offset(wall.replace(tzinfo=tz, fold=0)),
        _offset(wall.replace(tzinfo=tz, fold=1)),
    )


def _offset_at(instant: datetime, tz: tzinfo) -> timedelta:
    return _offset(instant.replace(tzinfo=UTC).astimezone(tz))


def _transition(before: datetime, after: datetime, tz: tzinfo) -> datetime:
    """The first instant in (before, after] whose offset differs from the one at ``before``.

    Bisects whole seconds; only called at gaps and repeats, which are rare.
    """
    offset = _offset_at(before, tz)
    low, high = 0, -int(-(after - before).total_seconds() // 1)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_at(before + timedelta(seconds=middle), tz) == offset:
            low = middle
        else:
            high = middle
    return before + timedelta(seconds=high)


def _next_after(spec: _Spec, every_hour: bool, after: datetime, tz: tzinfo) -> datetime | None:
    try:
        local = after.astimezone(tz)
        wall = local.replace(tzinfo=None, fold=0)
        after_utc = after.astimezone(UTC).replace(tzinfo=None)
        start = first = wall.replace(microsecond=0) + _ONE_SECOND
        second_pass: datetime | None = None
        early, late = _offsets(wall, tz)
        if early > late:
            # ``after`` lies in a repeat. Wall times before it that are still to come on
            # the second pass matter to interval-style schedules; alarm-style ones have
            # already fired there on the first pass.
            change = _transition(wall - early, wall - late, tz)
            repeat_start, repeat_end = change + late, change + early
            if local.fold:
                # Saves walking the rest of the repeat, whose first passes are all past.
                start = repeat_end
            if every_hour:
                candidate = _next_match(spec, first if local.fold else repeat_start)
                if candidate is not None and candidate < repeat_end:
                    second_pass = candidate - late
        first_pass = _first_occurrence_after(spec, every_hour, start, after_utc, tz)
    except OverflowError:
        # Only at the very ends of the datetime range, where no later fire exists anyway.
        return None
    found = [moment for moment in (first_pass, second_pass) if moment is not None]
    return min(found).replace(tzinfo=UTC) if found else None


def _first_occurrence_after(
    spec: _Spec, every_hour: bool, start: datetime, after: datetime, tz: tzinfo
) -> datetime | None:
    """First instant after ``after`` of a match at or after wall time ``start``.

    Each wall time is read at its first occurrence; skipped ones map to the end of their
    gap (alarm style) or are dropped (interval style). Read that way, later wall times
    never give earlier instants, so the first match past ``after`` is the answer.
    """
    candidate = _next_match(spec, start)
    while candidate is not None:
        early, late = _offsets(candidate, tz)
        if early >= late:
            instant = candidate - early
        else:
            change = _transition(candidate - late, candidate - early, tz)
            if every_hour:
                candidate = _next_match(spec, change + late)
                continue
            instant = change
        if instant > after:
            return instant
        candidate = _next_match(spec, candidate + _ONE_SECOND)
    return None
