"""Paused queues: every backend keeps the pause, and no claim takes a paused queue's jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from backburner._records import QueuePause
from backburner._states import JobState
from backburner.storage import Storage

from .conftest import T0, at, new_job


@contextmanager
def reopened(storage: Storage) -> Iterator[Storage]:
    """Another storage on the same database, as a restarted process opens it."""
    from backburner.storage.postgres import PostgresStorage
    from backburner.storage.sqlite import SQLiteStorage
    from tests.support import POSTGRES_URL

    if isinstance(storage, SQLiteStorage):
        other: Storage = SQLiteStorage(storage.path)
    elif isinstance(storage, PostgresStorage):
        other = PostgresStorage(POSTGRES_URL, schema=storage.schema)
    else:
        pytest.skip("memory storage keeps nothing once closed")
    try:
        yield other
    finally:
        other.close()


def test_a_paused_queue_is_listed_with_its_time_and_reason(storage: Storage) -> None:
    assert storage.queue_pauses() == []
    assert storage.queue_pause("emails", at(1), "paused by ann")
    assert storage.queue_pause("billing", at(2), "paused by hand")
    assert storage.queue_pauses() == [
        QueuePause("billing", at(2), "paused by hand"),
        QueuePause("emails", at(1), "paused by ann"),
    ]


def test_pausing_twice_keeps_the_first_pause(storage: Storage) -> None:
    assert storage.queue_pause("emails", at(1), "paused by ann")
    assert not storage.queue_pause("emails", at(5), "paused by bob")
    assert storage.queue_pauses() == [QueuePause("emails", at(1), "paused by ann")]


def test_resume_says_whether_the_queue_was_paused(storage: Storage) -> None:
    assert not storage.queue_resume("emails")
    storage.queue_pause("emails", at(1), "paused")
    assert storage.queue_resume("emails")
    assert not storage.queue_resume("emails")
    assert storage.queue_pauses() == []


def test_a_queue_with_no_jobs_can_be_paused(storage: Storage) -> None:
    assert storage.queue_pause("not-used-yet", at(1), "paused")
    [job_id] = storage.job_insert_many([new_job(queue="not-used-yet")], at(2))
    assert storage.job_claim("s1", ["not-used-yet"], 10, at(3)) == []
    assert storage.job_get(job_id).state is JobState.ENQUEUED  # type: ignore[union-attr]


def test_a_paused_queues_jobs_are_not_claimed_while_others_are(storage: Storage) -> None:
    emails = storage.job_insert_many([new_job(queue="emails") for _ in range(3)], T0)
    default = storage.job_insert_many([new_job() for _ in range(2)], T0)
    storage.queue_pause("emails", at(1), "paused")
    claimed = storage.job_claim("s1", ["emails", "default"], 10, at(2))
    assert [c.id for c in claimed] == default
    assert storage.job_claim("s1", ["emails"], 10, at(2)) == []
    assert {storage.job_get(i).state for i in emails} == {JobState.ENQUEUED}  # type: ignore[union-attr]


def test_enqueueing_into_a_paused_queue_works(storage: Storage) -> None:
    storage.queue_pause("emails", at(1), "paused")
    ids = storage.job_insert_many([new_job(queue="emails") for _ in range(2)], at(2))
    assert [storage.job_get(i).state for i in ids] == [JobState.ENQUEUED] * 2  # type: ignore[union-attr]
    assert storage.queue_counts().get("emails") == 2


def test_resuming_makes_the_jobs_claimable_again_in_order(storage: Storage) -> None:
    storage.queue_pause("emails", T0, "paused")
    ids = storage.job_insert_many([new_job(queue="emails") for _ in range(3)], at(1))
    assert storage.job_claim("s1", ["emails"], 10, at(2)) == []
    assert storage.queue_resume("emails")
    assert [c.id for c in storage.job_claim("s1", ["emails"], 10, at(3))] == ids


def test_the_claim_port_skips_a_paused_queue_too(storage: Storage) -> None:
    [paused] = storage.job_insert_many([new_job(queue="emails")], T0)
    [running] = storage.job_insert_many([new_job()], T0)
    storage.queue_pause("emails", at(1), "paused")

    async def claim() -> list[str]:
        port = storage.claim_port()
        try:
            return [c.id for c in await port.job_claim("s1", ["emails", "default"], 10, at(2))]
        finally:
            await port.close()

    assert asyncio.run(claim()) == [running]
    storage.queue_resume("emails")
    assert asyncio.run(claim()) == [paused]


def test_a_pause_survives_reopening_the_storage(storage: Storage) -> None:
    storage.queue_pause("emails", at(1), "paused by ann")
    [job_id] = storage.job_insert_many([new_job(queue="emails")], at(1))
    with reopened(storage) as other:
        assert other.queue_pauses() == [QueuePause("emails", at(1), "paused by ann")]
        assert other.job_claim("s1", ["emails"], 10, at(2)) == []
        assert other.queue_resume("emails")
    assert storage.queue_pauses() == []
    assert [c.id for c in storage.job_claim("s1", ["emails"], 10, at(3))] == [job_id]
