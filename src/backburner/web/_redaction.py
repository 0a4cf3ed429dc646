"""What the dashboard may show of a job's arguments: each job's ``redact=`` and the
dashboard's own, applied to every record before a page or the API sees it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .._records import Job, JobSummary, RecurringJob
from .._redact import Redaction, RedactRule, names_in, normalize
from ._search import Filter, SearchError

if TYPE_CHECKING:
    from .._jobs import JobFunction

Lookup = Callable[[str], "JobFunction[..., Any] | None"]
R = TypeVar("R", JobSummary, RecurringJob)


class Redactor:
    """Hides values by the rule of the job's registered function (when this process
    registers it) and by the dashboard's rule (for every job)."""

    def __init__(self, lookup: Lookup, names: Callable[[], list[str]], rule: RedactRule | None):
        self._lookup = lookup
        self._names = names
        self._everywhere = Redaction.of(normalize(rule, "dashboard"))
        # A function's signature is read once, not on each record of each page.
        self._bound: dict[str, tuple[Callable[..., Any], Redaction]] = {}

    def rules(self, name: str) -> list[Redaction]:
        """The rules a job of this name is shown under, its own first."""
        found = [self._everywhere] if not self._everywhere.empty else []
        function = self._lookup(name)
        if function is None or function.options.redact is None:
            return found
        cached = self._bound.get(name)
        if cached is None or cached[0] is not function.func:
            cached = (function.func, Redaction.of(function.options.redact, function.func))
            self._bound[name] = cached
        return [cached[1], *found]

    def arguments(
        self, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        for rule in self.rules(name):
            args, kwargs = rule.arguments(args, kwargs)
        return args, kwargs

    def summary(self, job: R) -> R:
        """A search summary or a recurring job with its arguments as they may be shown."""
        args, kwargs = self.arguments(job.name, job.args, job.kwargs)
        return dataclasses.replace(job, args=args, kwargs=kwargs)

    def job(self, found: Job) -> Job:
        rules = self.rules(found.name)
        if not rules:
            return found
        args, kwargs, result = found.args, found.kwargs, found.result
        for rule in rules:
            args, kwargs = rule.arguments(args, kwargs)
            result = rule.result(result)
        return dataclasses.replace(found, args=args, kwargs=kwargs, result=result)

    def check(self, search: Filter) -> None:
        """Refuse a search by argument values that could confirm a hidden value's guess."""
        if not search.args and not search.kwargs:
            return
        rules = [rule for name in self._candidates(search) for rule in self.rules(name)]
        if not self._everywhere.empty:
            rules.append(self._everywhere)
        if any(rule.formatter is not None for rule in rules):
            raise SearchError(
                "these jobs' arguments are redacted by a formatter: searching by argument "
                "values is refused"
            )
        hidden = frozenset().union(*(rule.names for rule in rules))
        if search.args and any(rule.may_hide_positions for rule in rules):
            raise SearchError("positional arguments of these jobs are redacted: 'arg:' is refused")
        for key, value in search.kwargs.items():
            named = ({key} | names_in(value)) & hidden
            if named:
                raise SearchError(f"args.{key}: {sorted(named)[0]!r} is redacted: refused")
        for value in search.args:
            named = names_in(value) & hidden
            if named:
                raise SearchError(f"arg: {sorted(named)[0]!r} is redacted: refused")

    def _candidates(self, search: Filter) -> list[str]:
        registered = self._names()
        if not search.names:
            return registered
        return [
            name
            for name in registered
            if any(
                name.startswith(wanted[:-1]) if wanted.endswith("*") else name == wanted
                for wanted in search.names
            )
        ]
