"""``app.queues``: the queues there are, and pausing and resuming them.

A paused queue still takes jobs; servers claim none of them until it is resumed. The pause
is stored, so it holds across restarts and for every server of every process, each from
its next claim on.
"""

from __future__ import annotations

import builtins

from . import _reasons
from ._engine import Engine
from ._names import check_name, storable
from ._records import QueueInfo, QueuePause


class QueueManager:
    """List queues, and pause or resume them.

    >>> app.queues.pause("emails")          # servers stop claiming its jobs
    True
    >>> [(q.name, q.paused) for q in app.queues()]
    [('default', False), ('emails', True)]
    >>> app.queues.resume("emails")
    True

    Calling it, ``app.queues()``, is ``app.queues.list()``.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __call__(self) -> builtins.list[QueueInfo]:
        """The same as ``list()``."""
        return self.list()

    def list(self) -> builtins.list[QueueInfo]:
        """Every queue that holds jobs or is paused, by name: how many jobs are enqueued,
        processing and scheduled (exact up to 10,000 each, estimated above), how long the
        oldest enqueued job has been ready to run, and its pause (None unless paused).

        >>> [(q.name, q.enqueued.count, q.oldest_waiting, q.paused) for q in app.queues()]
        [('default', 3, datetime.timedelta(seconds=2, microseconds=410000), False)]
        """
        return self._engine.queues()

    def get(self, name: str) -> QueueInfo | None:
        """The queue named ``name``, or None when it holds no job and is not paused."""
        return next((q for q in self.list() if q.name == name), None)

    def pause(self, name: str, *, reason: str = _reasons.QUEUE_PAUSED) -> bool:
        """Stop servers from claiming the queue's jobs (it still takes new ones), until
        ``resume``. A queue that holds no job yet can be paused. Returns False when it was
        paused already, which changes nothing. ``reason`` is kept with the pause (say who).
        """
        check_name(name, "queue name")
        return self._engine.queue_pause(name, reason)

    def resume(self, name: str, *, reason: str = _reasons.QUEUE_RESUMED) -> bool:
        """Let servers claim the queue's jobs again. False when it was not paused."""
        if not storable(name):
            return False
        return self._engine.queue_resume(name, reason)

    def paused(self) -> builtins.list[QueuePause]:
        """The paused queues, by name, each with when and why it was paused."""
        return self._engine.queue_pauses()
