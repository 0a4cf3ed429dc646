"""The throughput verbs of the PostgreSQL backend: hourly counts in ``bb_throughput``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..._records import ThroughputCount
from ..._states import JobState
from ._base import StorageBase


class ThroughputVerbs(StorageBase):
    """Each server adds to its own rows, in one statement per heartbeat."""

    def throughput_add(self, server_id: str, counts: Sequence[ThroughputCount]) -> None:
        if not counts:
            return
        params = {
            "server_id": server_id,
            "hours": [c.hour for c in counts],
            "states": [c.state.value for c in counts],
            "counts": [c.count for c in counts],
        }
        self._run("throughput_add", params)

    def throughput_read(self, since: dt.datetime) -> list[ThroughputCount]:
        rows = self._run("throughput_read", {"since": since})
        return [ThroughputCount(hour, JobState(state), int(n)) for hour, state, n in rows]

    def throughput_prune(self, before: dt.datetime) -> int:
        return self._count("throughput_prune", {"before": before})
