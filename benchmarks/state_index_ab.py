"""What the (state, queue, id) shape of ``bb_jobs_state`` costs the hot paths: A/B.

    .venv/bin/python benchmarks/state_index_ab.py --storage postgres [--rounds 40]
    .venv/bin/python benchmarks/state_index_ab.py --storage sqlite

Two stores side by side in one process: "new" as migrated, "old" with the index put back
to ``(state, id)``. Each round enqueues 4,000 jobs into each (2,000 in one call, then
calls of 100) and then claims and finishes them 50 at a time; the stores take turns going
first. On a shared machine the speed drifts within seconds, so the figure that counts is
the ratio new/old of the two stores' rates within one round, over many rounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backburner._states import JobState  # noqa: E402
from backburner.storage import NewJob, Outcome, Storage  # noqa: E402

OLD_INDEX = ["DROP INDEX bb_jobs_state", "CREATE INDEX bb_jobs_state ON bb_jobs (state, id)"]


def postgres_store(url: str, old: bool) -> tuple[Storage, str]:
    import psycopg

    from backburner.storage.postgres import PostgresStorage

    schema = f"bench_ab_{uuid.uuid4().hex[:8]}"
    store = PostgresStorage(url, schema=schema, notifications=False)
    store.migrate()
    if old:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"SET search_path = {schema}".encode())
            for statement in [*OLD_INDEX, "DROP STATISTICS bb_jobs_state_queue"]:
                conn.execute(statement.encode())
    return store, schema


def sqlite_store(folder: str, old: bool) -> Storage:
    from backburner.storage.sqlite import SQLiteStorage

    store = SQLiteStorage(str(Path(folder) / f"{'old' if old else 'new'}.db"))
    store.migrate()
    if old:
        for statement in OLD_INDEX:
            store._db.writer().execute(statement)
    return store


def one_round(store: Storage, jobs: int = 4000, batch: int = 50) -> tuple[float, float]:
    """Enqueue rate, then claim-and-finish rate (jobs/s)."""
    now = dt.datetime.now(dt.UTC)
    new = [
        NewJob("t", ("a", "b")[i % 2], f"[{i}]", "{}", JobState.ENQUEUED, now) for i in range(jobs)
    ]
    start = time.perf_counter()
    store.job_insert_many(new[: jobs // 2], now)
    for i in range(jobs // 2, jobs, 100):
        store.job_insert_many(new[i : i + 100], now)
    enqueued = time.perf_counter()
    done = 0
    while claimed := store.job_claim("bench", ["a", "b"], batch, now):
        store.job_finish_many(
            [
                Outcome(c.id, "bench", c.attempt, JobState.SUCCEEDED, now, result="null")
                for c in claimed
            ]
        )
        done += len(claimed)
    finished = time.perf_counter()
    return jobs / (enqueued - start), done / (finished - enqueued)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--storage", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory(prefix="backburner-ab-")
    schemas: list[str] = []
    stores: dict[str, Storage] = {}
    for variant in ("old", "new"):
        if args.storage == "postgres":
            stores[variant], schema = postgres_store(args.url, variant == "old")
            schemas.append(schema)
        else:
            stores[variant] = sqlite_store(folder.name, variant == "old")
    rates: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    try:
        for number in range(args.rounds):
            for variant in ("old", "new") if number % 2 == 0 else ("new", "old"):
                rates[variant].append(one_round(stores[variant]))
    finally:
        for store in stores.values():
            store.close()
        if schemas:
            import psycopg

            with psycopg.connect(args.url, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())
        folder.cleanup()
    for index, what in ((0, "enqueue"), (1, "claim + finish")):
        old = [r[index] for r in rates["old"]]
        new = [r[index] for r in rates["new"]]
        ratio = statistics.median(n / o for n, o in zip(new, old, strict=True))
        print(
            f"{args.storage} {what}: old median {statistics.median(old):,.0f} jobs/s, "
            f"new median {statistics.median(new):,.0f} jobs/s, "
            f"new/old per round median {ratio:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
