"""The worker side of the peers that ``benchmarks/peers.py`` runs beside Backburner.

pgqueuer: ``pgq run benchmarks.peers_apps:pgqueuer_app``,
or ``python -m benchmarks.peers_apps BATCH_SIZE`` (``PGDSN`` and
``PGQUEUER_SCHEMA`` name its database and schema). Huey: ``huey_consumer
benchmarks.peers_apps.huey`` (``PEERS_HUEY_DB`` names its SQLite file). Each has a no-op
job, the same job run on a thread (for pgqueuer, whose entrypoints are all ``async def``,
the way its documentation says to run blocking code), and a job that writes when it
started next to when it was enqueued (to ``PEERS_STAMPS``), for the latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from huey import SqliteHuey

if TYPE_CHECKING:
    from pgqueuer import PgQueuer


def stamp(enqueued_at: float) -> None:
    started = time.time()
    with open(os.environ["PEERS_STAMPS"], "a") as out:
        out.write(f"{enqueued_at} {started}\n")


def noop(i: int) -> None:
    """Does nothing."""


@contextlib.asynccontextmanager
async def pgqueuer_app() -> AsyncIterator[PgQueuer]:
    import asyncpg
    from pgqueuer import PgQueuer
    from pgqueuer.db import AsyncpgDriver

    schema = os.environ["PGQUEUER_SCHEMA"]
    conn = await asyncpg.connect(os.environ["PGDSN"], server_settings={"search_path": schema})
    pgq = PgQueuer(AsyncpgDriver(conn))

    @pgq.entrypoint("noop")
    async def async_noop(job: Any) -> None:
        pass

    @pgq.entrypoint("sync_noop")
    async def sync_noop(job: Any) -> None:
        await asyncio.to_thread(noop, int(job.payload))

    @pgq.entrypoint("stamp")
    async def async_stamp(job: Any) -> None:
        stamp(float(job.payload))

    try:
        yield pgq
    finally:
        await conn.close()


huey = SqliteHuey("peers", filename=os.environ.get("PEERS_HUEY_DB", "peers-huey.db"))
huey_noop = huey.task(name="noop")(noop)
huey_stamp = huey.task(name="stamp")(stamp)


def run_pgqueuer(batch_size: int) -> None:
    """What ``pgq run benchmarks.peers_apps:pgqueuer_app --batch-size N`` does, without
    its log set-up (which fails with the typer release installed here)."""
    import datetime as dt

    from pgqueuer.adapters.cli.cli import asyncio_run
    from pgqueuer.adapters.cli.supervisor import run

    asyncio_run(run(pgqueuer_app, batch_size=batch_size, dequeue_timeout=dt.timedelta(seconds=30)))


if __name__ == "__main__":
    import sys

    run_pgqueuer(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
