"""Drain no-op jobs with a server in THIS process, to profile it and count storage calls.

``--profile cprofile|pyinstrument`` profiles the server's event-loop thread only.

    .venv/bin/python benchmarks/profile_drain.py --workers 10 --kind sync
    .venv/bin/python benchmarks/profile_drain.py --profile pyinstrument  # or cprofile
    .venv/bin/python benchmarks/profile_drain.py --url 'postgresql://u@host/db?schema=drain'
    py-spy record -o drain.svg -- .venv/bin/python benchmarks/profile_drain.py

Prints the drain rate (first claim to last outcome, from the job rows), and how many times
each storage method was called with how many jobs per call: the server's batching at work.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import functools
import os
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backburner import Backburner, JobState  # noqa: E402
from backburner.server.server import Server  # noqa: E402
from benchmarks.bench import bench_jobs  # noqa: E402

PORT_VERBS = ("job_claim", "job_finish_many")
COUNTED = (
    "job_claim",
    "job_finish_many",
    "job_stage_due",
    "job_next_due",
    "recurring_due",
    "recurring_next_run",
    "job_lost",
    "server_heartbeat",
)


class CallCounter:
    """Wraps storage methods to count calls, time spent in them and jobs per call."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.items: collections.Counter[str] = collections.Counter()
        self.seconds: dict[str, float] = collections.defaultdict(float)
        self._lock = threading.Lock()

    def wrap(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def counted(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            result = method(*args, **kwargs)
            self._count(name, time.perf_counter() - start, result)
            return result

        return counted

    def wrap_async(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        async def counted(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            result = await method(*args, **kwargs)
            self._count(name, time.perf_counter() - start, result)
            return result

        return counted

    def wrap_claim_port(self, storage: Any) -> None:
        """Count the claims and outcomes a server makes through ``storage.claim_port()``."""
        make = storage.claim_port

        def counted_port() -> Any:
            port = make()
            for name in PORT_VERBS:
                setattr(port, name, self.wrap_async(name, getattr(port, name)))
            return port

        storage.claim_port = counted_port

    def _count(self, name: str, spent: float, result: Any) -> None:
        with self._lock:
            self.calls[name] += 1
            self.seconds[name] += spent
            if isinstance(result, list):
                self.items[name] += len(result)

    def report(self) -> str:
        lines = [f"{'storage call':<18}{'calls':>8}{'jobs/call':>11}{'ms/call':>9}{'total s':>9}"]
        for name in COUNTED:
            calls = self.calls[name]
            if not calls:
                continue
            per = f"{self.items[name] / calls:.1f}" if self.items[name] else "-"
            ms = self.seconds[name] / calls * 1000
            lines.append(f"{name:<18}{calls:>8}{per:>11}{ms:>9.2f}{self.seconds[name]:>9.2f}")
        return "\n".join(lines)


def thread_cpu() -> dict[str, float]:
    """CPU seconds used so far by each live thread, by thread name (Linux only)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    used: dict[str, float] = collections.defaultdict(float)
    for thread in threading.enumerate():
        stat = Path(f"/proc/self/task/{thread.native_id}/stat")
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        kind = thread.name.rstrip("0123456789").rstrip("-_")
        kind = kind.split("_")[0] if kind.startswith("backburner-io") else kind
        kind = "backburner-maintenance" if "maintenance" in kind else kind
        kind = "server event loop" if kind.startswith("backburner-") and ":" in kind else kind
        used[kind] += (int(fields[11]) + int(fields[12])) / tick
    return used


@contextmanager
def profiled(kind: str, output: Path | None) -> Iterator[None]:
    """Profile the server's event-loop thread (where claims, runs and flushes are driven)."""
    if kind == "none":
        yield
        return
    original = Server.serve
    report: list[Callable[[], None]] = []

    async def serve(self: Server) -> None:
        if kind == "cprofile":
            profile = cProfile.Profile()
            profile.enable()
            try:
                await original(self)
            finally:
                profile.disable()

            def show() -> None:
                if output:
                    profile.dump_stats(output)
                pstats.Stats(profile).sort_stats("tottime").print_stats(35)

        else:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002, async_mode="disabled")
            profiler.start()
            try:
                await original(self)
            finally:
                profiler.stop()

            def show() -> None:
                if output:
                    output.write_text(profiler.output_html())
                print(profiler.output_text(unicode=True, color=False))

        report.append(show)

    Server.serve = serve  # type: ignore[method-assign]
    try:
        yield
    finally:
        Server.serve = original  # type: ignore[method-assign]
        for show in report:
            show()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--kind", choices=["sync", "async"], default="sync")
    parser.add_argument("--profile", choices=["none", "cprofile", "pyinstrument"], default="none")
    parser.add_argument("--output", type=Path, help="profile output (pstats, or pyinstrument html)")
    parser.add_argument(
        "--url", help="storage URL to drain in (default: a new SQLite file); must be empty"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="backburner-profile-") as folder:
        app = Backburner(args.url or f"sqlite:///{folder}/drain.db")
        jobs = bench_jobs(app)
        job = jobs.noop if args.kind == "sync" else jobs.async_noop
        job.enqueue_many([(i,) for i in range(args.jobs)])
        counter = CallCounter()
        storage = app.storage
        for name in COUNTED:
            # A port may make its calls through the synchronous verbs: count those once.
            if hasattr(storage, name) and name not in PORT_VERBS:
                setattr(storage, name, counter.wrap(name, getattr(storage, name)))
        counter.wrap_claim_port(storage)
        started = time.perf_counter()
        cpu = time.process_time()
        with profiled(args.profile, args.output), app.start_server(workers=args.workers):
            before = thread_cpu()
            while storage.job_counts()[JobState.SUCCEEDED] < args.jobs:
                time.sleep(0.02)
            after = thread_cpu()
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        done = app.jobs.list(state=JobState.SUCCEEDED, limit=args.jobs)
        first = min(j.started_at for j in done if j.started_at)
        last = max(j.finished_at for j in done if j.finished_at)
        span = (last - first).total_seconds()
        app.close()
    print(
        f"{args.jobs} {args.kind} no-ops, {args.workers} workers: {args.jobs / span:,.0f} jobs/s "
        f"(first claim to last outcome {span:.2f} s; wall incl. start and stop {wall:.2f} s; "
        f"CPU {cpu:.2f} s = {cpu / args.jobs * 1e6:.0f} µs/job)"
    )
    print(counter.report())
    print("CPU seconds by thread during the drain:")
    for name, seconds in sorted(after.items(), key=lambda item: -item[1]):
        print(f"  {name:<28}{seconds - before.get(name, 0.0):6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
