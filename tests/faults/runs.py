"""What the jobs of ``faultapp`` did, read back from their execution log."""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from backburner import Backburner, JobFunction
from tests.acceptance.harness import Harness


@dataclass
class Run:
    job_id: str
    pid: int
    attempt: int
    start: float
    end: float | None = None


def runs(harness: Harness) -> dict[str, list[Run]]:
    """Every run of every job, in the order they started."""
    found: dict[str, list[Run]] = collections.defaultdict(list)
    open_runs: dict[tuple[str, int, int], Run] = {}
    for event in harness.events():
        key = (event.job_id, event.pid, event.attempt)
        if event.event == "start":
            run = Run(event.job_id, event.pid, event.attempt, float(event.detail))
            found[event.job_id].append(run)
            open_runs[key] = run
        elif event.event == "end" and key in open_runs:
            open_runs.pop(key).end = float(event.detail)
    return dict(found)


def assert_each_ran_once(harness: Harness, job_ids: Iterable[str]) -> None:
    """Every job ran once, to its end; none ran twice, at the same time or not."""
    seen = runs(harness)
    twice = {job_id: r for job_id, r in seen.items() if len(r) > 1}
    assert not twice, f"jobs that ran more than once: {twice}"
    missing = set(job_ids) - set(seen)
    assert not missing, f"jobs that never ran: {sorted(missing, key=int)}"
    unfinished = [r[0] for r in seen.values() if r[0].end is None]
    assert not unfinished, f"runs that never ended: {unfinished}"


def assert_no_overlap(harness: Harness) -> None:
    """No job ran twice at the same time (for faults after which a second run is allowed)."""
    for job_id, job_runs in runs(harness).items():
        for before, after in itertools.pairwise(job_runs):
            overlap = before.end is None or before.end > after.start
            assert not overlap, f"job {job_id} ran twice at once: {before} and {after}"


def history_reasons(app: Backburner, job_ids: Iterable[str]) -> dict[str, list[str]]:
    """Each job's history reasons."""
    reasons: dict[str, list[str]] = {}
    for job_id in job_ids:
        job: Any = app.jobs.get(job_id)
        reasons[job_id] = [h.reason or "" for h in job.history]
    return reasons


def rescued(app: Backburner, job_ids: Iterable[str]) -> dict[str, list[str]]:
    """The jobs some server took for a dead server's, with their history reasons."""
    return {
        job_id: reasons
        for job_id, reasons in history_reasons(app, job_ids).items()
        if any("rescued" in reason for reason in reasons)
    }


def client(url: str) -> tuple[Backburner, JobFunction[[float], int]]:
    """An app on ``url`` for the test itself, and ``faultapp.work`` to enqueue (it runs in
    the servers, never here)."""
    app = Backburner(url)

    @app.job(name="faults.work")
    def work(seconds: float = 0.0) -> int:
        raise AssertionError("faults.work runs in the servers under test")

    return app, work
