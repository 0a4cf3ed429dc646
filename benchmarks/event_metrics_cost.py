"""What counting the job events for ``metrics`` costs a server's drain rate.

    .venv/bin/python benchmarks/event_metrics_cost.py [--jobs 20000] [--repeat 5]

One in-process server (10 workers) drains ``--jobs`` no-op jobs from a new SQLite file,
in turn with nobody subscribed to the events, with a subscriber that does nothing (the
cost of building and dispatching the events) and with the dashboard's ``JobMetrics``.
Prints the jobs a second of each run and the median of each mode.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backburner import Backburner, JobState  # noqa: E402
from backburner._events import JobEnqueued, JobFailed, JobStarted, JobSucceeded  # noqa: E402
from backburner.web._job_metrics import JobMetrics  # noqa: E402

MODES = ("nobody", "no-op subscriber", "JobMetrics")


def drain(mode: str, jobs: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        app = Backburner(f"sqlite:///{folder}/jobs.db")

        @app.job(name="noop")
        def noop(i: int) -> None: ...

        if mode == "no-op subscriber":
            app.events.subscribe(lambda e: None, JobEnqueued, JobStarted, JobSucceeded, JobFailed)
        elif mode == "JobMetrics":
            JobMetrics(app.events)
        noop.enqueue_many([(i,) for i in range(jobs)])
        began = time.perf_counter()
        with app.start_server(workers=10, server_timeout=5):
            while app.engine.job_counts().get(JobState.SUCCEEDED, 0) < jobs:
                time.sleep(0.02)
        took = time.perf_counter() - began
        app.close()
        return jobs / took


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    rates: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(args.repeat):
        for mode in MODES:  # interleaved, so that a slow moment of the machine hits all
            rates[mode].append(drain(mode, args.jobs))
    for mode, found in rates.items():
        runs = ", ".join(f"{rate:.0f}" for rate in found)
        print(f"{mode:18} median {statistics.median(found):6.0f} jobs/s  ({runs})")


if __name__ == "__main__":
    main()
