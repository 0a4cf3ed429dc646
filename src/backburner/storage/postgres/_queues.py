"""The paused-queue verbs of the PostgreSQL backend: a row per paused queue in
``bb_queue_pauses``, which the claim reads with a NOT EXISTS."""

from __future__ import annotations

import datetime as dt

from ..._records import QueuePause
from ._base import StorageBase


class QueueVerbs(StorageBase):
    """Pause and resume queues; a resume notifies listening servers as a new job does."""

    def queue_pause(self, queue: str, at: dt.datetime, reason: str) -> bool:
        params = {"queue": queue, "at": at, "reason": reason}
        return self._count("queue_pause", params) == 1

    def queue_resume(self, queue: str) -> bool:
        [(resumed, _)] = self._run(
            "queue_resume", {"queue": queue, "channel": self._notify_channel}
        )
        return int(resumed) == 1

    def queue_pauses(self) -> list[QueuePause]:
        return [QueuePause(q, at, reason) for q, at, reason in self._run("queue_pauses")]
