"""Recurring-job verbs every storage backend must share."""

from __future__ import annotations

import threading

from backburner._states import JobState
from backburner.storage import RecurringDefinition, Storage

from .conftest import T0, at, new_job


def definition(
    recurring_id: str = "daily-report",
    cron: str = "0 6 * * *",
    timezone: str = "UTC",
    queue: str = "default",
) -> RecurringDefinition:
    return RecurringDefinition(
        id=recurring_id,
        name="reports.daily",
        cron=cron,
        timezone=timezone,
        queue=queue,
        args="[1]",
        kwargs='{"full":true}',
        misfire="relaxed",
    )


def run_of(recurring_id: str, instant_seconds: float) -> list:  # type: ignore[type-arg]
    instant = at(instant_seconds)
    return [
        new_job(
            "reports.daily",
            run_at=instant,
            recurring_id=recurring_id,
            due_at=instant,
            unique_key=f"recurring:{recurring_id}:{instant.isoformat()}",
        )
    ]


def test_upsert_get_list_remove(storage: Storage) -> None:
    storage.recurring_upsert(definition(), next_run=at(60), now=T0)
    storage.recurring_upsert(definition("a-first"), next_run=at(30), now=T0)
    found = storage.recurring_get("daily-report")
    assert found is not None
    assert (found.name, found.cron, found.timezone, found.queue) == (
        "reports.daily",
        "0 6 * * *",
        "UTC",
        "default",
    )
    assert (found.args, found.kwargs) == ([1], {"full": True})
    assert (found.next_run, found.last_run, found.last_job_id, found.paused) == (
        at(60),
        None,
        None,
        False,
    )
    assert found.created_at == T0
    assert [r.id for r in storage.recurring_list()] == ["a-first", "daily-report"]
    assert storage.recurring_get("unknown") is None
    assert storage.recurring_remove("daily-report")
    assert not storage.recurring_remove("daily-report")
    assert [r.id for r in storage.recurring_list()] == ["a-first"]


def test_upsert_keeps_next_run_unless_cron_or_zone_change(storage: Storage) -> None:
    storage.recurring_upsert(definition(), next_run=at(60), now=T0)
    storage.recurring_upsert(definition(queue="low"), next_run=at(999), now=at(1))
    found = storage.recurring_get("daily-report")
    assert found is not None
    assert (found.queue, found.next_run) == ("low", at(60))
    storage.recurring_upsert(definition(cron="0 7 * * *"), next_run=at(120), now=at(2))
    assert storage.recurring_get("daily-report").next_run == at(120)  # type: ignore[union-attr]
    storage.recurring_upsert(
        definition(cron="0 7 * * *", timezone="Europe/Madrid"), next_run=at(180), now=at(3)
    )
    found = storage.recurring_get("daily-report")
    assert found is not None
    assert (found.timezone, found.next_run) == ("Europe/Madrid", at(180))


def test_due_and_next_run_skip_paused(storage: Storage) -> None:
    storage.recurring_upsert(definition("a"), next_run=at(10), now=T0)
    storage.recurring_upsert(definition("b"), next_run=at(20), now=T0)
    storage.recurring_upsert(definition("c"), next_run=at(500), now=T0)
    assert storage.recurring_next_run() == at(10)
    assert [r.id for r in storage.recurring_due(at(25), limit=10)] == ["a", "b"]
    assert storage.recurring_set_paused("a", True, None)
    assert storage.recurring_get("a").paused  # type: ignore[union-attr]
    assert [r.id for r in storage.recurring_due(at(25), limit=10)] == ["b"]
    assert storage.recurring_next_run() == at(20)
    assert storage.recurring_set_paused("a", False, at(300))
    assert storage.recurring_get("a").next_run == at(300)  # type: ignore[union-attr]
    assert not storage.recurring_set_paused("unknown", True, None)


def test_advance_is_won_once_per_instant(storage: Storage) -> None:
    storage.recurring_upsert(definition(), next_run=at(60), now=T0)
    results: list[list[str] | None] = []
    lock = threading.Lock()

    def fire() -> None:
        ids = storage.recurring_advance(
            "daily-report", at(60), at(120), run_of("daily-report", 60), at(61)
        )
        with lock:
            results.append(ids)

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    [job_id] = winners[0]
    job = storage.job_get(job_id)
    assert job is not None
    assert (job.state, job.recurring_id, job.name) == (
        JobState.ENQUEUED,
        "daily-report",
        "reports.daily",
    )
    found = storage.recurring_get("daily-report")
    assert found is not None
    assert (found.next_run, found.last_run, found.last_job_id) == (at(120), at(60), job_id)


def test_a_due_instant_never_makes_two_jobs(storage: Storage) -> None:
    storage.recurring_upsert(definition(), next_run=at(60), now=T0)
    first = storage.recurring_advance(
        "daily-report", at(60), at(120), run_of("daily-report", 60), at(61)
    )
    # The definition changes and its next run is put back on the same instant.
    storage.recurring_upsert(definition(cron="* * * * *"), next_run=at(60), now=at(62))
    again = storage.recurring_advance(
        "daily-report", at(60), at(120), run_of("daily-report", 60), at(63)
    )
    assert first == again
    assert len(storage.job_list()) == 1


def test_trigger_records_the_run_but_keeps_next_run(storage: Storage) -> None:
    storage.recurring_upsert(definition(), next_run=at(60), now=T0)
    [job_id] = storage.job_insert_many([new_job(recurring_id="daily-report")], at(5))
    storage.recurring_record_trigger("daily-report", job_id, at(5))
    found = storage.recurring_get("daily-report")
    assert found is not None
    assert (found.next_run, found.last_run, found.last_job_id) == (at(60), at(5), job_id)
