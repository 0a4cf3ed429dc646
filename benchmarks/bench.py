"""Backburner throughput and latency benchmarks.

    .venv/bin/python benchmarks/bench.py --storage sqlite [--jobs 10000] [--repeat 3]
    .venv/bin/python benchmarks/bench.py --storage postgres --url postgresql://u@host/db

Every measurement starts from empty storage: a new SQLite file in a temporary directory, or
a new schema (dropped afterwards) in the PostgreSQL database ``--url`` names.

- enqueue: ``job.enqueue(i)`` one at a time, ``job.enqueue_many()`` of all jobs in one call,
  and ``enqueue_many()`` in batches of 1,000, all from this process.
- drain: ``--jobs`` no-op jobs are enqueued first, then ONE server runs in a separate
  process (``backburner server --app benchmarks.benchapp:app --workers W``). The rate is
  jobs / (last ``finished_at`` - first ``started_at``) read back from the job rows, so the
  process start-up is excluded; the wall time from spawning the process until this process
  sees every job succeeded is reported in the JSON output as well.
- latency: an idle server in another process; this process enqueues ``stamp(time.time())``
  one job at a time, on average ``--latency-gap`` seconds apart (jittered +-50% so that
  enqueues land at every phase of the server's polling); each job returns the time it
  started.
  Reported: p50/p95/p99 of (start - enqueue).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``benchmarks.benchapp`` importable
    sys.path.insert(0, str(ROOT))

from backburner import Backburner, Job, JobState  # noqa: E402

if TYPE_CHECKING:
    from benchmarks.benchapp import BenchJobs

SERVER_APP = "benchmarks.benchapp:app"
DRAIN_TIMEOUT = 300.0

# The goals each backend is held to on a 2-core machine, by measurement key (a key that
# ends in "_" covers every key that starts with it).
GOALS: dict[str, dict[str, float]] = {
    "sqlite": {
        "enqueue_many": 50_000,
        "drain_": 8_000,
        "latency_sync_p50": 20.0,
        "latency_async_p50": 20.0,
    },
    "postgres": {
        "enqueue_one": 2_000,
        "enqueue_many": 100_000,
        # One process at 10,000 jobs/s takes enough workers that a claim carries more than
        # a few jobs: with 10, each batch of 10 waits for its claim's round trip.
        "drain_sync_100": 10_000,
        "drain_async_100": 10_000,
        "latency_sync_p50": 5.0,
        "latency_async_p50": 5.0,
        "latency_sync_p95": 20.0,
        "latency_async_p95": 20.0,
        "rescue": 10.0,
    },
}


def goal_for(storage: str, key: str) -> float | None:
    for pattern, goal in GOALS[storage].items():
        if key == pattern or (pattern.endswith("_") and key.startswith(pattern)):
            return goal
    return None


# --- where the jobs are stored ------------------------------------------------------------


class Target(Protocol):
    """Hands out URLs of empty storage, and removes them all at the end."""

    name: str

    def prepare(self) -> None: ...

    def fresh(self) -> str: ...

    def describe(self) -> str: ...

    def cleanup(self) -> None: ...


class SQLiteTarget:
    name = "sqlite"

    def __init__(self, synchronous: str = "normal") -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="backburner-bench-")
        self._count = 0
        self._synchronous = synchronous

    def prepare(self) -> None:
        pass

    def fresh(self) -> str:
        self._count += 1
        return f"sqlite:///{self._dir.name}/bench-{self._count}.db?synchronous={self._synchronous}"

    def describe(self) -> str:
        return (
            f"SQLite {sqlite3.sqlite_version} (synchronous={self._synchronous}), "
            f"files in {self._dir.name}"
        )

    def cleanup(self) -> None:
        self._dir.cleanup()


_BLOATED_CATALOGS = (
    "pg_attribute",
    "pg_attrdef",
    "pg_class",
    "pg_constraint",
    "pg_depend",
    "pg_index",
    "pg_namespace",
    "pg_sequence",
    "pg_type",
)


class PostgresTarget:
    """A fresh schema per measurement (``?schema=bench_...``), dropped at the end."""

    name = "postgres"

    def __init__(self, url: str) -> None:
        self._url = url
        self._schemas: list[str] = []

    def prepare(self) -> None:
        """Vacuum PostgreSQL's own catalogs, which making and dropping schemas (as every
        measurement here and every test run does) fills with dead rows that slow down the
        planning of every statement. Autovacuum would; on machines that run without it,
        `enqueue_many` ran 13% slower after a test run until this was done."""
        import psycopg

        tables = ", ".join(f"pg_catalog.{name}" for name in _BLOATED_CATALOGS)
        with psycopg.connect(self._connect_url(), autocommit=True) as conn:
            conn.execute(f"VACUUM {tables}")  # without the rights, a warning and no effect

    def fresh(self) -> str:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        self._schemas.append(schema)
        parts = urlsplit(self._url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"]
        query.append(("schema", schema))
        return urlunsplit(parts._replace(query=urlencode(query)))

    def _connect_url(self) -> str:
        parts = urlsplit(self._url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def describe(self) -> str:
        import psycopg

        with psycopg.connect(self._connect_url()) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        version = row[0] if row else "?"
        return f"PostgreSQL {version} at {urlsplit(self._url).hostname}"

    def cleanup(self) -> None:
        if not self._schemas:
            return
        import psycopg

        with psycopg.connect(self._connect_url(), autocommit=True) as conn:
            for schema in self._schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self._schemas.clear()


# --- helpers -------------------------------------------------------------------------


def bench_jobs(app: Backburner) -> BenchJobs:
    # Imported late: benchapp builds its own app from BACKBURNER_URL at import time.
    os.environ.setdefault("BACKBURNER_URL", "sqlite:///unused-bench.db")
    from benchmarks.benchapp import register

    return register(app)


@contextlib.contextmanager
def client(url: str) -> Iterator[tuple[Backburner, BenchJobs]]:
    app = Backburner(url)
    jobs = bench_jobs(app)
    app.migrate()
    try:
        yield app, jobs
    finally:
        app.close()


def process_env(url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a Backburner process on ``url`` that imports these benchmarks."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, BACKBURNER_URL=url, PYTHONPATH=path, **(extra or {}))
    env.pop("BACKBURNER_APP", None)
    return env


@contextlib.contextmanager
def process(
    command: list[str], env: dict[str, str], log: IO[bytes]
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` in a separate process; stopped with SIGTERM on exit."""
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def server_process(url: str, workers: int, log: IO[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """``backburner server`` in a separate process; stopped with SIGTERM on exit."""
    command = [sys.executable, "-m", "backburner", "server", "--app", SERVER_APP]
    command += ["--workers", str(workers)]
    with process(command, process_env(url), log) as proc:
        yield proc


def wait_for(
    check: Callable[[], bool],
    process: subprocess.Popen[bytes],
    timeout: float,
    what: str,
    pause: float = 0.01,
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if process.poll() is not None:
            raise RuntimeError(f"the server process exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(pause)


def succeeded(app: Backburner) -> int:
    return app.storage.job_counts().get(JobState.SUCCEEDED, 0)


def succeeded_jobs(app: Backburner, most: int) -> list[Job]:
    """Up to ``most`` succeeded jobs, read in pages no larger than a page may be."""
    jobs: list[Job] = []
    while len(jobs) < most:
        page = app.jobs.list(
            state=JobState.SUCCEEDED, limit=min(10_000, most - len(jobs)), offset=len(jobs)
        )
        jobs += page
        if not page:
            break
    return jobs


def cpu_yardstick() -> float:
    """Seconds a fixed pure-Python loop takes: how fast this machine's CPU is right now.

    Shared machines change speed from one minute to the next; the results are only
    comparable next to this number.
    """
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --- measurements ----------------------------------------------------------------------


@dataclasses.dataclass
class Measurement:
    key: str
    label: str
    unit: str
    value: float
    goal: float | None = None
    higher_is_better: bool = True
    extra: dict[str, float] = dataclasses.field(default_factory=dict)


def bench_enqueue_one(target: Target, count: int) -> Measurement:
    with client(target.fresh()) as (_app, jobs):
        jobs.noop.enqueue(-1)  # opens the connection: not timed
        start = time.perf_counter()
        for i in range(count):
            jobs.noop.enqueue(i)
        elapsed = time.perf_counter() - start
    return Measurement(
        "enqueue_one",
        f"enqueue one by one ({count:,} jobs)",
        "jobs/s",
        count / elapsed,
        goal=goal_for(target.name, "enqueue_one"),
    )


def bench_enqueue_many(target: Target, count: int, batch: int | None) -> Measurement:
    with client(target.fresh()) as (_app, jobs):
        jobs.noop.enqueue(-1)
        calls = [(i,) for i in range(count)]
        size = batch or count
        start = time.perf_counter()
        for first in range(0, count, size):
            jobs.noop.enqueue_many(calls[first : first + size])
        elapsed = time.perf_counter() - start
    if batch is None:
        key, label = "enqueue_many", f"enqueue_many, {count:,} jobs in one call"
    else:
        key, label = f"enqueue_many_{batch}", f"enqueue_many in batches of {batch:,}"
    return Measurement(key, label, "jobs/s", count / elapsed, goal=goal_for(target.name, key))


def bench_drain(target: Target, count: int, workers: int, kind: str, log: IO[bytes]) -> Measurement:
    url = target.fresh()
    with client(url) as (app, jobs):
        job = jobs.noop if kind == "sync" else jobs.async_noop
        for first in range(0, count, 10_000):
            job.enqueue_many([(i,) for i in range(first, min(count, first + 10_000))])
        spawned = time.perf_counter()
        with server_process(url, workers, log) as process:
            wait_for(
                lambda: succeeded(app) >= count,
                process,
                DRAIN_TIMEOUT,
                f"{count} jobs to succeed",
                pause=0.02,
            )
            observed = time.perf_counter() - spawned
        done = succeeded_jobs(app, count + 1)
        others = sum(n for s, n in app.storage.job_counts().items() if s != JobState.SUCCEEDED)
    if len(done) != count or others:
        raise RuntimeError(f"drain: {len(done)} succeeded, {others} in other states")
    first_start = min(j.started_at for j in done if j.started_at is not None)
    last_finish = max(j.finished_at for j in done if j.finished_at is not None)
    span = (last_finish - first_start).total_seconds()
    name = "`def`" if kind == "sync" else "`async def`"
    label = f"drain {count:,} {name} no-ops, {workers} workers"
    key = f"drain_{kind}_{workers}"
    return Measurement(
        key,
        label,
        "jobs/s",
        count / span,
        goal=goal_for(target.name, key),
        extra={"span_s": span, "wall_incl_startup_s": observed},
    )


def bench_latency(
    target: Target, count: int, gap: float, kind: str, log: IO[bytes]
) -> list[Measurement]:
    url = target.fresh()
    with client(url) as (app, jobs), server_process(url, 10, log) as process:
        job = jobs.stamp if kind == "sync" else jobs.async_stamp
        wait_for(lambda: len(app.storage.server_list()) > 0, process, 60, "the server to start")
        # Warm up (imports, connections, first claims), then let the server go idle.
        warm = [job.enqueue(time.time()) for _ in range(5)]
        wait_for(lambda: succeeded(app) >= len(warm), process, 60, "warm-up jobs")
        time.sleep(1.0)
        # Jittered pauses, so enqueues fall at every phase of the server's polling.
        pauses = random.Random(count).uniform
        ids = []
        for _ in range(count):
            ids.append(job.enqueue(time.time()))
            time.sleep(pauses(0.5 * gap, 1.5 * gap))
        total = count + len(warm)
        wait_for(lambda: succeeded(app) >= total, process, 60, "latency jobs", pause=0.02)
        latencies = []
        for job_id in ids:
            found = app.jobs.get(job_id)
            if found is None or not isinstance(found.result, list):
                raise RuntimeError(f"latency job {job_id} has no stamp: {found}")
            enqueued_at, started_at = found.result
            latencies.append((started_at - enqueued_at) * 1000)
    name = "`def`" if kind == "sync" else "`async def`"
    results = []
    for p in (50, 95, 99):
        key = f"latency_{kind}_p{p}"
        results.append(
            Measurement(
                key,
                f"enqueue→start latency p{p}, {name} job, other process",
                "ms",
                percentile(latencies, p),
                goal=goal_for(target.name, key),
                higher_is_better=False,
                extra={"max_ms": max(latencies), "mean_ms": statistics.fmean(latencies)},
            )
        )
    return results


def bench_rescue(target: Target, workers: int, log: IO[bytes]) -> Measurement:
    """SIGKILL a server busy with long jobs; time until another server has restarted them all.

    Both servers run with the default ``server_timeout``, and the survivor has been up for
    longer than that when the other dies, as in production. Both claim some of the long jobs;
    once the other one is killed, the survivor's own are deleted (which cancels them) so that
    its slots are free for the rescued ones.
    """
    url = target.fresh()
    timeout = Backburner("memory://").settings.server.server_timeout
    with client(url) as (app, jobs), server_process(url, workers, log) as survivor:
        wait_for(lambda: len(app.storage.server_list()) == 1, survivor, 60, "the first server")
        [survivor_id] = [s.id for s in app.storage.server_list()]
        time.sleep(timeout + 1)

        def running(job_id: str) -> Job | None:
            job = app.jobs.get(job_id)
            return job if job is not None and job.state is JobState.PROCESSING else None

        with server_process(url, workers, log) as doomed:
            wait_for(lambda: len(app.storage.server_list()) == 2, doomed, 60, "a second server")
            ids = jobs.nap.enqueue_many([(600.0,)] * (2 * workers))
            wait_for(lambda: all(map(running, ids)), doomed, 60, "every long job to start")
            on_survivor = [i for i in ids if (j := running(i)) and j.server_id == survivor_id]
            on_doomed = [i for i in ids if i not in on_survivor]
            doomed.kill()
            killed = dt.datetime.now(dt.UTC)
            doomed.wait()
        for job_id in on_survivor:
            app.jobs.delete(job_id)

        def restarted() -> bool:
            found = [running(job_id) for job_id in on_doomed]
            return all(j is not None and j.server_id == survivor_id for j in found)

        wait_for(restarted, survivor, 120, "the dead server's jobs to restart")
        starts = [j.started_at for i in on_doomed if (j := running(i)) and j.started_at]
        back = (max(starts) - killed).total_seconds()
    return Measurement(
        "rescue",
        f"a killed server's jobs running again elsewhere ({len(on_doomed)} jobs, "
        f"server_timeout {timeout:g} s)",
        "s",
        back,
        goal=goal_for(target.name, "rescue"),
        higher_is_better=False,
    )


# --- running and reporting -----------------------------------------------------------


def run_once(args: argparse.Namespace, target: Target, log: IO[bytes]) -> list[Measurement]:
    results: list[Measurement] = []
    parts = set(args.only.split(","))

    def note(found: Measurement | list[Measurement]) -> None:
        for m in found if isinstance(found, list) else [found]:
            results.append(m)
            print(f"  {m.label}: {m.value:,.1f} {m.unit}", file=sys.stderr, flush=True)

    if "enqueue" in parts:
        note(bench_enqueue_one(target, args.enqueue_one))
        note(bench_enqueue_many(target, args.jobs, None))
        note(bench_enqueue_many(target, args.jobs, 1000))
    if "drain" in parts:
        for kind in args.kinds.split(","):
            for workers in (int(w) for w in args.workers.split(",")):
                note(bench_drain(target, args.jobs, workers, kind, log))
    if "latency" in parts:
        for kind in args.kinds.split(","):
            note(bench_latency(target, args.latency_jobs, args.latency_gap, kind, log))
    if "rescue" in parts:
        note(bench_rescue(target, 10, log))
    return results


def _fmt(value: float, unit: str) -> str:
    return f"{value:,.1f}" if unit in ("ms", "s") else f"{value:,.0f}"


def table(runs: list[list[Measurement]]) -> str:
    by_key: dict[str, list[Measurement]] = {}
    for run in runs:
        for m in run:
            by_key.setdefault(m.key, []).append(m)
    many = len(runs) > 1
    head = (
        "| Measurement | Result | " + ("Spread (min to max) | " if many else "") + "Goal | Meets |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for found in by_key.values():
        first = found[0]
        values = [m.value for m in found]
        median = statistics.median(values)
        result = f"{_fmt(median, first.unit)} {first.unit}"
        spread = f"{_fmt(min(values), first.unit)} to {_fmt(max(values), first.unit)} | "
        if first.goal is None:
            goal, meets = "", ""
        else:
            sign = "≥" if first.higher_is_better else "<"
            goal = f"{sign} {_fmt(first.goal, first.unit)} {first.unit}"
            ok = median >= first.goal if first.higher_is_better else median < first.goal
            meets = "yes" if ok else "**no**"
        lines.append(f"| {first.label} | {result} | {spread if many else ''}{goal} | {meets} |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--storage", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--url", help="PostgreSQL URL (a schema per measurement is made in it)")
    parser.add_argument(
        "--synchronous", choices=["normal", "full"], default="normal", help="SQLite durability"
    )
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs to drain / enqueue_many")
    parser.add_argument("--enqueue-one", type=int, default=2_000, help="jobs enqueued one by one")
    parser.add_argument("--workers", default="10,32", help="server worker counts to drain with")
    parser.add_argument("--kinds", default="sync,async", help="job kinds: sync, async")
    parser.add_argument("--latency-jobs", type=int, default=200)
    parser.add_argument("--latency-gap", type=float, default=0.02, help="seconds between jobs")
    parser.add_argument(
        "--only", default="enqueue,drain,latency,rescue", help="what to measure (comma-separated)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs; the table shows medians")
    parser.add_argument("--json", type=Path, help="write every measurement here")
    args = parser.parse_args(argv)
    if args.storage == "postgres" and not args.url:
        parser.error("--storage postgres needs --url postgresql://user@host/db")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    target: Target = (
        SQLiteTarget(args.synchronous) if args.storage == "sqlite" else PostgresTarget(args.url)
    )
    runs: list[list[Measurement]] = []
    target.prepare()
    before = cpu_yardstick()
    try:
        with tempfile.TemporaryFile(prefix="backburner-bench-server-") as log:
            try:
                for number in range(args.repeat):
                    print(f"run {number + 1} of {args.repeat}", file=sys.stderr, flush=True)
                    runs.append(run_once(args, target, log))
            except Exception:
                log.seek(0)
                tail = log.read()[-4000:].decode(errors="replace")
                print(f"server output (end):\n{tail}", file=sys.stderr)
                raise
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        after = cpu_yardstick()
        environment = (
            f"{os.cpu_count()} CPUs (load average at the end {load}; a 10-million-step "
            f"Python loop took {before:.2f} s before and {after:.2f} s after), "
            f"Python {platform.python_version()}, {target.describe()}"
        )
    finally:
        target.cleanup()
    print(f"\n{environment}; {len(runs)} run(s)\n")
    print(table(runs))
    if args.json:
        raw: dict[str, Any] = {
            "environment": environment,
            "runs": [[dataclasses.asdict(m) for m in run] for run in runs],
        }
        args.json.write_text(json.dumps(raw, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
