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
from typing import TYPE_CHECKING, Any, Literal

from . import _serialization
from ._client import utcnow
from ._cron import CronSchedule, describe, parse_cron, resolve_timezone
from ._records import RecurringJob
from ._states import JobState
from .storage import NewJob, RecurringDefinition, Storage

if TYPE_CHECKING:
    from ._app import Backburner

log = logging.getLogger("backburner.recurring")

Misfire = Literal["relaxed", "strict", "ignore"]
MISFIRE_MODES: tuple[str, ...] = ("relaxed", "strict", "ignore")
MAX_CATCH_UP = 100
"""With ``misfire="strict"``, at most this many missed runs are enqueued at once."""
MISFIRE_GRACE = dt.timedelta(seconds=60)
"""With ``misfire="ignore"``, a run found later than this after its instant is skipped."""


def plan_runs(
    schedule: CronSchedule,
    zone: dt.tzinfo,
    due: dt.datetime,
    now: dt.datetime,
    misfire: str,
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


def _cron_text(cron: str) -> str:
    return cron.strip()


class RecurringManager:
    """Add, change, trigger, pause and remove recurring jobs.

    >>> app.recurring.add_or_update("daily-report", generate_daily_report, "0 6 * * *",
    ...                             timezone="Europe/Madrid")
    >>> app.recurring.add_or_update("cleanup", cleanup_old_logs, Cron.weekly(day_of_week=0, hour=3))
    >>> app.recurring.trigger("daily-report")   # a run now; the schedule is unchanged
    """

    def __init__(self, app: Backburner, storage: Callable[[], Storage]) -> None:
        self._app = app
        self._storage = storage
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
        if not recurring_id or not isinstance(recurring_id, str):
            raise ValueError("a recurring job needs a non-empty string id")
        cron = _cron_text(cron)
        schedule = parse_cron(cron)
        zone = resolve_timezone(timezone)
        if misfire not in MISFIRE_MODES:
            raise ValueError(f"misfire= takes one of {', '.join(MISFIRE_MODES)}, not {misfire!r}")
        options = self._app._resolve(job)
        args_text, kwargs_text = _serialization.dumps_arguments(
            args, kwargs or {}, job=options.name
        )
        storage = self._storage()  # opened first: that measures the clock's offset
        now = utcnow()
        next_run = schedule.next_after(now, zone)
        if next_run is None:
            raise ValueError(f"cron {cron!r} has no run after {now.isoformat()}")
        definition = RecurringDefinition(
            id=recurring_id,
            name=options.name,
            cron=cron,
            timezone=zone.key,
            queue=queue or options.queue,
            args=args_text,
            kwargs=kwargs_text,
            misfire=misfire,
        )
        storage.recurring_upsert(definition, next_run, now)
        self._app._wake_servers()
        found = self.get(recurring_id)
        assert found is not None
        return found

    def declare(self, recurring_id: str, job: str, cron: str, **options: Any) -> None:
        """Remember a schedule given on ``@app.job``; servers store it when they start."""
        parse_cron(_cron_text(cron))
        resolve_timezone(options.get("timezone"))
        if options.get("misfire", "relaxed") not in MISFIRE_MODES:
            raise ValueError(f"misfire= takes one of {', '.join(MISFIRE_MODES)}")
        self._declared[recurring_id] = {"job": job, "cron": cron, **options}

    def sync_declared(self) -> None:
        for recurring_id, spec in self._declared.items():
            self.add_or_update(recurring_id, **spec)

    def get(self, recurring_id: str) -> RecurringJob | None:
        """The recurring job, or None for an unknown id."""
        found = self._storage().recurring_get(recurring_id)
        return None if found is None else _described(found)

    def list(self) -> list[RecurringJob]:
        """All recurring jobs, by id."""
        return [_described(r) for r in self._storage().recurring_list()]

    def remove(self, recurring_id: str) -> bool:
        """Stop and forget it; jobs it already enqueued stay. False for an unknown id."""
        return self._storage().recurring_remove(recurring_id)

    def pause(self, recurring_id: str) -> bool:
        """No runs until resumed. False for an unknown id."""
        return self._storage().recurring_set_paused(recurring_id, True, None)

    def resume(self, recurring_id: str) -> bool:
        """Run again from the next instant after now; runs missed while paused are skipped."""
        found = self._storage().recurring_get(recurring_id)
        if found is None:
            return False
        next_run = parse_cron(found.cron).next_after(utcnow(), resolve_timezone(found.timezone))
        done = self._storage().recurring_set_paused(recurring_id, False, next_run)
        self._app._wake_servers()
        return done

    def trigger(self, recurring_id: str) -> str:
        """Enqueue a run now and return its job id; the next scheduled run is unchanged."""
        found = self._storage().recurring_get(recurring_id)
        if found is None:
            raise LookupError(f"no recurring job with id {recurring_id!r}")
        now = utcnow()
        job = _run_job(found, now, reason=f"recurring {recurring_id} triggered by hand")
        [job_id] = self._storage().job_insert_many([dataclasses.replace(job, unique_key=None)], now)
        self._storage().recurring_record_trigger(recurring_id, job_id, now)
        self._app._wake_servers(found.queue)
        return job_id


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


def enqueue_due(storage: Storage, now: dt.datetime, limit: int = 100) -> int:
    """Enqueue the runs of every due recurring job; returns how many jobs were enqueued.

    Safe to call from any number of servers at once. A definition that cannot be read
    (its cron or time zone no longer parses) is logged and skipped, never fatal.
    """
    enqueued = 0
    for record in storage.recurring_due(now, limit):
        assert record.next_run is not None
        try:
            schedule = parse_cron(record.cron)
            zone = resolve_timezone(record.timezone)
        except ValueError as error:
            log.error("recurring job %r cannot be scheduled: %s", record.id, error)
            storage.recurring_advance(record.id, record.next_run, None, [], now)
            continue
        instants, following = plan_runs(schedule, zone, record.next_run, now, record.misfire)
        if not instants:
            log.info(
                "recurring job %r: run due at %s missed, skipped (misfire=ignore)",
                record.id,
                record.next_run.isoformat(),
            )
        jobs = [
            _run_job(record, instant, f"recurring {record.id} due at {instant.isoformat()}")
            for instant in instants
        ]
        ids = storage.recurring_advance(record.id, record.next_run, following, jobs, now)
        if ids:
            enqueued += len(ids)
    return enqueued
