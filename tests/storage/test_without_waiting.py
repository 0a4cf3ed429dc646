"""``without_waiting()``: the calls a server makes from its event loop never block it."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from backburner._states import JobState
from backburner.storage import Storage, WouldWait
from backburner.storage.sqlite import SQLiteStorage

from .conftest import T0, new_job


def test_calls_that_need_no_lock_go_ahead(storage: Storage) -> None:
    [job_id] = storage.job_insert_many([new_job()], T0)
    if not storage.capabilities.local_writes:
        with pytest.raises(WouldWait), storage.without_waiting():
            pass
        return
    with storage.without_waiting():
        [claimed] = storage.job_claim("s1", ["default"], 5, T0)
    assert claimed.id == job_id


@pytest.fixture
def sqlite(tmp_path: Path) -> SQLiteStorage:
    store = SQLiteStorage(str(tmp_path / "jobs.db"))
    store.migrate()
    return store


def test_sqlite_gives_way_to_another_process_writing(sqlite: SQLiteStorage) -> None:
    [job_id] = sqlite.job_insert_many([new_job()], T0)
    other = sqlite3.connect(sqlite.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(WouldWait, match="another process"), sqlite.without_waiting():
            sqlite.job_claim("s1", ["default"], 5, T0)
    finally:
        other.execute("ROLLBACK")
        other.close()
    job = sqlite.job_get(job_id)
    assert job is not None
    assert job.state is JobState.ENQUEUED
    # Outside the block, and once the other writer is done, the same call goes through.
    assert [c.id for c in sqlite.job_claim("s1", ["default"], 5, T0)] == [job_id]
    sqlite.close()


def test_sqlite_gives_way_to_another_thread_writing(sqlite: SQLiteStorage) -> None:
    sqlite.job_insert_many([new_job()], T0)
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with sqlite._write():
            inside.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert inside.wait(5)
        with pytest.raises(WouldWait, match="another thread"), sqlite.without_waiting():
            sqlite.job_claim("s1", ["default"], 5, T0)
    finally:
        release.set()
        holder.join()
    assert len(sqlite.job_claim("s1", ["default"], 5, T0)) == 1
    sqlite.close()
