"""Pruning on every backend: ids stay unique for good, and no continuation is orphaned."""

from __future__ import annotations

from backburner._states import JobState
from backburner.storage import Outcome, Storage

from .conftest import T0, at, new_job
from .test_conformance import ERROR, succeed


def fail(job_id: str) -> Outcome:
    return Outcome(
        job_id=job_id, server_id="s1", attempt=1, state=JobState.FAILED, at=at(2), error=ERROR
    )


def test_ids_are_never_handed_out_again_once_the_newest_jobs_are_pruned(storage: Storage) -> None:
    handed_out = storage.job_insert_many([new_job(), new_job(), new_job()], T0)
    storage.job_claim("s1", ["default"], 10, at(1))
    storage.job_finish_many([succeed(job_id) for job_id in handed_out])
    assert storage.job_prune({JobState.SUCCEEDED: at(50)}, limit=100, now=at(100)) == 3
    [single] = storage.job_insert_many([new_job()], at(101))
    many = storage.job_insert_many([new_job(), new_job()], at(102))
    assert int(single) > max(int(i) for i in handed_out)
    assert int(many[0]) > int(single)
    assert storage.job_get(handed_out[0]) is None


def test_pruning_a_failed_parent_deletes_its_awaiting_continuations(storage: Storage) -> None:
    [parent] = storage.job_insert_many([new_job()], T0)
    first, second = storage.job_insert_many(
        [
            new_job("receipt", state=JobState.AWAITING, parent_id=parent, continue_on="succeeded"),
            new_job("invoice", state=JobState.AWAITING, parent_id=parent, continue_on="succeeded"),
        ],
        T0,
    )
    [after_first, always] = storage.job_insert_many(
        [
            new_job(state=JobState.AWAITING, parent_id=first, continue_on="succeeded"),
            new_job(state=JobState.AWAITING, parent_id=first, continue_on="finished"),
        ],
        T0,
    )
    storage.job_claim("s1", ["default"], 1, at(1))
    storage.job_finish_many([fail(parent)])
    assert storage.job_get(first).state is JobState.AWAITING  # type: ignore[union-attr]

    assert storage.job_prune({JobState.FAILED: at(10)}, limit=100, now=at(100)) == 1
    assert storage.job_get(parent) is None
    for job_id in (first, second):
        job = storage.job_get(job_id)
        assert job is not None
        assert job.state is JobState.DELETED
        assert job.finished_at == at(100)
        assert job.history[-1].reason == f"parent {parent} pruned (failed)"
    # Theirs follow as those of any deleted job: success continuations are deleted too,
    # those that run whatever happens run.
    cascaded = storage.job_get(after_first)
    assert cascaded is not None
    assert cascaded.state is JobState.DELETED
    assert cascaded.history[-1].reason == f"parent {first} deleted"
    assert storage.job_get(always).state is JobState.ENQUEUED  # type: ignore[union-attr]
    assert storage.job_counts()[JobState.AWAITING] == 0

    # A person can still requeue one; retention prunes the others later.
    assert storage.job_requeue(first, at(101), "requeued by hand")
    assert storage.job_get(first).state is JobState.ENQUEUED  # type: ignore[union-attr]
    assert storage.job_prune({JobState.DELETED: at(99)}, limit=100, now=at(102)) == 0
    assert storage.job_prune({JobState.DELETED: at(150)}, limit=100, now=at(200)) == 2
    assert storage.job_get(second) is None
    assert storage.job_get(after_first) is None


def test_pruning_leaves_continuations_of_jobs_kept_alone(storage: Storage) -> None:
    old, kept = storage.job_insert_many([new_job(), new_job()], T0)
    [waiting] = storage.job_insert_many(
        [new_job(state=JobState.AWAITING, parent_id=kept, continue_on="succeeded")], T0
    )
    storage.job_claim("s1", ["default"], 1, at(1))
    storage.job_finish_many([fail(old)])
    assert storage.job_prune({JobState.FAILED: at(10)}, limit=100, now=at(100)) == 1
    assert storage.job_get(waiting).state is JobState.AWAITING  # type: ignore[union-attr]
