"""Rough throughput of the PostgreSQL backend: bulk insert, and claim + finish.

    .venv/bin/python -m benchmarks.pg_storage_probe [--jobs 100000] [--workers 4]

Runs in a fresh schema of the test database (BACKBURNER_TEST_POSTGRES) and drops it after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import threading
import time

from tests.support import POSTGRES_URL, drop_schema, fresh_schema

from backburner._states import JobState
from backburner.storage import NewJob, Outcome
from backburner.storage.postgres import PostgresStorage

UTC = dt.UTC


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs per bulk insert")
    parser.add_argument("--batch", type=int, default=100, help="jobs per claim and finish")
    parser.add_argument("--workers", type=int, default=4, help="claiming threads")
    parser.add_argument("--rounds", type=int, default=3, help="bulk inserts to time")
    options = parser.parse_args()

    schema = fresh_schema()
    store = PostgresStorage(POSTGRES_URL, schema=schema)
    try:
        store.migrate()
        bulk_insert(store, options.jobs, options.rounds, varied=False)
        bulk_insert(store, options.jobs, options.rounds, varied=True)
        for workers in sorted({1, options.workers}):
            claim_and_finish(store, options.batch, workers)
            claim_and_finish(store, 1, workers)
    finally:
        store.close()
        drop_schema(schema)


def bulk_insert(store: PostgresStorage, count: int, rounds: int, *, varied: bool) -> None:
    """``varied``: every column differs from job to job, the costliest batch to encode."""
    now = dt.datetime.now(UTC)
    jobs = [
        NewJob(
            name=f"emails.send{i % 7}" if varied else "emails.send",
            queue=("default", "critical")[i % 2] if varied else "default",
            args=f'[{i},"user{i}@example.com",{{"__bb__":"uuid","v":"00000000-0000-0000-0000-{i:012d}"}}]',
            kwargs=f'{{"retry":{i}}}' if varied else "{}",
            state=JobState.ENQUEUED,
            run_at=now + dt.timedelta(microseconds=i) if varied else now,
            reason=f"batch {i}" if varied else None,
        )
        for i in range(count)
    ]
    kind = "varied" if varied else "uniform"
    for _ in range(rounds):
        started = time.perf_counter()
        ids = store.job_insert_many(jobs, now)
        elapsed = time.perf_counter() - started
        assert len(ids) == count
        print(
            f"insert_many, {kind} batch: {count} jobs in {elapsed:.3f}s"
            f" = {count / elapsed:,.0f} jobs/s"
        )


def claim_and_finish(store: PostgresStorage, batch: int, workers: int) -> None:
    """Every worker claims ``batch`` jobs and reports them all succeeded, until time is up."""
    done = [0] * workers
    stop = time.perf_counter() + 5.0

    def work(index: int) -> None:
        server_id = f"probe-{index}"
        while time.perf_counter() < stop:
            now = dt.datetime.now(UTC)
            claimed = store.job_claim(server_id, ["critical", "default"], batch, now)
            if not claimed:
                return
            outcomes = [
                Outcome(c.id, server_id, c.attempt, JobState.SUCCEEDED, now, result="null")
                for c in claimed
            ]
            done[index] += len(store.job_finish_many(outcomes))

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    total = sum(done)
    print(
        f"claim+finish, {workers} threads, batches of {batch}: "
        f"{total} jobs in {elapsed:.2f}s = {total / elapsed:,.0f} jobs/s"
    )


if __name__ == "__main__":
    main()
