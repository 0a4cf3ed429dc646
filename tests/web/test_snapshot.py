"""The snapshot every open page polls: one read a second, fresh for each poll."""

from __future__ import annotations

import time
from pathlib import Path

from backburner import Backburner
from backburner.web._snapshot import Snapshot, SnapshotCache


class SlowCache(SnapshotCache):
    """A snapshot whose read takes ``seconds``, counting its reads."""

    def __init__(self, app: Backburner, max_age: float, seconds: float) -> None:
        super().__init__(app, max_age)
        self.reads = 0
        self._seconds = seconds

    def _read(self) -> Snapshot:
        self.reads += 1
        time.sleep(self._seconds)
        return super()._read()


def test_a_page_polling_every_max_age_gets_a_fresh_snapshot_each_time(tmp_path: Path) -> None:
    app = Backburner(f"sqlite:///{tmp_path / 'jobs.db'}")
    cache = SlowCache(app, max_age=0.5, seconds=0.1)
    polls = 4
    started = time.monotonic()
    for poll in range(polls):
        time.sleep(max(0.0, started + poll * 0.5 - time.monotonic()))
        cache.get()
    # Measured from the end of a read that takes 0.1 s, every other poll found it fresh.
    assert cache.reads == polls
    app.close()


def test_viewers_at_once_share_one_read(tmp_path: Path) -> None:
    app = Backburner(f"sqlite:///{tmp_path / 'jobs.db'}")
    cache = SlowCache(app, max_age=1.0, seconds=0.0)
    for _ in range(10):
        cache.get()
    assert cache.reads == 1
    app.close()
