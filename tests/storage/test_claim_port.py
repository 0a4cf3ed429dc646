"""``claim_port()``: a server's claims and outcomes, awaited on its event loop.

On every backend they mean what ``job_claim`` and ``job_finish_many`` mean; on SQLite
they never block the loop while another thread or process holds the write lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backburner._states import JobState
from backburner.storage import ClaimPort, Outcome, Storage
from backburner.storage._ports import ThreadedPort
from backburner.storage.sqlite import SQLiteStorage
from backburner.storage.sqlite._port import WouldWait

from .conftest import T0, at, new_job


def _port(storage: Storage, which: str) -> ClaimPort:
    """The storage's own port, or the threaded one a backend may fall back on."""
    return storage.claim_port() if which == "own" else ThreadedPort(storage)


@pytest.mark.parametrize("which", ["own", "threaded"])
def test_the_port_claims_and_records_like_the_storage_verbs(storage: Storage, which: str) -> None:
    storage.job_insert_many([new_job(queue="low")], T0)
    [first, second, third] = storage.job_insert_many([new_job(args=f"[{i}]") for i in range(3)], T0)
    [child] = storage.job_insert_many(
        [new_job(state=JobState.AWAITING, parent_id=first, continue_on="succeeded")], T0
    )

    async def server_side() -> tuple[list[str], list[int], list[str], list[str]]:
        port = _port(storage, which)
        try:
            claimed = await port.job_claim("s1", ["default", "low"], 2, at(1))
            recorded = await port.job_finish_many(
                [
                    Outcome(first, "s1", 1, JobState.SUCCEEDED, at(2), result="7"),
                    Outcome(second, "s1", 2, JobState.SUCCEEDED, at(2)),  # a stale attempt
                ]
            )
            nothing = await port.job_claim("s1", [], 5, at(3))
            return (
                [c.id for c in claimed],
                [c.attempt for c in claimed],
                recorded,
                [c.id for c in nothing],
            )
        finally:
            await port.close()

    claimed, attempts, recorded, nothing = asyncio.run(server_side())
    assert (claimed, attempts, recorded, nothing) == ([first, second], [1, 1], [first], [])
    states = {job_id: storage.job_get(job_id) for job_id in (first, second, third, child)}
    assert {job_id: job.state for job_id, job in states.items() if job} == {
        first: JobState.SUCCEEDED,
        second: JobState.PROCESSING,
        third: JobState.ENQUEUED,
        child: JobState.ENQUEUED,  # released with its parent's outcome
    }
    done = states[first]
    assert done is not None
    assert done.result == 7
    assert done.server_id == "s1"


@pytest.mark.parametrize("which", ["own", "threaded"])
def test_claims_and_outcomes_may_be_awaited_side_by_side(storage: Storage, which: str) -> None:
    ids = storage.job_insert_many([new_job() for _ in range(40)], T0)

    async def server_side() -> list[str]:
        port = _port(storage, which)
        try:
            claimed = await port.job_claim("s1", ["default"], 20, at(1))
            outcomes = [Outcome(c.id, "s1", 1, JobState.SUCCEEDED, at(2)) for c in claimed]
            more, recorded = await asyncio.gather(
                port.job_claim("s1", ["default"], 20, at(2)), port.job_finish_many(outcomes)
            )
            assert sorted(recorded) == sorted(c.id for c in claimed)
            return [c.id for c in claimed + more]
        finally:
            await port.close()

    assert sorted(asyncio.run(server_side())) == sorted(ids)
    counts = {state: n for state, n in storage.job_counts().items() if n}
    assert counts == {JobState.SUCCEEDED: 20, JobState.PROCESSING: 20}


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[SQLiteStorage]:
    store = SQLiteStorage(str(tmp_path / "jobs.db"))
    store.migrate()
    yield store
    store.close()


async def _claim_while_locked(sqlite: SQLiteStorage, unlock: object) -> list[str]:
    """Claim through the port while the write lock is held; count the loop's turns."""
    port = sqlite.claim_port()
    try:
        claim = asyncio.ensure_future(port.job_claim("s1", ["default"], 5, at(1)))
        turns = 0
        for _ in range(10):  # the loop goes on while the claim waits
            await asyncio.sleep(0.01)
            turns += 1
        assert not claim.done()
        assert turns == 10
        unlock()  # type: ignore[operator]
        return [c.id for c in await asyncio.wait_for(claim, 10)]
    finally:
        await port.close()


def test_sqlite_claims_off_the_loop_while_another_process_writes(sqlite: SQLiteStorage) -> None:
    [job_id] = sqlite.job_insert_many([new_job()], T0)
    other = sqlite3.connect(sqlite.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        claimed = asyncio.run(_claim_while_locked(sqlite, lambda: other.execute("ROLLBACK")))
    finally:
        other.close()
    assert claimed == [job_id]


def test_sqlite_claims_off_the_loop_while_another_thread_writes(sqlite: SQLiteStorage) -> None:
    [job_id] = sqlite.job_insert_many([new_job()], T0)
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
        claimed = asyncio.run(_claim_while_locked(sqlite, release.set))
    finally:
        release.set()
        holder.join()
    assert claimed == [job_id]


def test_sqlite_gives_way_to_another_process_writing(sqlite: SQLiteStorage) -> None:
    [job_id] = sqlite.job_insert_many([new_job()], T0)
    other = sqlite3.connect(sqlite.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(WouldWait, match="another process"), sqlite._without_waiting():
            sqlite.job_claim("s1", ["default"], 5, T0)
    finally:
        other.execute("ROLLBACK")
        other.close()
    job = sqlite.job_get(job_id)
    assert job is not None
    assert job.state is JobState.ENQUEUED
    # Outside the block, and once the other writer is done, the same call goes through.
    assert [c.id for c in sqlite.job_claim("s1", ["default"], 5, T0)] == [job_id]


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
        with pytest.raises(WouldWait, match="another thread"), sqlite._without_waiting():
            sqlite.job_claim("s1", ["default"], 5, T0)
    finally:
        release.set()
        holder.join()
    assert len(sqlite.job_claim("s1", ["default"], 5, T0)) == 1
