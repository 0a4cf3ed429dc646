"""What every backend's read model shares: cursors, filters and how a page is cut.

A search first takes *candidates*: jobs matching the filters an index answers (states,
queues, ids, the cursor), newest first, at most ``scan`` of them when names or arguments
are filtered too (else ``limit + 1``). The jobs of the page are the candidates that pass
the other filters. So every page costs a bounded amount of work, and every backend cuts
the same pages.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Callable, Collection, Sequence
from typing import Any

from .._records import JobPage, JobSummary
from .._states import JobState
from . import _rows
from ._protocol import MAX_PAGE, BulkAction, JobQuery

ALL_STATES = tuple(JobState)
_CURSOR_PREFIX = "bb1:"
NO_CURSOR = 2**63 - 1  # above every id: the first page


def encode_cursor(job_id: int) -> str:
    """An opaque cursor: the page after it holds jobs older than ``job_id``."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{job_id}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The id a cursor stands for; ``NO_CURSOR`` for None. ValueError when malformed."""
    if cursor is None:
        return NO_CURSOR
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if text.startswith(_CURSOR_PREFIX):
            value = int(text[len(_CURSOR_PREFIX) :])
            if 0 < value <= NO_CURSOR:
                return value
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise ValueError(f"cursor {cursor!r} is not one a job search returned")


def check_limit(limit: int) -> int:
    """A page size a backend accepts: 1 to ``MAX_PAGE``."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}, not {limit!r}")
    return limit


def split_names(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Exact names, and prefixes (from names written ``prefix*``)."""
    exact = [n for n in names if not n.endswith("*")]
    prefixes = [n[:-1] for n in names if n.endswith("*")]
    return exact, prefixes


def has_residual(query: JobQuery) -> bool:
    """True when filters no index answers apply (names, arguments)."""
    return bool(query.names) or query.args is not None or query.kwargs is not None


def scan_size(query: JobQuery, allowed: Collection[JobState] = ()) -> int:
    """How many candidates one page examines (``allowed`` states are a residual filter)."""
    if has_residual(query) or allowed:
        return max(query.limit + 1, query.scan)
    return query.limit + 1


Search = Callable[[JobQuery, frozenset[JobState]], JobPage]


def bulk_pick(search: Search, action: BulkAction, allowed: frozenset[JobState]) -> list[int]:
    """The ids a bulk action takes: its first ``limit`` matches in ``allowed`` states,
    newest first, found a page at a time (so each statement stays bounded).

    ``search(query, allowed)`` is the backend's search, with ``allowed`` (when not empty)
    as one more residual filter.
    """
    query = dataclasses.replace(action.query, cursor=None)
    residual = allowed
    if query.states:
        # Given states narrow the index ranges themselves.
        states = tuple(s for s in query.states if s in allowed)
        if not states:
            return []
        query, residual = dataclasses.replace(query, states=states), frozenset()
    picked: list[int] = []
    while True:
        page = search(dataclasses.replace(query, limit=query.limit - len(picked)), residual)
        picked += [int(job.id) for job in page.jobs]
        if len(picked) >= action.query.limit or page.next is None:
            return picked
        query = dataclasses.replace(query, cursor=page.next)


def cut_page(
    jobs: list[JobSummary], candidates: int, oldest_candidate: int | None, limit: int, scan: int
) -> JobPage:
    """The page, from up to ``limit + 1`` matching jobs among ``candidates`` examined out
    of at most ``scan``."""
    if len(jobs) > limit:
        jobs = jobs[:limit]
        return JobPage(jobs, encode_cursor(int(jobs[-1].id)))
    if candidates >= scan and oldest_candidate is not None:
        return JobPage(jobs, encode_cursor(oldest_candidate))  # more may match further on
    return JobPage(jobs)


def candidate_path(query: JobQuery) -> str:
    """Where a page's candidates come from: given "ids", the primary key for "all" jobs,
    or the "cells" of the (state, queue, id) index the query's states and queues name."""
    if query.ids:
        return "ids"
    if query.queues or (query.states and set(query.states) != set(ALL_STATES)):
        return "cells"
    return "all"


def query_states(query: JobQuery) -> list[str]:
    return [s.value for s in query.states or ALL_STATES]


def query_ids(query: JobQuery) -> list[int]:
    """The ids filter as integers, without ids no job can have."""
    return [key for key in (_rows.int_id(i) for i in query.ids) if key is not None]


def json_contains(document: Any, pattern: Any) -> bool:
    """PostgreSQL's ``jsonb @>`` on decoded JSON values (below the top level)."""
    if isinstance(pattern, dict):
        return isinstance(document, dict) and all(
            key in document and json_contains(document[key], value)
            for key, value in pattern.items()
        )
    if isinstance(pattern, list):
        return isinstance(document, list) and all(
            any(json_contains(item, wanted) for item in document) for wanted in pattern
        )
    return _kind(document) == _kind(pattern) and document == pattern


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def arguments_match(args: str, kwargs: str, query: JobQuery) -> bool:
    """Whether stored JSON text ``args`` and ``kwargs`` pass the query's argument filters."""
    if query.args is not None and not json_contains(json.loads(args), json.loads(query.args)):
        return False
    return query.kwargs is None or json_contains(json.loads(kwargs), json.loads(query.kwargs))


def name_matches(name: str, exact: Sequence[str], prefixes: Sequence[str]) -> bool:
    if not exact and not prefixes:
        return True
    return name in exact or any(name.startswith(p) for p in prefixes)


def summary(
    *,
    id: int,
    name: str,
    queue: str,
    state: str,
    attempt: int,
    created_at: Any,
    run_at: Any,
    started_at: Any,
    finished_at: Any,
    args: str,
    kwargs: str,
    error: str | None,
    parent_id: int | None,
    recurring_id: str | None,
    server_id: str | None,
) -> JobSummary:
    """A summary from stored column values (times already converted by the backend)."""
    failure = _rows.decode_error(error)
    return JobSummary(
        id=str(id),
        name=name,
        queue=queue,
        state=JobState(state),
        attempt=attempt,
        created_at=created_at,
        run_at=run_at,
        started_at=started_at,
        finished_at=finished_at,
        args=_rows.decode_result(args),
        kwargs=_rows.decode_result(kwargs),
        error_type=None if failure is None else failure.type,
        error_message=None if failure is None else failure.message,
        parent_id=None if parent_id is None else str(parent_id),
        recurring_id=recurring_id,
        server_id=server_id,
    )
