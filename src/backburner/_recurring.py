"""``app.recurring``: jobs that run on a cron schedule, once per due instant.

Definitions live in storage. Every server looks for due recurring jobs about twice a
second; for each due one it moves ``next_run`` on with a compare-and-set and enqueues the
run in the same transaction, so however many servers look, one wins per instant. The
run's job also carries a unique key per (recurring id, instant) as a second guard.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from . import _reasons, _serialization
from ._cron import CronSchedule, describe, parse_cron, resolve_timezone
from ._engine import Engine
from ._jobs import JobOptions
from ._names import check_name, storable
from ._records import RecurringJob
from ._states import MISFIRE_MODES, JobState, Misfire
from .storage import NewJob, RecurringDefinition

log = logging.getLogger("backburner.recurring")

MAX_CATCH_UP = 100
"""With ``misfire="strict"``, at most this many missed runs are enqueued at once."""
MISFIRE_GRACE = dt.timedelta(seconds=60)
"""With ``misfire="ignore"``, a run found later than this after its instant is skipped."""


def plan_runs(
    schedule: CronSchedule,
    zone: dt.tzinfo,
    due: dt.datetime,
    now: dt.datetime,
    misfire: Misfire,
) -> tuple[list[dt.datetime], dt.datetime | None]:
    """The instants to enqueue for a recurring job due at ``due``, and its next run after now.

    ``relaxed`` runs once for however many instants were missed; ``strict`` runs once per
    missed instant, oldest first, up to ``MAX_CATCH_UP``; ``ignore`` runs only when found
    within ``MISFIRE_GRACE`` of its instant.
    """
    following = schedule.next_after(now, zone)
    if misfire == "strict":
        instants = [due]
        while len(instants) < MAX_CATCH_UP:
            later = schedule.next_after(instants[-1], zone)
            if later is None or later > now:
                break
            instants.append(later)
        return instants, following
    if misfire == "ignore" and now - due > MISFIRE_GRACE:
        return [], following
    return [due], following


def _cron_text(cron: object) -> str:
    if not isinstance(cron, str):
        raise TypeError(
            f"cron= takes a cron expression (a str, or a Cron helper), not "
            f"{type(cron).__name__} ({cron!r:.40})"
        )
    return cron.strip()


def _zone(timezone: object) -> ZoneInfo:
    if timezone is not None and not isinstance(timezone, str):
        raise TypeError(
            f"timezone= takes an IANA name such as 'Europe/Madrid', not "
            f"{type(timezone).__name__} ({timezone!r:.40})"
        )
    return resolve_timezone(timezone)


class RecurringManager:
    """Add, change, trigger, pause and remove recurring jobs.

    >>> app.recurring.add_or_update("daily-report", generate_daily_report, "0 6 * * *",
    ...                             timezone="Europe/Madrid")
    >>> app.recurring.add_or_update("cleanup", cleanup_old_logs, Cron.weekly(day_of_week=0, hour=3))
    >>> app.recurring.trigger("daily-report")   # a run now; the schedule is unchanged
    """

    def __init__(
        self, resolve: Callable[[str | Callable[..., Any]], JobOptions], engine: Engine
    ) -> None:
        self._resolve = resolve
        self._engine = engine
        self._declared: dict[str, dict[str, Any]] = {}

    def add_or_update(
        self,
        recurring_id: str,
        job: str | Callable[..., Any],
        cron: str,
        *,
        timezone: str | None = None,
        queue: str | None = None,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        misfire: Misfire = "relaxed",
    ) -> RecurringJob:
        """Create the recurring job ``recurring_id``, or change it.

        ``cron`` takes 5 fields, 6 with leading seconds, Quartz style with ``?`` and a year,
        ``@daily`` and friends, or a ``Cron`` helper. ``timezone`` is an IANA name (UTC when
        omitted). A changed cron or time zone recomputes the next run.
        """
        check_name(recurring_id, "recurring job id")
        cron = _cron_text(cron)
        schedule = parse_cron(cron)
        zone = _zone(timezone)
        if misfire not in MISFIRE_MODES:
            raise ValueError(f"misfire= takes one of {', '.join(MISFIRE_MODES)}, not {misfire!r}")
        if not isinstance(args, list | tuple):
            raise TypeError(f"args= takes a list or tuple, not {type(args).__name__}")
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise TypeError(f"kwargs= takes a dict, not {type(kwargs).__name__}")
        options = self._resolve(job)
        if queue is not None:
            check_name(queue, f"queue name for recurring job {recurring_id!r}")
        args_text, kwargs_text = _serialization.dumps_arguments(
            args, kwargs or {}, job=options.name
        )
        now = self._engine.now()
        next_run = schedule.next_after(now, zone)
        if next_run is None:
            raise ValueError(f"cron {cron!r} has no run after {now.isoformat()}")
        definition = RecurringDefinition(
            id=recurring_id,
            name=options.name,
            cron=cron,
            timezone=zone.key,
            queue=options.queue if queue is None else queue,
            args=args_text,
            kwargs=kwargs_text,
            misfire=misfire,
        )
        self._engine.recurring_upsert(definition, next_run, now)
        found = self.get(recurring_id)
        assert found is not None
        return found

    def declare(self, recurring_id: str, job: str, cron: str, **options: Any) -> None:
        """Remember a schedule given on ``@app.job``; servers store it when they start."""
        check_name(recurring_id, "recurring job id")
        parse_cron(_cron_text(cron))
        _zone(options.get("timezone"))
        if options.get("misfire", "relaxed") not in MISFIRE_MODES:
            raise ValueError(f"misfire= takes one of {', '.join(MISFIRE_MODES)}")
        self._declared[recurring_id] = {"job": job, "cron": cron, **options}

    def sync_declared(self) -> None:
        for recurring_id, spec in self._declared.items():
            self.add_or_update(recurring_id, **spec)

    def get(self, recurring_id: str) -> RecurringJob | None:
        """The recurring job, or None for an unknown id."""
        if not storable(recurring_id):
            return None
        found = self._engine.recurring_get(recurring_id)
        return None if found is None else _described(found)

    def list(self) -> list[RecurringJob]:
        """All recurring jobs, by id."""
        return [_described(r) for r in self._engine.recurring_list()]

    def remove(self, recurring_id: str) -> bool:
        """Stop and forget it; jobs it already enqueued stay. False for an unknown id."""
        return storable(recurring_id) and self._engine.recurring_remove(recurring_id)

    def pause(self, recurring_id: str) -> bool:
        """No runs until resumed. False for an unknown id."""
        if not storable(recurring_id):
            return False
        return self._engine.recurring_pause(recurring_id)

    def resume(self, recurring_id: str) -> bool:
        """Run again from the next instant after now; runs missed while paused are skipped."""
        found = self._engine.recurring_get(recurring_id) if storable(recurring_id) else None
        if found is None:
            return False
        now = self._engine.now()
        next_run = parse_cron(found.cron).next_after(now, resolve_timezone(found.timezone))
        return self._engine.recurring_resume(recurring_id, next_run)

    def trigger(self, recurring_id: str, *, reason: str | None = None) -> str:
        """Enqueue a run now and return its job id; the next scheduled run is unchanged.

        ``reason`` replaces the history's "recurring <id> triggered by hand".
        """
        found = self._engine.recurring_get(recurring_id) if storable(recurring_id) else None
        if found is None:
            raise LookupError(f"no recurring job with id {recurring_id!r}")
        now = self._engine.now()
        job = _run_job(found, now, reason=reason or _reasons.recurring_triggered(recurring_id))
        return self._engine.recurring_trigger(
            recurring_id, dataclasses.replace(job, unique_key=None), now
        )


def _described(record: RecurringJob) -> RecurringJob:
    return dataclasses.replace(record, description=describe(record.cron))


def _run_job(record: RecurringJob, instant: dt.datetime, reason: str) -> NewJob:
    return NewJob(
        name=record.name,
        queue=record.queue,
        args=_serialization.dumps(record.args),
        kwargs=_serialization.dumps(record.kwargs),
        state=JobState.ENQUEUED,
        run_at=instant,
        reason=reason,
        recurring_id=record.id,
        due_at=instant,
        unique_key=f"recurring:{record.id}:{instant.isoformat()}",
    )


def enqueue_due(engine: Engine, now: dt.datetime, limit: int = 100) -> int:
    """Enqueue the runs of every due recurring job; returns how many jobs were enqueued.

    Safe to call from any number of servers at once. A definition that cannot be read
    (its cron or time zone no longer parses) is logged and skipped, never fatal.
    """
    enqueued = 0
    for record in engine.recurring_due(now, limit):
        assert record.next_run is not None
        try:
            schedule = parse_cron(record.cron)
            zone = resolve_timezone(record.timezone)
        except ValueError as error:
            log.error("recurring job %r cannot be scheduled: %s", record.id, error)
            engine.recurring_advance(record, None, [], now)
            continue
        instants, following = plan_runs(schedule, zone, record.next_run, now, record.misfire)
        if not instants:
            log.info(
                "recurring job %r: run due at %s missed, skipped (misfire=ignore)",
                record.id,
                record.next_run.isoformat(),
            )
        jobs = [
            _run_job(record, instant, _reasons.recurring_due(record.id, instant))
            for instant in instants
        ]
        ids = engine.recurring_advance(record, following, jobs, now)
        if ids:
            enqueued += len(ids)
    return enqueued
