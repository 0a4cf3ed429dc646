"""The names Backburner stores and indexes: job names, queue names and recurring ids.

They are bounded and plain text, the same way on every backend: PostgreSQL cannot index a
long name (a queue name of a few kB could be stored but never claimed) nor store a NUL, and
no backend can store a lone surrogate.
"""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 200
"""Job names, queue names and recurring ids are at most this many characters."""

# Control characters (C0, DEL, C1) and the surrogate range, which no UTF-8 text holds.
_UNFIT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def check_name(value: object, what: str) -> str:
    """``value`` if it is fit to be a ``what`` (e.g. "queue name"), else a clear error."""
    if not isinstance(value, str):
        raise TypeError(f"a {what} must be a str, not {type(value).__name__} ({value!r:.60})")
    if not value:
        raise ValueError(f"a {what} cannot be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise ValueError(
            f"a {what} is at most {MAX_NAME_LENGTH} characters, not {len(value)} "
            f"({value[:40]!r}...)"
        )
    unfit = _UNFIT.search(value)
    if unfit is not None:
        raise ValueError(
            f"a {what} cannot hold control characters or lone surrogates: "
            f"{value!r} has {unfit.group()!r} at position {unfit.start()}"
        )
    return value


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: object) -> bool:
    """Whether ``value`` is text every backend can look up (a name stored before the bounds
    above still can be)."""
    return isinstance(value, str) and _UNSTORABLE.search(value) is None
