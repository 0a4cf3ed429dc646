from __future__ import annotations

import pytest

from backburner import JobState
from backburner._states import can_delete, can_requeue, continuation_release, continuation_start


def test_state_values_are_the_documented_strings() -> None:
    assert [s.value for s in JobState] == [
        "enqueued",
        "scheduled",
        "awaiting",
        "processing",
        "succeeded",
        "failed",
        "deleted",
    ]
    assert JobState("failed") is JobState.FAILED
    assert str(JobState.SUCCEEDED) == "succeeded"


@pytest.mark.parametrize(
    ("parent", "on", "expected"),
    [
        (JobState.SUCCEEDED, "succeeded", JobState.ENQUEUED),
        (JobState.SUCCEEDED, "finished", JobState.ENQUEUED),
        (JobState.FAILED, "succeeded", None),
        (JobState.FAILED, "finished", JobState.ENQUEUED),
        (JobState.DELETED, "succeeded", JobState.DELETED),
        (JobState.DELETED, "finished", JobState.ENQUEUED),
        (JobState.PROCESSING, "finished", None),
        (JobState.ENQUEUED, "succeeded", None),
    ],
)
def test_continuation_release(parent: JobState, on: str, expected: JobState | None) -> None:
    assert continuation_release(parent, on) is expected  # type: ignore[arg-type]


def test_continuation_start_waits_unless_released() -> None:
    assert continuation_start(JobState.PROCESSING, "succeeded") is JobState.AWAITING
    assert continuation_start(JobState.SUCCEEDED, "succeeded") is JobState.ENQUEUED
    with pytest.raises(ValueError, match="does not exist"):
        continuation_start(None, "succeeded")


def test_requeue_and_delete_rules() -> None:
    assert can_requeue(JobState.FAILED)
    assert can_requeue(JobState.SCHEDULED)
    assert not can_requeue(JobState.PROCESSING)
    assert not can_delete(JobState.DELETED)
    assert can_delete(JobState.PROCESSING)
