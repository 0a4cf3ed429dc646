"""The read-model verbs of the PostgreSQL backend (queries in read.sql)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from ... import _reasons
from ..._records import CountCell, JobPage, JobSummary
from ..._states import JobState, can_delete, can_requeue
from .._protocol import BulkAction, CountQuery, JobQuery, NamesQuery
from .._read import (
    ALL_STATES,
    bulk_pick,
    candidate_path,
    check_limit,
    cut_page,
    decode_cursor,
    query_ids,
    query_states,
    scan_size,
    split_names,
    summary,
)
from .._rows import int_id
from ._base import StorageBase


class ReadVerbs(StorageBase):
    """Searches, counts, names and bulk actions for dashboards."""

    def job_search(self, query: JobQuery) -> JobPage:
        return self._search(query, frozenset())

    def _search(self, query: JobQuery, allowed: frozenset[JobState]) -> JobPage:
        """A page; ``allowed`` states (when given) are one more residual filter."""
        scan = scan_size(query, allowed)
        exact, prefixes = split_names(query.names)
        params = {
            "path": candidate_path(query),
            "states": query_states(query),
            "queues": list(query.queues),
            "ids": query_ids(query),
            "before": decode_cursor(query.cursor),
            "scan": scan,
            "limit": query.limit + 1,
            "by_name": bool(query.names),
            "names": exact,
            "prefixes": prefixes,
            "args": query.args,
            "kwargs": query.kwargs,
            "allowed": [s.value for s in allowed],
        }
        rows = self._run("search_jobs", params)
        candidates, oldest = rows[0][0], rows[0][1]
        jobs = [
            summary(
                id=r[2],
                name=r[3],
                queue=r[4],
                state=r[5],
                attempt=r[6],
                created_at=r[7],
                run_at=r[8],
                started_at=r[9],
                finished_at=r[10],
                args=r[11],
                kwargs=r[12],
                error=r[13],
                parent_id=r[14],
                recurring_id=r[15],
                server_id=r[16],
            )
            for r in rows
            if r[2] is not None
        ]
        return cut_page(jobs, candidates, oldest, query.limit, scan)

    def job_continuations(self, parent_id: str, limit: int) -> list[JobSummary]:
        check_limit(limit)
        key = int_id(parent_id)
        if key is None:
            return []
        rows = self._run("continuations", {"parent": key, "limit": limit})
        return [
            summary(
                id=r[0],
                name=r[1],
                queue=r[2],
                state=r[3],
                attempt=r[4],
                created_at=r[5],
                run_at=r[6],
                started_at=r[7],
                finished_at=r[8],
                args=r[9],
                kwargs=r[10],
                error=r[11],
                parent_id=r[12],
                recurring_id=r[13],
                server_id=r[14],
            )
            for r in rows
        ]

    def job_count_cells(self, query: CountQuery) -> Mapping[tuple[str, JobState], CountCell]:
        params = {
            "states": [s.value for s in query.states or ALL_STATES],
            "queues": list(query.queues),
            "threshold": query.threshold,
            "schema": self.schema,
        }
        cells = {}
        for queue, state, counted, estimate in self._run("count_cells", params):
            if counted <= query.threshold:
                cells[(queue, JobState(state))] = CountCell(counted)
            else:
                guess = max(counted, round(estimate or 0))
                cells[(queue, JobState(state))] = CountCell(guess, exact=False)
        return cells

    def queue_names(self, query: NamesQuery) -> list[str]:
        params = {
            "states": [s.value for s in ALL_STATES],
            "prefix": query.prefix,
            "limit": query.limit,
        }
        return [name for (name,) in self._run("queue_names", params)]

    def job_names(self, query: NamesQuery) -> list[str]:
        params = {
            "states": [s.value for s in ALL_STATES],
            "prefix": query.prefix,
            "limit": query.limit,
            "sample": query.sample,
        }
        return [name for (name,) in self._run("job_names", params)]

    def queue_oldest_enqueued(self) -> Mapping[str, dt.datetime]:
        return dict(self._run("queue_oldest_enqueued"))

    def job_requeue_many(self, action: BulkAction) -> int:
        ids = bulk_pick(self._search, action, _REQUEUEABLE)
        if not ids:
            return 0
        params = {
            "ids": ids,
            "now": action.now,
            "reason": action.reason,
            "channel": self._notify_channel,
        }
        [(requeued, _)] = self._run("requeue_ids", params)
        return int(requeued)

    def job_delete_many(self, action: BulkAction) -> int:
        ids = bulk_pick(self._search, action, _DELETABLE)
        if not ids:
            return 0
        deleted, _ = self._atomic(
            ("delete_ids", {"ids": ids, "now": action.now, "reason": action.reason}),
            # As job_delete: parents that were already deleted have no awaiting children.
            (
                "release_children",
                {
                    "id": ids,
                    "at": [action.now] * len(ids),
                    "channel": self._notify_channel,
                    "parent_outcome": _reasons.PARENT_OUTCOME,
                },
            ),
        )
        return len(deleted)


_REQUEUEABLE = frozenset(s for s in JobState if can_requeue(s))
_DELETABLE = frozenset(s for s in JobState if can_delete(s))
