"""Behaviour every storage backend must share."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading

import pytest

from backburner._clock import system_now
from backburner._records import (
    HostedConsumer,
    HostedPeriodic,
    HostedService,
    HostedTaskQueue,
    Hosting,
    ServerInfo,
)
from backburner._states import JobState
from backburner.storage import Outcome, Storage

from .conftest import T0, at, new_job


def server(server_id: str, heartbeat: dt.datetime = T0) -> ServerInfo:
    return ServerInfo(
        id=server_id,
        hostname="host",
        pid=1,
        queues=("default",),
        workers=4,
        started_at=T0,
        heartbeat_at=heartbeat,
    )


def succeed(job_id: str, attempt: int = 1, server_id: str = "s1", result: str = "null") -> Outcome:
    return Outcome(
        job_id=job_id,
        server_id=server_id,
        attempt=attempt,
        state=JobState.SUCCEEDED,
        at=at(1),
        result=result,
    )


ERROR = json.dumps({"type": "ValueError", "message": "boom", "traceback": "Traceback..."})


def test_a_migrated_storage_passes_the_schema_check(storage: Storage) -> None:
    storage.check_schema()
    storage.migrate()  # again: changes nothing
    storage.check_schema()


def test_insert_and_get_round_trips_fields(storage: Storage) -> None:
    [job_id] = storage.job_insert_many(
        [new_job("emails.welcome", queue="critical", args='[1,"a"]')], at(0)
    )
    job = storage.job_get(job_id)
    assert job is not None
    assert (job.id, job.name, job.queue, job.state) == (
        job_id,
        "emails.welcome",
        "critical",
        JobState.ENQUEUED,
    )
    assert job.args == [1, "a"]
    assert job.kwargs == {}
    assert job.attempt == 0
    assert job.created_at == T0
    assert [h.state for h in job.history] == [JobState.ENQUEUED]


def test_get_unknown_id_is_none(storage: Storage) -> None:
    assert storage.job_get("123456") is None
    assert storage.job_get("not-an-id") is None
    # Beyond any 64-bit id: still just unknown, for every verb that takes an id.
    huge = str(2**70)
    assert storage.job_get(huge) is None
    assert storage.job_delete(huge, T0, "gone") is False
    assert storage.job_requeue(huge, T0, "again") is False


def test_insert_many_keeps_order_and_ids_are_distinct(storage: Storage) -> None:
    ids = storage.job_insert_many([new_job(args=f"[{i}]") for i in range(100)], T0)
    assert len(set(ids)) == 100
    assert [storage.job_get(i).args for i in ids[:3]] == [[0], [1], [2]]  # type: ignore[union-attr]


def test_claim_serves_queues_in_order_and_fifo(storage: Storage) -> None:
    low = storage.job_insert_many([new_job(queue="low")], at(0))
    default = storage.job_insert_many([new_job(queue="default") for _ in range(2)], at(1))
    critical = storage.job_insert_many([new_job(queue="critical", run_at=at(2))], at(2))
    claimed = storage.job_claim("s1", ["critical", "default", "low"], 10, at(5))
    assert [c.id for c in claimed] == critical + default + low
    assert all(c.attempt == 1 for c in claimed)
    job = storage.job_get(critical[0])
    assert job is not None
    assert job.state is JobState.PROCESSING
    assert job.server_id == "s1"


def test_claim_respects_limit_queues_and_run_at(storage: Storage) -> None:
    storage.job_insert_many([new_job(queue="other")], T0)
    ids = storage.job_insert_many([new_job() for _ in range(5)], T0)
    assert [c.id for c in storage.job_claim("s1", ["default"], 2, at(1))] == ids[:2]
    assert [c.id for c in storage.job_claim("s2", ["default"], 10, at(1))] == ids[2:]
    assert storage.job_claim("s1", ["default"], 10, at(1)) == []


def test_claim_never_hands_a_job_to_two_claimers(storage: Storage) -> None:
    ids = storage.job_insert_many([new_job() for _ in range(400)], T0)
    seen: list[str] = []
    lock = threading.Lock()

    def claim_all(server_id: str) -> None:
        while batch := storage.job_claim(server_id, ["default"], 7, at(1)):
            with lock:
                seen.extend(c.id for c in batch)

    threads = [threading.Thread(target=claim_all, args=(f"s{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == sorted(ids)


def test_succeeded_outcome_stores_result_and_history(storage: Storage) -> None:
    [job_id] = storage.job_insert_many([new_job()], T0)
    storage.job_claim("s1", ["default"], 1, at(1))
    assert storage.job_finish_many([succeed(job_id, result='{"ok":true}')]) == [job_id]
    job = storage.job_get(job_id)
    assert job is not None
    assert job.state is JobState.SUCCEEDED
    assert job.result == {"ok": True}
    assert job.finished_at == at(1)
    assert [h.state for h in job.history] == [
        JobState.ENQUEUED,
        JobState.PROCESSING,
        JobState.SUCCEEDED,
    ]


def test_outcomes_are_fenced_by_server_and_attempt(storage: Storage) -> None:
    [job_id] = storage.job_insert_many([new_job()], T0)
    storage.job_claim("s1", ["default"], 1, at(1))
    assert storage.job_finish_many([succeed(job_id, server_id="s2")]) == []
    assert storage.job_finish_many([succeed(job_id, attempt=2)]) == []
    job = storage.job_get(job_id)
    assert job is not None
    assert job.state is JobState.PROCESSING


def test_retry_outcome_schedules_and_stage_due_enqueues(storage: Storage) -> None:
    [job_id] = storage.job_insert_many([new_job()], T0)
    storage.job_claim("s1", ["default"], 1, at(1))
    retry = Outcome(
        job_id=job_id,
        server_id="s1",
        attempt=1,
        state=JobState.SCHEDULED,
        at=at(2),
        reason="retry 1 of 3",
        error=ERROR,
        run_at=at(60),
    )
    assert storage.job_finish_many([retry]) == [job_id]
    job = storage.job_get(job_id)
    assert job is not None
    assert job.state is JobState.SCHEDULED
    assert job.error is not None
    assert job.error.message == "boom"
    assert job.history[-1].reason == "retry 1 of 3"
    assert storage.job_next_due() == at(60)
    assert storage.job_stage_due(at(59)) == 0
    assert storage.job_claim("s1", ["default"], 1, at(59)) == []
    assert storage.job_stage_due(at(60)) == 1
    [claimed] = storage.job_claim("s1", ["default"], 1, at(61))
    assert claimed.attempt == 2
    assert storage.job_next_due() is None


def test_history_never_goes_back_when_a_writer_read_its_clock_early(storage: Storage) -> None:
    # A claim that read the clock at 61 commits after the job was staged at 62 (the claim
    # only needs run_at <= its time), then a deletion stamped 61.5 follows.
    [job_id] = storage.job_insert_many([new_job(state=JobState.SCHEDULED, run_at=at(60))], T0)
    assert storage.job_stage_due(at(62)) == 1
    assert len(storage.job_claim("s1", ["default"], 1, at(61))) == 1
    assert storage.job_delete(job_id, at(61.5), "deleted by a test")
    job = storage.job_get(job_id)
    assert job is not None
    assert [change.state for change in job.history] == [
        JobState.SCHEDULED,
        JobState.ENQUEUED,
        JobState.PROCESSING,
        JobState.DELETED,
    ]
    assert [change.at for change in job.history] == [T0, at(62), at(62), at(62)]


def test_history_stays_in_order_at_any_precision(storage: Storage) -> None:
    # A time a few microseconds after the previous entry's, which a backend may round
    # when it stores it.
    [job_id] = storage.job_insert_many([new_job()], at(20.123454))
    assert storage.job_delete(job_id, at(20.123451), "deleted by a test")
    job = storage.job_get(job_id)
    assert job is not None
    times = [change.at for change in job.history]
    assert times == sorted(times)


def test_an_outcome_applies_only_to_the_claim_it_came_from(storage: Storage) -> None:
    # The same server claims the job again with the same attempt number, as after a claim
    # lost with a crash of the database (here: an interrupted run, which gives its attempt
    # back). The first run's late outcome must not finish the second claim.
    [job_id] = storage.job_insert_many([new_job()], T0)
    [first] = storage.job_claim("s1", ["default"], 1, at(1))
    interrupted = Outcome(
        job_id, "s1", first.attempt, JobState.ENQUEUED, at(2), started_at=first.started_at
    )
    assert storage.job_finish_many([interrupted]) == [job_id]
    [second] = storage.job_claim("s1", ["default"], 1, at(3))
    assert (second.attempt, second.started_at) == (first.attempt, at(3))
    late = Outcome(
        job_id, "s1", first.attempt, JobState.SUCCEEDED, at(4), started_at=first.started_at
    )
    assert storage.job_finish_many([late]) == []
    done = Outcome(
        job_id, "s1", second.attempt, JobState.SUCCEEDED, at(5), started_at=second.started_at
    )
    assert storage.job_finish_many([done]) == [job_id]
    job = storage.job_get(job_id)
    assert job is not None
    assert job.state is JobState.SUCCEEDED


def test_failed_outcome_keeps_error_and_can_be_requeued(storage: Storage) -> None:
    [job_id] = storage.job_insert_many([new_job()], T0)
    storage.job_claim("s1", ["default"], 1, at(1))
    failed = Outcome(
        job_id=job_id, server_id="s1", attempt=1, state=JobState.FAILED, at=at(2), error=ERROR
    )
    storage.job_finish_many([failed])
    job = storage.job_get(job_id)
    assert job is not None
    assert job.state is JobState.FAILED
    assert job.error is not None
    assert job.error.traceback == "Traceback..."
    assert storage.job_requeue(job_id, at(3), "requeued by hand")
    job = storage.job_get(job_id)
    assert job is not None
    assert job.state is JobState.ENQUEUED
    assert job.history[-1].reason == "requeued by hand"
    assert not storage.job_requeue(job_id, at(3), "again")
    assert not storage.job_requeue("99999", at(3), "unknown")


def test_interrupted_outcome_returns_job_to_queue(storage: Storage) -> None:
    [job_id] = storage.job_insert_many([new_job()], T0)
    storage.job_claim("s1", ["default"], 1, at(1))
    back = Outcome(
        job_id=job_id, server_id="s1", attempt=1, state=JobState.ENQUEUED, at=at(2), reason="x"
    )
    assert storage.job_finish_many([back]) == [job_id]
    [claimed] = storage.job_claim("s2", ["default"], 1, at(3))
    assert claimed.id == job_id
    assert claimed.attempt == 1


def test_delete_marks_deleted_and_lost_tells_the_server(storage: Storage) -> None:
    ids = storage.job_insert_many([new_job(), new_job()], T0)
    claims = storage.job_claim("s1", ["default"], 2, at(1))
    assert storage.job_delete(ids[0], at(2), "deleted by hand")
    assert not storage.job_delete(ids[0], at(2), "twice")
    assert not storage.job_delete("99999", at(2), "unknown")
    assert storage.job_lost("s1", claims) == [ids[0]]
    assert storage.job_finish_many([succeed(ids[0])]) == []
    job = storage.job_get(ids[0])
    assert job is not None
    assert job.state is JobState.DELETED


def test_lost_compares_the_claim_not_only_the_job(storage: Storage) -> None:
    ids = storage.job_insert_many([new_job(), new_job()], T0)
    first, other = storage.job_claim("s1", ["default"], 2, at(1))
    assert storage.job_lost("s1", [first, other]) == []
    # Deleted and requeued, then claimed again by the same server: the first claim is lost.
    assert storage.job_delete(ids[0], at(2), "deleted by hand")
    assert storage.job_requeue(ids[0], at(3), "requeued by hand")
    [again] = storage.job_claim("s1", ["default"], 1, at(4))
    assert again.id == ids[0]
    assert storage.job_lost("s1", [first, other, again]) == [ids[0]]
    assert storage.job_lost("s1", [again, other]) == []
    assert storage.job_lost("s2", [again, other]) == [ids[0], ids[1]]


def test_lost_tells_a_claim_from_a_later_one_with_the_same_attempt(storage: Storage) -> None:
    [job_id] = storage.job_insert_many([new_job()], T0)
    [first] = storage.job_claim("s1", ["default"], 1, at(1))
    back = Outcome(
        job_id=job_id, server_id="s1", attempt=1, state=JobState.ENQUEUED, at=at(2), reason="x"
    )
    assert storage.job_finish_many([back]) == [job_id]
    [again] = storage.job_claim("s1", ["default"], 1, at(3))
    assert again.attempt == first.attempt
    assert storage.job_lost("s1", [first]) == [job_id]
    assert storage.job_lost("s1", [again]) == []
    # A claim that gives no time is compared by server and attempt only.
    assert storage.job_lost("s1", [dataclasses.replace(first, started_at=None)]) == []
    unknown = dataclasses.replace(first, id="99999")
    assert storage.job_lost("s1", [unknown, again]) == ["99999"]


def test_continuations_follow_their_parent(storage: Storage) -> None:
    [parent] = storage.job_insert_many([new_job()], T0)
    on_success, on_finish = storage.job_insert_many(
        [
            new_job("next", state=JobState.AWAITING, parent_id=parent, continue_on="succeeded"),
            new_job("always", state=JobState.AWAITING, parent_id=parent, continue_on="finished"),
        ],
        T0,
    )
    assert storage.job_claim("s1", ["default"], 10, at(1))[0].id == parent
    assert storage.job_get(on_success).state is JobState.AWAITING  # type: ignore[union-attr]
    storage.job_finish_many([succeed(parent)])
    claimed = storage.job_claim("s1", ["default"], 10, at(2))
    assert sorted(c.id for c in claimed) == sorted([on_success, on_finish])


def test_failed_parent_releases_only_finished_continuations(storage: Storage) -> None:
    [parent] = storage.job_insert_many([new_job()], T0)
    on_success, on_finish = storage.job_insert_many(
        [
            new_job(state=JobState.AWAITING, parent_id=parent, continue_on="succeeded"),
            new_job(state=JobState.AWAITING, parent_id=parent, continue_on="finished"),
        ],
        T0,
    )
    storage.job_claim("s1", ["default"], 1, at(1))
    failed = Outcome(
        job_id=parent, server_id="s1", attempt=1, state=JobState.FAILED, at=at(2), error=ERROR
    )
    storage.job_finish_many([failed])
    assert storage.job_get(on_success).state is JobState.AWAITING  # type: ignore[union-attr]
    assert storage.job_get(on_finish).state is JobState.ENQUEUED  # type: ignore[union-attr]


def test_deleting_a_parent_deletes_success_continuations_in_cascade(storage: Storage) -> None:
    [parent] = storage.job_insert_many([new_job()], T0)
    [child] = storage.job_insert_many(
        [new_job(state=JobState.AWAITING, parent_id=parent, continue_on="succeeded")], T0
    )
    [grandchild, always] = storage.job_insert_many(
        [
            new_job(state=JobState.AWAITING, parent_id=child, continue_on="succeeded"),
            new_job(state=JobState.AWAITING, parent_id=child, continue_on="finished"),
        ],
        T0,
    )
    storage.job_delete(parent, at(1), "deleted by hand")
    assert storage.job_get(child).state is JobState.DELETED  # type: ignore[union-attr]
    assert storage.job_get(grandchild).state is JobState.DELETED  # type: ignore[union-attr]
    assert storage.job_get(always).state is JobState.ENQUEUED  # type: ignore[union-attr]


def test_continuation_of_a_finished_parent_starts_at_once(storage: Storage) -> None:
    [parent] = storage.job_insert_many([new_job()], T0)
    storage.job_claim("s1", ["default"], 1, at(1))
    storage.job_finish_many([succeed(parent)])
    [child] = storage.job_insert_many(
        [new_job(state=JobState.AWAITING, parent_id=parent, continue_on="succeeded")], at(2)
    )
    assert storage.job_get(child).state is JobState.ENQUEUED  # type: ignore[union-attr]


def test_continuation_of_unknown_parent_stores_nothing(storage: Storage) -> None:
    with pytest.raises(LookupError):
        storage.job_insert_many(
            [
                new_job(),
                new_job(state=JobState.AWAITING, parent_id="424242", continue_on="succeeded"),
            ],
            T0,
        )
    assert storage.job_list() == []


def test_unique_key_inserts_once(storage: Storage) -> None:
    first = storage.job_insert_many([new_job(unique_key="daily@2026-01-01T06:00")], T0)
    again = storage.job_insert_many([new_job(unique_key="daily@2026-01-01T06:00")], T0)
    assert first == again
    assert len(storage.job_list()) == 1


def test_list_filters_newest_first_and_pages(storage: Storage) -> None:
    ids = storage.job_insert_many([new_job(queue="a"), new_job(queue="b"), new_job(queue="a")], T0)
    assert [j.id for j in storage.job_list()] == ids[::-1]
    assert [j.id for j in storage.job_list(queue="a")] == [ids[2], ids[0]]
    assert [j.id for j in storage.job_list(limit=1, offset=1)] == [ids[1]]
    assert storage.job_list(state=JobState.FAILED) == []


def test_counts(storage: Storage) -> None:
    storage.job_insert_many([new_job(), new_job(queue="low")], T0)
    storage.job_insert_many([new_job(state=JobState.SCHEDULED, run_at=at(100))], T0)
    counts = storage.job_counts()
    assert counts[JobState.ENQUEUED] == 2
    assert counts[JobState.SCHEDULED] == 1
    assert counts.get(JobState.FAILED, 0) == 0
    assert dict(storage.queue_counts()) == {"default": 1, "low": 1}


def test_prune_removes_only_old_finished_jobs(storage: Storage) -> None:
    old, new, pending = storage.job_insert_many([new_job(), new_job(), new_job()], T0)
    storage.job_claim("s1", ["default"], 2, at(1))
    storage.job_finish_many([succeed(old)])
    late = Outcome(job_id=new, server_id="s1", attempt=1, state=JobState.SUCCEEDED, at=at(100))
    storage.job_finish_many([late])
    assert storage.job_prune({JobState.SUCCEEDED: at(50)}, limit=100, now=at(200)) == 1
    assert storage.job_get(old) is None
    assert storage.job_get(new) is not None
    assert storage.job_get(pending) is not None


def test_server_rescue_requeues_jobs_of_dead_servers_only(storage: Storage) -> None:
    ids = storage.job_insert_many([new_job(), new_job()], T0)
    storage.server_heartbeat(server("dead", heartbeat=at(0)))
    storage.server_heartbeat(server("alive", heartbeat=at(30)))
    [dead_claim] = storage.job_claim("dead", ["default"], 1, at(1))
    storage.job_claim("alive", ["default"], 1, at(1))
    assert storage.server_rescue_dead("alive", heartbeat_before=at(20), now=at(31)) == 1
    assert [s.id for s in storage.server_list()] == ["alive"]
    rescued = storage.job_get(ids[0])
    assert rescued is not None
    assert rescued.state is JobState.ENQUEUED
    assert "dead" in (rescued.history[-1].reason or "")
    assert storage.job_lost("dead", [dead_claim]) == [ids[0]]
    # The dead server's late acknowledgement cannot overwrite the rescued job.
    assert storage.job_finish_many([succeed(ids[0], server_id="dead")]) == []
    [again] = storage.job_claim("alive", ["default"], 1, at(32))
    assert (again.id, again.attempt) == (ids[0], 2)


HOSTING = Hosting(
    services=(
        HostedService("sync", "running"),
        HostedService("feed", "failing", leader_only=True, restarts=3, last_error="OSError: <x>"),
    ),
    periodic=(
        HostedPeriodic(
            "cleanup",
            "every 30 s",
            last_run=at(1.25),
            next_run=at(31.25),
            last_outcome="failed",
            last_error="ValueError: é",
        ),
        HostedPeriodic("nightly", "At 02:00 (Europe/Paris)", leader_only=True),
    ),
    task_queues=(HostedTaskQueue("orders", 3, 100, 1, 2, processed=7, failed=1, dropped=0),),
    consumers=(HostedConsumer("emails", True, in_flight=2, processed=5, dead_lettered=1),),
    leader=True,
)


def test_a_heartbeat_stores_busy_workers_and_hosting_and_the_next_replaces_them(
    storage: Storage,
) -> None:
    first = dataclasses.replace(server("s1"), busy=3, hosting=HOSTING)
    storage.server_heartbeat(first)
    [listed] = storage.server_list()
    assert dataclasses.replace(listed, heartbeat_at=T0) == first
    later = dataclasses.replace(server("s1", heartbeat=at(2)), busy=0, hosting=Hosting())
    storage.server_heartbeat(later)
    [listed] = storage.server_list()
    assert (listed.busy, listed.hosting) == (0, Hosting())


def test_server_remove_requeues_its_jobs(storage: Storage) -> None:
    [job_id] = storage.job_insert_many([new_job()], T0)
    storage.server_heartbeat(server("s1"))
    storage.job_claim("s1", ["default"], 1, at(1))
    assert storage.server_remove("s1", at(2)) == 1
    assert storage.server_list() == []
    assert storage.job_get(job_id).state is JobState.ENQUEUED  # type: ignore[union-attr]


def test_a_server_never_rescues_itself(storage: Storage) -> None:
    ids = storage.job_insert_many([new_job(), new_job(), new_job()], T0)
    storage.server_heartbeat(server("self", heartbeat=at(0)))
    storage.server_heartbeat(server("other", heartbeat=at(0)))
    storage.job_claim("self", ["default"], 1, at(1))
    storage.job_claim("other", ["default"], 1, at(1))
    storage.job_claim("rowless", ["default"], 1, at(1))
    # Its own heartbeat looks as old as the other's (a stall held both up): it stays.
    assert storage.server_rescue_dead("self", heartbeat_before=at(20), now=at(31)) == 2
    assert [s.id for s in storage.server_list()] == ["self"]
    states = [storage.job_get(job_id).state for job_id in ids]  # type: ignore[union-attr]
    assert states == [JobState.PROCESSING, JobState.ENQUEUED, JobState.ENQUEUED]
    # Nor are its jobs taken for a vanished server's when it has no row.
    [job_id] = storage.job_insert_many([new_job(queue="q2")], T0)
    storage.job_claim("rowless", ["q2"], 1, at(2))
    storage.server_heartbeat(server("self", heartbeat=at(30)))
    assert storage.server_rescue_dead("rowless", heartbeat_before=at(20), now=at(31)) == 0
    assert storage.job_get(job_id).state is JobState.PROCESSING  # type: ignore[union-attr]


def test_a_server_without_a_row_never_rescues_itself_while_rescuing_others(
    storage: Storage,
) -> None:
    storage.job_insert_many([new_job(), new_job()], T0)
    storage.server_heartbeat(server("dead", heartbeat=at(0)))
    [mine] = storage.job_claim("rowless", ["default"], 1, at(1))
    storage.job_claim("dead", ["default"], 1, at(1))
    # A dead server is rescued in the same call; the caller's own jobs still stay.
    assert storage.server_rescue_dead("rowless", heartbeat_before=at(20), now=at(31)) == 1
    assert storage.job_get(mine.id).state is JobState.PROCESSING  # type: ignore[union-attr]
    assert storage.job_lost("rowless", [mine]) == []


def test_held_jobs_name_the_claims_they_came_from(storage: Storage) -> None:
    storage.job_insert_many([new_job(), new_job(), new_job()], T0)
    claimed_at = T0 + dt.timedelta(seconds=1, microseconds=234567)
    mine = storage.job_claim("s1", ["default"], 2, claimed_at)
    storage.job_claim("s2", ["default"], 1, at(2))
    held = sorted(storage.job_held("s1"), key=lambda h: int(h.id))
    assert [(h.id, h.attempt, h.started_at) for h in held] == [
        (c.id, c.attempt, claimed_at) for c in mine
    ]
    assert storage.job_held("nobody") == []
    # The claim's time as read back fences an outcome: the job goes back to its queue
    # without counting the attempt.
    lost = Outcome(
        held[0].id,
        "s1",
        held[0].attempt,
        JobState.ENQUEUED,
        at(3),
        "claim lost",
        started_at=held[0].started_at,
    )
    assert storage.job_finish_many([lost]) == [held[0].id]
    back = storage.job_get(held[0].id)
    assert back is not None
    assert (back.state, back.attempt, back.history[-1].reason) == (
        JobState.ENQUEUED,
        0,
        "claim lost",
    )
    storage.job_finish_many([succeed(held[1].id)])
    assert storage.job_held("s1") == []


def test_a_storage_clock_is_none_or_close_to_this_hosts(storage: Storage) -> None:
    clock = storage.clock_read()
    if storage.capabilities.shared_across_processes and clock is not None:
        assert clock.utcoffset() == dt.timedelta(0)
        assert abs(clock - system_now()) < dt.timedelta(seconds=5)
    else:
        assert clock is None


def test_heartbeat_updates_the_server_row(storage: Storage) -> None:
    storage.server_heartbeat(server("s1", heartbeat=at(0)))
    storage.server_heartbeat(server("s1", heartbeat=at(5)))
    [info] = storage.server_list()
    # Stamped when written: later than asked by however long the write waited.
    assert at(5) <= info.heartbeat_at < at(6)
    assert info.queues == ("default",)


def test_lease_is_exclusive_until_it_expires(storage: Storage) -> None:
    assert storage.lease_acquire("pruner", "a", until=at(10), now=at(0))
    assert not storage.lease_acquire("pruner", "b", until=at(15), now=at(5))
    assert storage.lease_acquire("pruner", "a", until=at(20), now=at(5))
    assert storage.lease_acquire("pruner", "b", until=at(40), now=at(21))


def test_a_unique_key_repeated_in_one_batch_inserts_once(storage: Storage) -> None:
    ids = storage.job_insert_many([new_job(unique_key="k"), new_job(unique_key="k")], T0)
    assert ids[0] == ids[1]
    assert len(storage.job_list()) == 1


def test_finished_jobs_remember_their_server(storage: Storage) -> None:
    [job_id] = storage.job_insert_many([new_job()], T0)
    storage.job_claim("s1", ["default"], 1, at(1))
    storage.job_finish_many([succeed(job_id)])
    assert storage.job_get(job_id).server_id == "s1"  # type: ignore[union-attr]


def test_a_claim_says_when_each_job_became_ready(storage: Storage) -> None:
    now_ready, later = storage.job_insert_many(
        [new_job("now", run_at=at(1)), new_job("later", state=JobState.SCHEDULED, run_at=at(5))],
        at(0),
    )
    storage.job_stage_due(at(6))
    claimed = {c.id: c for c in storage.job_claim("s1", ["default"], 10, at(9))}
    assert claimed[now_ready].ready_at == at(1)
    assert claimed[later].ready_at == at(5)
    assert claimed[later].started_at == at(9)
