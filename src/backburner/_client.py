"""Turning enqueue, schedule and continue calls into stored jobs."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import _reasons, _serialization
from ._clock import utcnow
from ._engine import Engine
from ._jobs import JobOptions, When
from ._states import ContinueOn, JobState
from .storage import NewJob

UTC = dt.UTC

__all__ = ["Client", "resolve_when", "utcnow"]


def resolve_when(when: When, now: dt.datetime) -> dt.datetime:
    """An aware UTC instant from a delay or an aware datetime; a naive datetime is refused,
    and so is an instant before year 1 or after year 9999 (in UTC)."""
    if isinstance(when, dt.datetime):
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError(
                f"naive datetime {when.isoformat()} is ambiguous: give it a time zone, "
                "e.g. datetime(..., tzinfo=ZoneInfo('Europe/Madrid')) or timezone.utc"
            )
        try:
            return when.astimezone(UTC)
        except OverflowError:
            raise ValueError(
                f"{when.isoformat()} is outside the years 1 to 9999 once in UTC"
            ) from None
    if isinstance(when, int | float) and not isinstance(when, bool):
        try:
            if not math.isfinite(when):
                raise ValueError(f"schedule() takes a finite delay in seconds, not {when!r}")
            when = dt.timedelta(seconds=when)
        except OverflowError:
            raise ValueError(
                f"a delay of {when!r:.30} seconds from now is outside the years 1 to 9999"
            ) from None
    if isinstance(when, dt.timedelta):
        try:
            return now + when
        except OverflowError:
            raise ValueError(f"a delay of {when} from now is outside the years 1 to 9999") from None
    raise TypeError(f"schedule() takes a timedelta, seconds or an aware datetime, not {when!r}")


class Client:
    """Serializes arguments, decides each new job's state and hands it to the engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _new(
        self,
        options: JobOptions,
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        *,
        state: JobState,
        run_at: dt.datetime,
        reason: str | None = None,
        **extra: Any,
    ) -> NewJob:
        args_text, kwargs_text = _serialization.dumps_arguments(args, kwargs, job=options.name)
        return NewJob(
            name=options.name,
            queue=options.queue,
            args=args_text,
            kwargs=kwargs_text,
            state=state,
            run_at=run_at,
            reason=reason,
            **extra,
        )

    def _now(self) -> dt.datetime:
        return self._engine.now()

    def _insert(self, jobs: Sequence[NewJob], now: dt.datetime) -> list[str]:
        return self._engine.insert(jobs, now)

    def enqueue(self, options: JobOptions, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
        now = self._now()
        job = self._new(options, args, kwargs, state=JobState.ENQUEUED, run_at=now)
        return self._insert([job], now)[0]

    def enqueue_once(
        self, options: JobOptions, args: Sequence[Any], kwargs: Mapping[str, Any], key: str
    ) -> str:
        """Enqueue unless a job was ever stored under ``key``; the id of the one stored."""
        now = self._now()
        job = self._new(options, args, kwargs, state=JobState.ENQUEUED, run_at=now, unique_key=key)
        return self._insert([job], now)[0]

    def enqueue_many(self, options: JobOptions, calls: Iterable[tuple[Any, ...]]) -> list[str]:
        now = self._now()
        jobs = []
        # The lean path of _new(): this loop is most of enqueue_many's time.
        name, queue, enqueued = options.name, options.queue, JobState.ENQUEUED
        dumps = _serialization.dumps
        for index, call in enumerate(calls):
            if not isinstance(call, tuple | list):
                raise TypeError(
                    "enqueue_many() takes one tuple of positional arguments per job; "
                    f"call {index} is {call!r}"
                )
            try:
                args = dumps(list(call))
            except (TypeError, ValueError):
                try:
                    _serialization.dumps_arguments(call, {}, job=name)
                except TypeError as error:
                    raise TypeError(f"call {index} of enqueue_many(): {error}") from None
                raise  # pragma: no cover - dumps_arguments always explains the failure
            jobs.append(NewJob(name, queue, args, "{}", enqueued, now))
        return self._insert(jobs, now) if jobs else []

    def schedule(
        self, options: JobOptions, when: When, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> str:
        now = self._now()
        run_at = resolve_when(when, now)
        job = self._new(
            options,
            args,
            kwargs,
            state=JobState.SCHEDULED,
            run_at=run_at,
            reason=_reasons.due_at(run_at),
            due_at=run_at,
        )
        return self._insert([job], now)[0]

    def continue_with(
        self,
        options: JobOptions,
        parent_id: str,
        on: ContinueOn,
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
    ) -> str:
        if on not in ("succeeded", "finished"):
            raise ValueError(f"on= takes 'succeeded' or 'finished', not {on!r}")
        now = self._now()
        job = self._new(
            options,
            args,
            kwargs,
            state=JobState.AWAITING,
            run_at=now,
            reason=_reasons.awaiting(parent_id, on),
            parent_id=str(parent_id),
            continue_on=on,
        )
        try:
            return self._insert([job], now)[0]
        except LookupError:
            raise LookupError(f"cannot continue job {parent_id!r}: no job has that id") from None
