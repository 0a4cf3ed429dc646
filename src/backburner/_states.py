"""Job states and the rules for moving between them.

```
            schedule()                 continue_with()
                |                            |
                v                            v
  enqueue() -> ENQUEUED <--- due ---- SCHEDULED      AWAITING --- parent done --> ENQUEUED
                |    ^                  ^                |
              claim  |                  | retry          | parent deleted (on="succeeded")
                v    | rescue/requeue   |                v
             PROCESSING ----------------+             DELETED
              |      |
     success  |      | retries exhausted
              v      v
         SUCCEEDED  FAILED --- requeue ---> ENQUEUED
```

Any state but DELETED can be deleted; SUCCEEDED, FAILED and DELETED jobs can be requeued.
"""

from __future__ import annotations

import enum
from typing import Literal, get_args

ContinueOn = Literal["succeeded", "finished"]
"""When a continuation runs: after its parent succeeded, or after it finished either way."""

Misfire = Literal["relaxed", "strict", "ignore"]
"""What a recurring job does about runs it missed (see docs/recurring.md)."""
MISFIRE_MODES: tuple[Misfire, ...] = get_args(Misfire)


class JobState(enum.StrEnum):
    """Where a job is in its life. The value is what storage keeps and the API shows."""

    ENQUEUED = "enqueued"
    SCHEDULED = "scheduled"
    AWAITING = "awaiting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DELETED = "deleted"

    def __str__(self) -> str:
        return self.value

    @property
    def is_final(self) -> bool:
        """True for states a job leaves only when a person requeues it."""
        return self in FINAL_STATES


FINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.DELETED})
PENDING_STATES = frozenset({JobState.ENQUEUED, JobState.SCHEDULED, JobState.AWAITING})


def continuation_start(parent: JobState | None, on: ContinueOn) -> JobState:
    """The state a new continuation starts in, given its parent's state now.

    A continuation whose parent already finished in a way that releases it runs at once;
    one whose parent was deleted while it only runs after success is deleted with it.
    """
    if parent is None:
        raise ValueError("the parent job does not exist")
    return continuation_release(parent, on) or JobState.AWAITING


def continuation_release(parent: JobState, on: ContinueOn) -> JobState | None:
    """What an awaiting continuation becomes when its parent reaches ``parent``.

    None means it keeps waiting (a parent that failed releases only ``on="finished"``
    continuations: the parent may still be requeued and succeed).
    """
    if parent is JobState.SUCCEEDED:
        return JobState.ENQUEUED
    if parent is JobState.FAILED:
        return JobState.ENQUEUED if on == "finished" else None
    if parent is JobState.DELETED:
        return JobState.ENQUEUED if on == "finished" else JobState.DELETED
    return None


def can_requeue(state: JobState) -> bool:
    """Requeue brings back a finished job (or hurries a scheduled one)."""
    return state in FINAL_STATES or state is JobState.SCHEDULED


def can_delete(state: JobState) -> bool:
    return state is not JobState.DELETED
