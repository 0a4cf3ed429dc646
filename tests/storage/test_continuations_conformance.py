"""``job_continuations``: a parent's children in any state, on every backend."""

from __future__ import annotations

import pytest

from backburner._states import JobState
from backburner.storage import Storage

from .conftest import T0, at, new_job
from .test_conformance import succeed


def test_a_parents_continuations_in_any_state_oldest_first(storage: Storage) -> None:
    [parent, other] = storage.job_insert_many([new_job("parent"), new_job("other")], T0)
    children = storage.job_insert_many(
        [
            new_job("next", state=JobState.AWAITING, parent_id=parent, continue_on="succeeded"),
            new_job("always", state=JobState.AWAITING, parent_id=parent, continue_on="finished"),
            new_job("elsewhere", state=JobState.AWAITING, parent_id=other),
        ],
        T0,
    )
    assert storage.job_continuations(parent, 10) == storage.job_continuations(parent, 1000)
    found = storage.job_continuations(parent, 10)
    assert [c.id for c in found] == children[:2]
    assert [(c.name, c.state, c.parent_id) for c in found] == [
        ("next", JobState.AWAITING, parent),
        ("always", JobState.AWAITING, parent),
    ]
    assert [c.id for c in storage.job_continuations(parent, 1)] == children[:1]
    # Released children are still its continuations, in their new state.
    storage.job_claim("s1", ["default"], 1, at(1))
    storage.job_finish_many([succeed(parent)])
    assert {c.state for c in storage.job_continuations(parent, 10)} == {JobState.ENQUEUED}
    [grandchild] = storage.job_insert_many(
        [new_job("last", state=JobState.AWAITING, parent_id=children[0])], at(2)
    )
    assert [c.id for c in storage.job_continuations(children[0], 10)] == [grandchild]


def test_a_job_without_continuations_or_an_unknown_id_has_none(storage: Storage) -> None:
    [alone] = storage.job_insert_many([new_job()], T0)
    assert storage.job_continuations(alone, 10) == []
    assert storage.job_continuations("999999", 10) == []
    assert storage.job_continuations("not-an-id", 10) == []


@pytest.mark.parametrize("limit", [0, 1001, -1])
def test_the_limit_is_bounded(storage: Storage, limit: int) -> None:
    with pytest.raises(ValueError, match="limit must be between 1 and 1000"):
        storage.job_continuations("1", limit)
