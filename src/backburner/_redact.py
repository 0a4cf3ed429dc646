"""Redaction: which argument values a dashboard shows as ``[redacted]`` (pure).

A rule is either names or a formatter. Names hide, wherever they appear: a keyword
argument of that name, a positional argument bound to a parameter of that name (when the
job's function is known), and the value of a dict key of that name at any depth inside
any argument or the result. A formatter is a callable ``(args, kwargs) -> (args, kwargs)``
that returns the arguments as they may be shown; one that raises or returns something
else hides every argument, so that a broken formatter never shows a value in clear.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("backburner.redact")

REDACTED = "[redacted]"
"""What a dashboard shows instead of a hidden value."""

Formatter = Callable[[list[Any], dict[str, Any]], tuple[list[Any], dict[str, Any]]]
"""``(args, kwargs) -> (args, kwargs)``: the arguments as they may be shown."""

RedactRule = Iterable[str] | Formatter
"""What ``redact=`` takes: names (``["password", "token"]``) or a formatter."""


def normalize(rule: RedactRule | None, where: str) -> tuple[str, ...] | Formatter | None:
    """The rule as options keep it: a sorted tuple of names, a formatter, or None."""
    if rule is None:
        return None
    if isinstance(rule, str | bytes):
        raise ValueError(
            f"{where}: redact= takes a list of names or a callable, not the string {rule!r:.40}"
        )
    if callable(rule):
        return rule
    names = tuple(rule)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: redact= names must be non-empty strings, not {name!r:.40}")
    return tuple(sorted(set(names)))


@dataclass(frozen=True)
class Redaction:
    """One rule, ready to apply: names (with the parameters positional arguments bind to)
    or a formatter. ``Redaction()`` hides nothing."""

    names: frozenset[str] = frozenset()
    formatter: Formatter | None = None
    positions: tuple[str, ...] = ()
    """Names of the function's positional parameters, in order."""
    rest: str | None = None
    """The name of its ``*args`` parameter, which takes the positions beyond."""
    extra: str | None = None
    """The name of its ``**kwargs`` parameter, which takes the unnamed keywords."""

    @classmethod
    def of(
        cls, rule: tuple[str, ...] | Formatter | None, func: Callable[..., Any] | None = None
    ) -> Redaction:
        """The rule of a job, bound to its function's signature when the function is known."""
        if rule is None:
            return cls()
        if not isinstance(rule, tuple):
            return cls(formatter=rule)
        positions: list[str] = []
        rest = extra = None
        try:
            parameters = inspect.signature(func).parameters.values() if func else ()
        except (TypeError, ValueError):
            parameters = ()  # a builtin without a signature: names match keywords only
        for parameter in parameters:
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
                positions.append(parameter.name)
            elif parameter.kind is parameter.VAR_POSITIONAL:
                rest = parameter.name
            elif parameter.kind is parameter.VAR_KEYWORD:
                extra = parameter.name
        return cls(frozenset(rule), None, tuple(positions), rest, extra)

    @property
    def empty(self) -> bool:
        return not self.names and self.formatter is None

    @property
    def may_hide_positions(self) -> bool:
        """Whether a positional argument's value may be hidden, so that a search by
        positional values could reveal it."""
        if self.formatter is not None:
            return True
        return bool(self.names & {*self.positions, self.rest})

    def arguments(
        self, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """``args`` and ``kwargs`` as they may be shown."""
        if self.formatter is not None:
            return _formatted(self.formatter, args, kwargs)
        if not self.names:
            return args, kwargs
        shown_args = [
            REDACTED if self._hides_position(index) else hide_keys(value, self.names)
            for index, value in enumerate(args)
        ]
        named = set(self.positions)
        shown_kwargs = {
            key: REDACTED
            if key in self.names or (self.extra in self.names and key not in named)
            else hide_keys(value, self.names)
            for key, value in kwargs.items()
        }
        return shown_args, shown_kwargs

    def result(self, value: Any) -> Any:
        """A result as it may be shown: dict keys of the names hidden at any depth."""
        return hide_keys(value, self.names) if self.names else value

    def _hides_position(self, index: int) -> bool:
        if index < len(self.positions):
            return self.positions[index] in self.names
        return self.rest is not None and self.rest in self.names


def hide_keys(value: Any, names: frozenset[str]) -> Any:
    """``value`` with the value of every dict key in ``names`` replaced, at any depth."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if key in names else hide_keys(inner, names)
            for key, inner in value.items()
        }
    if isinstance(value, list | tuple):
        return [hide_keys(inner, names) for inner in value]
    return value


def names_in(value: Any) -> set[str]:
    """Every dict key inside ``value``, at any depth (for refusing searches by them)."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        for key, inner in value.items():
            found.add(str(key))
            found |= names_in(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            found |= names_in(inner)
    return found


def _formatted(
    formatter: Formatter, args: list[Any], kwargs: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    try:
        shown = formatter(list(args), dict(kwargs))
        shown_args, shown_kwargs = shown
        if not isinstance(shown_args, list | tuple) or not isinstance(shown_kwargs, Mapping):
            raise TypeError(f"returned {type(shown).__name__}, not (args, kwargs)")
        return list(shown_args), dict(shown_kwargs)
    except Exception:
        # Fail closed: a formatter that breaks shows nothing rather than everything.
        log.exception("redact formatter %r failed: every argument is hidden", formatter)
        return [REDACTED for _ in args], dict.fromkeys(kwargs, REDACTED)
