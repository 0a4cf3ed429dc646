"""The recurring-job verbs of the PostgreSQL backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ..._records import RecurringJob
from .. import _rows
from .._protocol import NewJob, RecurringDefinition
from ._base import StorageBase
from ._connections import Connection
from ._insert import insert_jobs


class RecurringVerbs(StorageBase):
    """Recurring jobs in ``bb_recurring``; a due instant is advanced by compare-and-set."""

    def recurring_upsert(
        self, definition: RecurringDefinition, next_run: dt.datetime, now: dt.datetime
    ) -> None:
        d = definition
        self._run(
            "recurring_upsert",
            {
                "id": d.id,
                "name": d.name,
                "cron": d.cron,
                "timezone": d.timezone,
                "queue": d.queue,
                "args": d.args,
                "kwargs": d.kwargs,
                "misfire": d.misfire,
                "next_run": next_run,
                "now": now,
            },
        )

    def recurring_get(self, recurring_id: str) -> RecurringJob | None:
        rows = self._run("recurring_get", {"id": recurring_id})
        return _recurring(rows[0]) if rows else None

    def recurring_list(self) -> list[RecurringJob]:
        return [_recurring(row) for row in self._run("recurring_list")]

    def recurring_remove(self, recurring_id: str) -> bool:
        return self._count("recurring_remove", {"id": recurring_id}) == 1

    def recurring_set_paused(
        self, recurring_id: str, paused: bool, next_run: dt.datetime | None
    ) -> bool:
        params = {"id": recurring_id, "paused": paused, "next_run": next_run}
        return self._count("recurring_set_paused", params) == 1

    def recurring_due(self, now: dt.datetime, limit: int) -> list[RecurringJob]:
        return [_recurring(row) for row in self._run("recurring_due", {"now": now, "limit": limit})]

    def recurring_next_run(self) -> dt.datetime | None:
        [(next_run,)] = self._run("recurring_next_run")
        return next_run  # type: ignore[no-any-return]

    def recurring_advance(
        self,
        recurring_id: str,
        expected: dt.datetime,
        next_run: dt.datetime | None,
        jobs: Sequence[NewJob],
        now: dt.datetime,
    ) -> list[str] | None:
        def work(conn: Connection) -> list[str] | None:
            moved = conn.execute(
                self._q["recurring_advance"],
                {"id": recurring_id, "expected": expected, "next_run": next_run},
            )
            if moved.rowcount != 1:
                return None
            if not jobs:
                return []
            ids = insert_jobs(conn, self._q, jobs, now, self._notify_channel)
            last_run = max(job.due_at or job.run_at for job in jobs)
            conn.execute(
                self._q["recurring_ran"], {"id": recurring_id, "at": last_run, "job_id": ids[-1]}
            )
            return ids

        return self._transaction(work)

    def recurring_record_trigger(self, recurring_id: str, job_id: str, at: dt.datetime) -> None:
        self._run("recurring_ran", {"id": recurring_id, "at": at, "job_id": job_id})


def _recurring(r: tuple[Any, ...]) -> RecurringJob:
    return RecurringJob(
        id=r[0],
        name=r[1],
        cron=r[2],
        timezone=r[3],
        queue=r[4],
        args=_rows.decode_result(r[5]),
        kwargs=_rows.decode_result(r[6]),
        misfire=r[7],
        paused=r[8],
        next_run=r[9],
        last_run=r[10],
        last_job_id=r[11],
        created_at=r[12],
    )
