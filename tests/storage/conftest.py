"""One storage conformance suite, run against every backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from backburner._states import JobState
from backburner.storage import NewJob, Storage
from tests.support import postgres_storage

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    backend: str = request.param
    if backend == "memory":
        from backburner.storage.memory import MemoryStorage

        store: Storage = MemoryStorage()
    elif backend == "sqlite":
        from backburner.storage.sqlite import SQLiteStorage

        store = SQLiteStorage(str(tmp_path / "jobs.db"))
    else:
        with postgres_storage() as store:
            yield store
        return
    store.migrate()
    yield store
    store.close()


T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def new_job(
    name: str = "task",
    *,
    queue: str = "default",
    state: JobState = JobState.ENQUEUED,
    run_at: dt.datetime = T0,
    args: str = "[]",
    **extra: object,
) -> NewJob:
    return NewJob(
        name=name,
        queue=queue,
        args=args,
        kwargs="{}",
        state=state,
        run_at=run_at,
        **extra,  # type: ignore[arg-type]
    )
