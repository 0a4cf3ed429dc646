"""How long the read model's calls take on a big table (a dashboard over millions of jobs).

    .venv/bin/python benchmarks/read_model.py --url postgresql://postgres@127.0.0.1/test
    .venv/bin/python benchmarks/read_model.py --storage sqlite [--jobs 1000000] [--explain]

Fills a scratch PostgreSQL schema (dropped afterwards) or SQLite file with ``--jobs``
finished jobs in one ``INSERT ... SELECT`` (95% succeeded, 4% failed, 1% deleted, over 5
queues and 8 names) plus 20,000 waiting ones, analyzes it, then times each call: the best
of 5, after one warm-up. ``--explain`` prints each PostgreSQL statement's plan
(``EXPLAIN (ANALYZE, BUFFERS)``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backburner._states import JobState  # noqa: E402
from backburner.storage import (  # noqa: E402
    BulkAction,
    CountQuery,
    JobQuery,
    NamesQuery,
    Storage,
)

NAMES = (
    "'emails.welcome','emails.digest','reports.daily','reports.weekly','billing.charge',"
    "'billing.refund','images.resize','search.reindex'"
)
QUEUES = "'default','emails','reports','billing','images'"

FILL_POSTGRES = f"""
INSERT INTO {{schema}}.bb_jobs (name, queue, state, args, kwargs, created_at, run_at,
                               started_at, finished_at, attempt, server_id, error, history)
SELECT (ARRAY[{NAMES}])[1 + i % 8], (ARRAY[{QUEUES}])[1 + (i / 7) % 5],
       CASE WHEN i % 100 < 95 THEN 'succeeded' WHEN i % 100 < 99 THEN 'failed'
            ELSE 'deleted' END,
       '[' || i || ', "x"]', '{{"user_id": ' || (i % 5000) || '}}',
       now() - interval '1 second' * (%(jobs)s - i), now() - interval '1 second' * (%(jobs)s - i),
       now() - interval '1 second' * (%(jobs)s - i),
       now() - interval '1 second' * (%(jobs)s - i) + interval '10 ms', 1, 'server-1',
       CASE WHEN i % 100 BETWEEN 95 AND 98 THEN
           '{{"type": "ValueError", "message": "boom", "traceback": "Traceback ..."}}' END,
       '[["enqueued", 0, null], ["processing", 0, "claimed"], ["succeeded", 0, null]]'
FROM generate_series(1, %(jobs)s) AS i;
INSERT INTO {{schema}}.bb_jobs (name, queue, state, args, kwargs, created_at, run_at, history)
SELECT 'emails.welcome', (ARRAY['default', 'emails'])[1 + i % 2],
       CASE WHEN i % 10 = 0 THEN 'scheduled' ELSE 'enqueued' END, '[' || i || ']', '{{}}', now(),
       now() + CASE WHEN i % 10 = 0 THEN interval '1 hour' ELSE interval '0' END, '[]'
FROM generate_series(1, 20000) AS i;
"""

FILL_SQLITE = f"""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
INSERT INTO bb_jobs (name, queue, state, args, kwargs, created_at, run_at, started_at,
                     finished_at, attempt, server_id, error, history)
SELECT json_array({NAMES}) ->> (i % 8), json_array({QUEUES}) ->> ((i / 7) % 5),
       CASE WHEN i % 100 < 95 THEN 'succeeded' WHEN i % 100 < 99 THEN 'failed'
            ELSE 'deleted' END,
       '[' || i || ', "x"]', '{{"user_id": ' || (i % 5000) || '}}', 1e9 + i, 1e9 + i, 1e9 + i,
       1e9 + i + 0.01, 1, 'server-1',
       CASE WHEN i % 100 BETWEEN 95 AND 98 THEN
           '{{"type": "ValueError", "message": "boom", "traceback": "Traceback ..."}}' END,
       '[]'
FROM n;
"""

S = JobState
CALLS: list[tuple[str, Callable[[Storage], Any]]] = [
    ("search, no filter (newest 50)", lambda s: s.job_search(JobQuery())),
    ("search, limit 1,000", lambda s: s.job_search(JobQuery(limit=1000))),
    ("search, state failed", lambda s: s.job_search(JobQuery(states=(S.FAILED,)))),
    (
        "search, state failed + queue billing",
        lambda s: s.job_search(JobQuery(states=(S.FAILED,), queues=("billing",))),
    ),
    ("search, queue reports", lambda s: s.job_search(JobQuery(queues=("reports",)))),
    ("search, name emails.*", lambda s: s.job_search(JobQuery(names=("emails.*",)))),
    (
        "search, state failed + name emails.*",
        lambda s: s.job_search(JobQuery(states=(S.FAILED,), names=("emails.*",))),
    ),
    (
        "search, kwargs {user_id: 42} (10,000 examined)",
        lambda s: s.job_search(JobQuery(kwargs='{"user_id": 42}')),
    ),
    (
        "search, state failed + kwargs (10,000 examined)",
        lambda s: s.job_search(JobQuery(states=(S.FAILED,), kwargs='{"user_id": 42}')),
    ),
    ("search, 3 ids", lambda s: s.job_search(JobQuery(ids=("5", "77", "999999")))),
    ("counts by queue and state", lambda s: s.job_count_cells(CountQuery())),
    ("queue names", lambda s: s.queue_names(NamesQuery())),
    ("job names", lambda s: s.job_names(NamesQuery())),
    ("oldest enqueued per queue", lambda s: s.queue_oldest_enqueued()),
]


NOW = dt.datetime.now(dt.UTC)
BULK: list[tuple[str, Callable[[Storage], int]]] = [
    (
        "requeue_many, failed in billing",
        lambda s: s.job_requeue_many(
            BulkAction(JobQuery(states=(S.FAILED,), queues=("billing",), limit=1000), NOW, "x")
        ),
    ),
    (
        "delete_many, name reports.weekly",
        lambda s: s.job_delete_many(
            BulkAction(JobQuery(names=("reports.weekly",), limit=1000), NOW, "x")
        ),
    ),
]


def best_of(call: Callable[[], Any], runs: int = 5) -> float:
    call()
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def fill_postgres(url: str, schema: str, jobs: int) -> None:
    """Add ``jobs`` finished jobs and 20,000 waiting ones to the migrated ``schema``, in
    set-based statements, then vacuum and analyze the table."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in FILL_POSTGRES.replace("{schema}", schema).split(";\n"):
            if "%(jobs)s" in statement:
                # With parameters, "%" is a placeholder: the modulo operator is "%%".
                conn.execute(statement.replace(" % ", " %% "), {"jobs": jobs})
            elif statement.strip():
                conn.execute(statement.encode())
        conn.execute(f"VACUUM ANALYZE {schema}.bb_jobs")


def fill_sqlite(path: str, jobs: int) -> None:
    """Add ``jobs`` finished jobs to the migrated SQLite file ``path`` in one statement."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(FILL_SQLITE, (jobs,))
        conn.commit()


@contextlib.contextmanager
def postgres(url: str, jobs: int) -> Iterator[Storage]:
    import psycopg

    from backburner.storage.postgres import PostgresStorage

    schema = f"bench_read_{uuid.uuid4().hex[:8]}"
    store = PostgresStorage(url, schema=schema)
    try:
        store.migrate()
        fill_postgres(url, schema, jobs)
        yield store
    finally:
        store.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextlib.contextmanager
def sqlite(jobs: int) -> Iterator[Storage]:
    from backburner.storage.sqlite import SQLiteStorage

    with tempfile.TemporaryDirectory(prefix="backburner-read-") as folder:
        path = str(Path(folder) / "jobs.db")
        store = SQLiteStorage(path)
        store.migrate()
        fill_sqlite(path, jobs)
        try:
            yield store
        finally:
            store.close()


def explain(store: Storage, call: Callable[[Storage], Any]) -> str:
    """The plan of the (first) statement ``call`` makes, run with EXPLAIN ANALYZE."""
    captured: list[tuple[str, Any]] = []
    run = store._run  # type: ignore[attr-defined]

    def capture(query: str, params: Any = None) -> Any:
        captured.append((query, params))
        return run(query, params)

    store._run = capture  # type: ignore[attr-defined]
    try:
        call(store)
    finally:
        del store._run  # type: ignore[attr-defined]
    query, params = captured[0]
    sql = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + store._q[query]  # type: ignore[attr-defined]
    rows = store._work(lambda conn: conn.execute(sql, params).fetchall())  # type: ignore[attr-defined]
    return "\n".join(line for (line,) in rows if "never executed" not in line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--storage", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    opened = postgres(args.url, args.jobs) if args.storage == "postgres" else sqlite(args.jobs)
    with opened as store:
        print(f"{args.jobs:,} finished jobs filled in {time.perf_counter() - start:.1f} s\n")
        print("| Call | Best of 5 |\n|---|---|")
        for label, call in CALLS:
            took = best_of(lambda: call(store))  # noqa: B023 - called before the loop goes on
            print(f"| {label} | {took * 1000:.1f} ms |")
        for label, act in BULK:
            start = time.perf_counter()
            changed = act(store)
            took = time.perf_counter() - start
            print(f"| {label} ({changed:,} jobs, once) | {took * 1000:.1f} ms |")
        if args.explain and args.storage == "postgres":
            for label, call in CALLS:
                print(f"\n#### {label}\n\n```\n{explain(store, call)}\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
