"""Whether the drain stays as fast as the jobs table grows, and the server's memory flat.

    .venv/bin/python benchmarks/growth.py --storage postgres \\
        --url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/growth.py --storage sqlite [--finished 5000000] \\
        [--waiting 1000000] [--drain 20000] [--memory]

In one run, each on new storage (a PostgreSQL schema or SQLite file, removed afterwards):

- **empty**: ``--drain`` no-op jobs enqueued, then drained by one ``backburner server``
  process with its defaults;
- **finished**: the same after ``--finished`` succeeded and failed jobs of another queue
  were written to the table (finished within the last hours, so that retention keeps
  them; in another queue so that this benchmark's own counts of the drained jobs, read
  by state and queue, need not step over them);
- **waiting**: the first ``--drain`` of ``--waiting`` enqueued no-op jobs;
- **empty** again, to show how far the machine drifted meanwhile.

The rate is jobs divided by the time from the first start to the last end, read from the
job rows. ``--memory`` then lets the "waiting" server drain all ``--waiting`` jobs and
prints its resident memory as it goes. On PostgreSQL the plan of the claim on the full
table (``EXPLAIN (ANALYZE, BUFFERS)``, rolled back) is printed too.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench import (  # noqa: E402
    PostgresTarget,
    SQLiteTarget,
    Target,
    cpu_yardstick,
    server_process,
)

NOOP = "bench.noop"  # benchmarks.benchapp.NOOP (importing it builds its app)

WORKERS = 10  # the default of `backburner server`

FINISHED_POSTGRES = """
INSERT INTO {schema}.bb_jobs (name, queue, state, args, kwargs, created_at, run_at,
                             started_at, finished_at, attempt, server_id, error, history)
SELECT 'reports.daily', 'reports', CASE WHEN i %% 50 = 0 THEN 'failed' ELSE 'succeeded' END,
       '[' || i || ']', '{}', now() - interval '1 ms' * i, now() - interval '1 ms' * i,
       now() - interval '1 ms' * i, now() - interval '1 ms' * i + interval '1 ms', 1,
       'server-1', CASE WHEN i %% 50 = 0 THEN
           '{"type": "ValueError", "message": "boom", "traceback": "Traceback ..."}' END,
       '[["enqueued", 0, null], ["processing", 0, "claimed"], ["succeeded", 0, null]]'
FROM generate_series(1, %(rows)s) AS i
"""

WAITING_POSTGRES = """
INSERT INTO {schema}.bb_jobs (name, queue, state, args, kwargs, created_at, run_at, history)
SELECT %(name)s, 'default', 'enqueued', '[' || i || ']', '{}',
       now() - interval '1 hour' + interval '1 us' * i,
       now() - interval '1 hour' + interval '1 us' * i, '[]'
FROM generate_series(1, %(rows)s) AS i
"""

FINISHED_SQLITE = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
INSERT INTO bb_jobs (name, queue, state, args, kwargs, created_at, run_at, started_at,
                     finished_at, attempt, server_id, error, history)
SELECT 'reports.daily', 'reports', CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'succeeded' END,
       '[' || i || ']', '{}', ?2 - i * 0.001, ?2 - i * 0.001, ?2 - i * 0.001,
       ?2 - i * 0.001 + 0.001, 1, 'server-1',
       CASE WHEN i % 50 = 0 THEN
           '{"type": "ValueError", "message": "boom", "traceback": "Traceback ..."}' END,
       '[]'
FROM n
"""

WAITING_SQLITE = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
INSERT INTO bb_jobs (name, queue, state, args, kwargs, created_at, run_at, history)
SELECT ?3, 'default', 'enqueued', '[' || i || ']', '{}', ?2 - 3600 + i * 1e-6,
       ?2 - 3600 + i * 1e-6, '[]'
FROM n
"""


class Store:
    """Direct SQL on one benchmark storage: filling it and reading the drain's rows."""

    def __init__(self, target: Target, url: str) -> None:
        self.url = url
        self.postgres = isinstance(target, PostgresTarget)
        if self.postgres:
            import psycopg

            self.schema = dict(
                p.split("=", 1) for p in url.split("?", 1)[1].split("&") if "=" in p
            )["schema"]
            self._pg = psycopg.connect(url.split("?", 1)[0], autocommit=True)
        else:
            self._path = url.removeprefix("sqlite:///").split("?", 1)[0]

    def close(self) -> None:
        if self.postgres:
            self._pg.close()

    def migrate(self) -> None:
        from backburner import Backburner

        app = Backburner(self.url)
        app.migrate()
        app.close()

    def execute(self, postgres: str, sqlite: str, rows: int, name: str = NOOP) -> None:
        if self.postgres:
            self._pg.execute(
                postgres.replace("{schema}", f'"{self.schema}"').encode(),
                {"rows": rows, "name": name},
            )
            self._pg.execute(f'VACUUM ANALYZE "{self.schema}".bb_jobs')
        else:
            with contextlib.closing(sqlite3.connect(self._path)) as conn:
                params = (rows, time.time(), name) if "?3" in sqlite else (rows, time.time())
                conn.execute(sqlite, params)
                conn.commit()
                conn.execute("ANALYZE")

    def query(self, sql: str) -> tuple[Any, ...]:
        if self.postgres:
            row = self._pg.execute(sql.replace("{schema}", f'"{self.schema}"')).fetchone()
        else:
            with contextlib.closing(sqlite3.connect(self._path)) as conn:
                row = conn.execute(sql.replace("{schema}.", "")).fetchone()
        assert row is not None
        return tuple(row)

    def done(self) -> int:
        return int(
            self.query(
                f"SELECT count(*) FROM {{schema}}.bb_jobs "
                f"WHERE state = 'succeeded' AND queue = 'default' AND name = '{NOOP}'"
            )[0]
        )

    def rate(self) -> float:
        count, first, last = self.query(
            f"SELECT count(*), min(started_at), max(finished_at) FROM {{schema}}.bb_jobs "
            f"WHERE state = 'succeeded' AND queue = 'default' AND name = '{NOOP}'"
        )
        span = float((last - first).total_seconds() if self.postgres else last - first)
        return float(count) / span

    def explain_claim(self) -> str:
        import datetime as dt

        from backburner.storage.postgres._base import _QUERIES, quote
        from backburner.storage.postgres._claims import claim_params

        text = _QUERIES["claim"].replace("{schema}", quote(self.schema))
        params = claim_params("explain", ["default"], 100, dt.datetime.now(dt.UTC))
        with self._pg.transaction(force_rollback=True):
            rows = self._pg.execute(f"EXPLAIN (ANALYZE, BUFFERS) {text}".encode(), params)
            return "\n".join(r[0] for r in rows.fetchall())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def drain(
    store: Store, jobs: int, log: IO[bytes], memory: int = 0, say: Callable[[str], None] = print
) -> float:
    """Drain until ``jobs`` no-ops succeeded; the rate. With ``memory``, go on to that many
    and print the server's memory on the way."""
    with server_process(store.url, WORKERS, log) as process:
        deadline = time.monotonic() + 600
        while store.done() < jobs:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server stopped or took too long")
            time.sleep(0.05)
        rate = store.rate()
        if memory:
            say(f"  memory: {store.done():>9,} done, {rss_mb(process.pid):6.1f} MB")
            mark = time.monotonic()
            while (done := store.done()) < memory:
                if process.poll() is not None:
                    raise RuntimeError("the server stopped")
                if time.monotonic() - mark >= 10:
                    say(f"  memory: {done:>9,} done, {rss_mb(process.pid):6.1f} MB")
                    mark = time.monotonic()
                time.sleep(0.5)
            say(f"  memory: {store.done():>9,} done, {rss_mb(process.pid):6.1f} MB")
    return rate


@contextlib.contextmanager
def fresh(target: Target) -> Iterator[Store]:
    store = Store(target, target.fresh())
    store.migrate()
    try:
        yield store
    finally:
        store.close()


def measure(args: argparse.Namespace, target: Target, log: IO[bytes]) -> list[tuple[str, float]]:
    from backburner import Backburner
    from benchmarks.bench import bench_jobs

    def enqueue(store: Store) -> None:
        app = Backburner(store.url)
        job = bench_jobs(app).noop
        for first in range(0, args.drain, 10_000):
            job.enqueue_many([(i,) for i in range(first, min(args.drain, first + 10_000))])
        app.close()

    results: list[tuple[str, float]] = []

    def empty(label: str) -> None:
        with fresh(target) as store:
            enqueue(store)
            results.append((label, drain(store, args.drain, log)))
            print(f"{label}: {results[-1][1]:,.0f} jobs/s", flush=True)

    empty("empty table")
    with fresh(target) as store:
        started = time.monotonic()
        store.execute(FINISHED_POSTGRES, FINISHED_SQLITE, args.finished)
        print(f"  ({args.finished:,} finished jobs written in {time.monotonic() - started:.0f} s)")
        enqueue(store)
        label = f"{args.finished:,} finished jobs in the table"
        results.append((label, drain(store, args.drain, log)))
        print(f"{label}: {results[-1][1]:,.0f} jobs/s", flush=True)
    with fresh(target) as store:
        started = time.monotonic()
        store.execute(WAITING_POSTGRES, WAITING_SQLITE, args.waiting)
        print(f"  ({args.waiting:,} waiting jobs written in {time.monotonic() - started:.0f} s)")
        if store.postgres:
            print("claim of 100 jobs on the full table:")
            print(store.explain_claim())
        label = f"{args.waiting:,} jobs waiting"
        results.append((label, drain(store, args.drain, log, args.waiting if args.memory else 0)))
        print(f"{label}: {results[-1][1]:,.0f} jobs/s", flush=True)
    empty("empty table, again")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--storage", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--finished", type=int, default=5_000_000)
    parser.add_argument("--waiting", type=int, default=1_000_000)
    parser.add_argument("--drain", type=int, default=20_000, help="jobs drained per measure")
    parser.add_argument("--memory", action="store_true", help="drain every waiting job")
    args = parser.parse_args()
    target: Target = SQLiteTarget() if args.storage == "sqlite" else PostgresTarget(args.url)
    target.prepare()
    before = cpu_yardstick()
    try:
        with tempfile.TemporaryFile(prefix="backburner-growth-") as log:
            results = measure(args, target, log)
    finally:
        target.cleanup()
    after = cpu_yardstick()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    base = (results[0][1] + results[-1][1]) / 2
    print(f"\n{args.storage}: yardstick {before:.2f} s before, {after:.2f} s after; load {load}")
    print(f"\n| {args.storage}, `def` no-ops, {WORKERS} workers | jobs/s | of empty |")
    print("|---|---|---|")
    for label, rate in results:
        print(f"| {label} | {rate:,.0f} | {rate / base:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
