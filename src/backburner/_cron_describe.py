"""Cron expression text: builders for common schedules and English descriptions (pure).

Kept apart from :mod:`backburner._cron` so the parser stays readable. ``Cron`` is
re-exported there, and ``describe`` there validates an expression before handing its
canonical form to :func:`describe_canonical`.
"""

from __future__ import annotations

import calendar

# cron-descriptor ships no type information.
from cron_descriptor import ExpressionDescriptor, Options  # type: ignore[import-untyped]

__all__ = ["Cron", "describe_canonical"]


def describe_canonical(canonical: str) -> str:
    """English for an already validated expression whose day-of-week numbers are unix style.

    >>> describe_canonical("0 3 * * 0")
    'At 03:00, only on Sunday'
    """
    options = Options()
    options.use_24hour_time_format = True
    options.locale_code = "en_US"
    options.day_of_week_start_index_zero = True
    try:
        return str(ExpressionDescriptor(canonical, options).get_description())
    except Exception:
        # A description is cosmetic: an expression the describer cannot phrase still
        # schedules fine, so show it as written rather than fail.
        return f"Cron: {canonical}"


def _check(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low}-{high}, not {value}")


class Cron:
    """Builders for common cron expressions; each returns the expression text.

    >>> Cron.daily(hour=6, minute=30)
    '30 6 * * *'
    >>> Cron.every(minutes=15)
    '*/15 * * * *'
    """

    @staticmethod
    def minutely() -> str:
        """Every minute.

        >>> Cron.minutely()
        '* * * * *'
        """
        return "* * * * *"

    @staticmethod
    def hourly(minute: int = 0) -> str:
        """Every hour at ``minute``.

        >>> Cron.hourly(minute=5)
        '5 * * * *'
        """
        _check("minute", minute, 0, 59)
        return f"{minute} * * * *"

    @staticmethod
    def daily(hour: int = 0, minute: int = 0) -> str:
        """Every day at ``hour:minute``.

        >>> Cron.daily(hour=3)
        '0 3 * * *'
        """
        _check("hour", hour, 0, 23)
        _check("minute", minute, 0, 59)
        return f"{minute} {hour} * * *"

    @staticmethod
    def weekly(day_of_week: int = 0, hour: int = 0, minute: int = 0) -> str:
        """Every week on ``day_of_week`` (0 = Sunday ... 6 = Saturday) at ``hour:minute``.

        >>> Cron.weekly(day_of_week=1, hour=9)
        '0 9 * * 1'
        """
        _check("day_of_week", day_of_week, 0, 6)
        _check("hour", hour, 0, 23)
        _check("minute", minute, 0, 59)
        return f"{minute} {hour} * * {day_of_week}"

    @staticmethod
    def monthly(day: int = 1, hour: int = 0, minute: int = 0) -> str:
        """Every month on ``day`` at ``hour:minute``; days 29-31 skip shorter months.

        >>> Cron.monthly(day=15, hour=12)
        '0 12 15 * *'
        """
        _check("day", day, 1, 31)
        _check("hour", hour, 0, 23)
        _check("minute", minute, 0, 59)
        return f"{minute} {hour} {day} * *"

    @staticmethod
    def yearly(month: int = 1, day: int = 1, hour: int = 0, minute: int = 0) -> str:
        """Every year on ``month``/``day`` at ``hour:minute`` (February 29 fires in leap years).

        >>> Cron.yearly(month=12, day=25, hour=8)
        '0 8 25 12 *'
        """
        _check("month", month, 1, 12)
        _check("day", day, 1, calendar.monthrange(2000, month)[1])
        _check("hour", hour, 0, 23)
        _check("minute", minute, 0, 59)
        return f"{minute} {hour} {day} {month} *"

    @staticmethod
    def every(
        *, seconds: int | None = None, minutes: int | None = None, hours: int | None = None
    ) -> str:
        """Every ``seconds``, ``minutes`` or ``hours`` (give exactly one).

        Cron steps restart at each whole minute, hour or day, so the interval must divide
        that unit evenly; anything else would leave a short gap at the wrap.

        >>> Cron.every(seconds=30)
        '*/30 * * * * *'
        >>> Cron.every(hours=6)
        '0 */6 * * *'
        """
        given = [(n, v) for n, v in (("seconds", seconds), ("minutes", minutes), ("hours", hours))]
        chosen = [(n, v) for n, v in given if v is not None]
        if len(chosen) != 1:
            raise ValueError("Cron.every() takes exactly one of seconds=, minutes= or hours=")
        unit, value = chosen[0]
        whole, container, bigger = {
            "seconds": (60, "minute", "Cron.every(minutes=1)"),
            "minutes": (60, "hour", "Cron.every(hours=1)"),
            "hours": (24, "day", "Cron.daily()"),
        }[unit]
        _check(unit, value, 1, whole)
        if value == whole:
            raise ValueError(f"Cron.every({unit}={value}) is a whole {container}; use {bigger}")
        if whole % value:
            divisors = ", ".join(str(d) for d in range(1, whole) if whole % d == 0)
            raise ValueError(
                f"Cron.every({unit}={value}): {value} does not divide a {container} evenly,"
                f" so the last run of each {container} would come early; use one of {divisors}"
            )
        step = "*" if value == 1 else f"*/{value}"
        if unit == "seconds":
            return f"{step} * * * * *"
        if unit == "minutes":
            return f"{step} * * * *"
        return f"0 {step} * * *"
