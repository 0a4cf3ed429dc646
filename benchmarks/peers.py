"""Backburner side by side with pgqueuer and Huey, on one no-op workload, in one run.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/peers.py [--repeat 2] [--jobs 10000] \\
        [--url postgresql://postgres@127.0.0.1:5432/test] [--only drain,enqueue,latency]

Every system gets the same work: ``--jobs`` jobs with one int argument that do nothing,
enqueued in one go, then drained by the system's own worker command in a process of its
own, on this machine's PostgreSQL or an SQLite file. Systems and settings take turns,
round after round (``--repeat``); the table gives medians, and ratios of Backburner to
each peer come from the same rounds.

- **drain**: from the moment the first job leaves the waiting set to the moment none is
  left, polled every 5 ms the same way for every system (a count of its waiting and
  running jobs). Beside each rate: the CPU the worker's processes spent per job, and on
  PostgreSQL the CPU of the database's processes per job (both read from ``/proc``).
- **enqueue**: one by one from one process, and in one call where the system has one.
- **latency**: an idle worker; 200 jobs enqueued 10 to 30 ms apart, each writing when it
  started; start minus enqueue, p50 and p95.

Settings: each worker command's defaults, then the settings that did best here (printed
with each row). Durability is each system's default.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench import cpu_yardstick  # noqa: E402

BIN = Path(sys.executable).parent
TICK = 0.005  # seconds between two polls of the waiting count
LATENCY_JOBS = 200


# --- measuring processes ----------------------------------------------------------------


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        found.append((int(entry.name), ppid, name))
    return found


def tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and every process under it (threads included)."""
    processes = _processes()
    pids, grew = {root}, True
    while grew:
        more = {pid for pid, ppid, _ in processes if ppid in pids} - pids
        pids |= more
        grew = bool(more)
    return sum(_cpu_of(pid) for pid in pids)


def database_cpu() -> float:
    """CPU seconds of PostgreSQL's processes."""
    return sum(_cpu_of(pid) for pid, _, name in _processes() if name.startswith("postgres"))


@contextlib.contextmanager
def worker(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": path},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- the systems ------------------------------------------------------------------------


@dataclass
class Drained:
    rate: float
    worker_us: float
    database_us: float | None


class System:
    """One system on one storage: how to enqueue, count and run its jobs."""

    name: str
    postgres: bool

    def reset(self) -> None:
        pass

    def enqueue_many(self, count: int, kind: str) -> None:
        pass

    def enqueue_one(self, count: int) -> float:
        raise NotImplementedError

    def enqueue_stamp(self) -> None:
        pass

    def waiting(self) -> int:
        raise NotImplementedError

    def command(self, setting: str) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def drain(self, count: int, kind: str, setting: str) -> Drained:
        self.reset()
        self.enqueue_many(count, kind)
        command, env = self.command(setting)
        with worker(command, env) as process:
            deadline = time.monotonic() + 300
            while self.waiting() >= count:
                check(process, deadline)
                time.sleep(TICK / 5)
            started = time.perf_counter()
            cpu, db = tree_cpu(process.pid), database_cpu()
            while self.waiting() > 0:
                check(process, deadline)
                time.sleep(TICK)
            span = time.perf_counter() - started
            cpu, db = tree_cpu(process.pid) - cpu, database_cpu() - db
        per_job = 1e6 / count
        return Drained(count / span, cpu * per_job, db * per_job if self.postgres else None)

    def latency(self, setting: str, stamps: Path) -> tuple[float, float]:
        self.reset()
        stamps.write_text("")
        command, env = self.command(setting)
        with worker(command, {**env, "PEERS_STAMPS": str(stamps)}) as process:
            deadline = time.monotonic() + 120
            self.enqueue_stamp()  # the first one waits for the worker to be up
            while len(self.stamps(stamps)) < 1:
                check(process, deadline)
                time.sleep(0.01)
            time.sleep(1.0)
            pause = random.Random(7).uniform
            for _ in range(LATENCY_JOBS):
                self.enqueue_stamp()
                time.sleep(pause(0.01, 0.03))
            while len(found := self.stamps(stamps)) < LATENCY_JOBS + 1:
                check(process, deadline)
                time.sleep(0.05)
        first = min(found)
        ms = sorted((start - enqueued) * 1000 for enqueued, start in found if enqueued != first[0])
        return ms[len(ms) // 2], ms[int(len(ms) * 0.95)]

    def stamps(self, stamps: Path) -> list[tuple[float, float]]:
        """(enqueued, started) of every stamp job that ran, from the file they write."""
        lines = stamps.read_text().splitlines()
        return [(float(a), float(b)) for a, b in (line.split() for line in lines)]


def check(process: subprocess.Popen[bytes], deadline: float) -> None:
    if process.poll() is not None:
        raise RuntimeError(f"the worker exited ({process.returncode})")
    if time.monotonic() > deadline:
        raise TimeoutError("the worker took too long")


class Backburner(System):
    def __init__(self, url: str | None, folder: Path) -> None:
        from backburner import Backburner as App
        from benchmarks.bench import bench_jobs

        self.postgres = url is not None
        self.name = "Backburner" + (" (PG)" if url else " (SQLite)")
        if url is not None:
            self._schema = f"peers_bb_{uuid.uuid4().hex[:8]}"
            self.url = f"{url}{'&' if '?' in url else '?'}schema={self._schema}"
        else:
            self.url = f"sqlite:///{folder / 'backburner.db'}"
        self._app_class = App
        self._register = bench_jobs
        self._app: Any = None

    def reset(self) -> None:
        self.close()
        if self.postgres:
            _drop_schema(self.url, self._schema)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(self.url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        self._app = self._app_class(self.url)
        self._jobs = self._register(self._app)
        self._app.migrate()

    def enqueue_many(self, count: int, kind: str) -> None:
        job = self._jobs.noop if kind == "sync" else self._jobs.async_noop
        job.enqueue_many([(i,) for i in range(count)])

    def enqueue_one(self, count: int) -> float:
        self.reset()
        started = time.perf_counter()
        for i in range(count):
            self._jobs.noop.enqueue(i)
        return count / (time.perf_counter() - started)

    def enqueue_stamp(self) -> None:
        self._jobs.stamp.enqueue(time.time())

    def stamps(self, stamps: Path) -> list[tuple[float, float]]:
        # Its stamp job (benchmarks/benchapp.py) returns the two times as its result.
        from backburner import JobState

        found = self._app.jobs.list(state=JobState.SUCCEEDED, limit=1000)
        return [tuple(job.result) for job in found if isinstance(job.result, list)]

    def waiting(self) -> int:
        from backburner import JobState

        counts = self._app.storage.job_counts()
        return int(counts.get(JobState.ENQUEUED, 0) + counts.get(JobState.PROCESSING, 0))

    def command(self, setting: str) -> tuple[list[str], dict[str, str]]:
        command = [str(BIN / "backburner"), "server", "--app", "benchmarks.benchapp:app"]
        if setting != "defaults":
            command += ["--workers", setting.removeprefix("workers ")]
        return command, {"BACKBURNER_URL": self.url}

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None


class PgQueuer(System):
    postgres = True
    name = "pgqueuer"

    def __init__(self, url: str) -> None:
        self._dsn = url.split("?", 1)[0]
        self._schema = f"peers_pgq_{uuid.uuid4().hex[:8]}"
        self._loop = asyncio.new_event_loop()
        self._conn: Any = None

    def _run(self, coroutine: Any) -> Any:
        return self._loop.run_until_complete(coroutine)

    def reset(self) -> None:
        import asyncpg
        from pgqueuer import Queries
        from pgqueuer.db import AsyncpgDriver

        self.close()
        _drop_schema(self._dsn, self._schema)
        with _psycopg(self._dsn) as conn:
            conn.execute(f'CREATE SCHEMA "{self._schema}"')
        subprocess.run(
            [str(BIN / "pgq"), "install"],
            env={**os.environ, **self._env()},
            check=True,
            capture_output=True,
        )

        async def connect() -> Any:
            return await asyncpg.connect(self._dsn, server_settings={"search_path": self._schema})

        self._conn = self._run(connect())
        self._queries = Queries(AsyncpgDriver(self._conn))

    def _env(self) -> dict[str, str]:
        return {"PGDSN": self._dsn, "PGQUEUER_SCHEMA": self._schema}

    def enqueue_many(self, count: int, kind: str) -> None:
        entrypoint = "sync_noop" if kind == "sync" else "noop"
        self._run(
            self._queries.enqueue(
                [entrypoint] * count, [str(i).encode() for i in range(count)], [0] * count
            )
        )

    def enqueue_one(self, count: int) -> float:
        self.reset()

        async def one_by_one() -> None:
            for i in range(count):
                await self._queries.enqueue("noop", str(i).encode())

        started = time.perf_counter()
        self._run(one_by_one())
        return count / (time.perf_counter() - started)

    def enqueue_stamp(self) -> None:
        self._run(self._queries.enqueue("stamp", str(time.time()).encode()))

    def waiting(self) -> int:
        async def count() -> int:
            return int(await self._conn.fetchval("SELECT count(*) FROM pgqueuer"))

        return int(self._run(count()))

    def command(self, setting: str) -> tuple[list[str], dict[str, str]]:
        batch = "10" if setting == "defaults" else setting.removeprefix("batch size ")
        return [sys.executable, "-m", "benchmarks.peers_apps", batch], self._env()

    def close(self) -> None:
        if self._conn is not None:
            self._run(self._conn.close())
            self._conn = None


class Huey(System):
    postgres = False
    name = "Huey (SQLite)"

    def __init__(self, folder: Path) -> None:
        self._path = folder / "huey.db"
        os.environ["PEERS_HUEY_DB"] = str(self._path)  # read when peers_apps is imported
        from benchmarks import peers_apps

        self._apps = peers_apps

    def reset(self) -> None:
        self._apps.huey.flush()

    def enqueue_many(self, count: int, kind: str) -> None:
        for i in range(count):  # Huey has no call for many
            self._apps.huey_noop(i)

    def enqueue_one(self, count: int) -> float:
        self.reset()
        started = time.perf_counter()
        for i in range(count):
            self._apps.huey_noop(i)
        return count / (time.perf_counter() - started)

    def enqueue_stamp(self) -> None:
        self._apps.huey_stamp(time.time())

    def waiting(self) -> int:
        # Queued, plus the ones a worker has taken and not finished: Huey removes a task
        # from its queue when it takes it, so the last few may still be running.
        return int(self._apps.huey.pending_count())

    def command(self, setting: str) -> tuple[list[str], dict[str, str]]:
        command = [str(BIN / "huey_consumer"), "benchmarks.peers_apps.huey", "-q"]
        if setting != "defaults":
            command += ["-k", "thread", "-w", setting.removeprefix("workers ")]
        return command, {"PEERS_HUEY_DB": str(self._path)}


def _psycopg(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.split("?", 1)[0], autocommit=True)


def _drop_schema(url: str, schema: str) -> None:
    with _psycopg(url) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# --- the run ----------------------------------------------------------------------------


@dataclass
class Cell:
    values: list[Any] = field(default_factory=list)


def plan(url: str, folder: Path, systems: set[str]) -> list[tuple[System, str, str]]:
    """(system, job kind, setting) of every drain."""
    rows: list[tuple[System, str, str]] = []
    if "backburner" in systems:
        pg = Backburner(url, folder)
        lite = Backburner(None, folder)
        for setting in ("defaults", "workers 20"):
            rows.append((pg, "sync", setting))
        for setting in ("defaults", "workers 20"):
            rows.append((pg, "async", setting))
        rows += [(lite, "sync", "defaults"), (lite, "sync", "workers 20")]
        rows += [(lite, "async", "defaults")]
    if "pgqueuer" in systems:
        pgq = PgQueuer(url)
        for kind in ("async", "sync"):
            for setting in ("defaults", "batch size 100"):
                rows.append((pgq, kind, setting))
    if "huey" in systems:
        huey = Huey(folder)
        for setting in ("defaults", "workers 4", "workers 10"):
            rows.append((huey, "sync", setting))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--enqueue-one", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", default="drain,enqueue,latency")
    parser.add_argument("--systems", default="backburner,pgqueuer,huey")
    args = parser.parse_args()
    parts, systems = set(args.only.split(",")), set(args.systems.split(","))
    cells: dict[tuple[str, str, str, str], list[Any]] = {}
    yardsticks: list[float] = []

    def note(system: System, what: str, kind: str, setting: str, value: Any) -> None:
        cells.setdefault((system.name, what, kind, setting), []).append(value)
        print(f"  {system.name:20} {what:12} {kind:5} {setting:15} {value}", flush=True)

    with tempfile.TemporaryDirectory(prefix="backburner-peers-") as name:
        folder = Path(name)
        rows = plan(args.url, folder, systems)
        distinct = list(dict.fromkeys(system for system, _, _ in rows))
        try:
            for number in range(args.repeat):
                yardsticks.append(cpu_yardstick())
                print(f"round {number + 1}: yardstick {yardsticks[-1]:.2f} s", flush=True)
                order = rows if number % 2 == 0 else rows[::-1]
                if "drain" in parts:
                    for system, kind, setting in order:
                        note(system, "drain", kind, setting, system.drain(args.jobs, kind, setting))
                for system in distinct if number % 2 == 0 else distinct[::-1]:
                    if "enqueue" in parts:
                        rate = system.enqueue_one(args.enqueue_one)
                        note(system, "enqueue one", "-", "-", rate)
                        if not isinstance(system, Huey):
                            system.reset()
                            started = time.perf_counter()
                            system.enqueue_many(args.jobs, "sync")
                            note(
                                system,
                                "enqueue bulk",
                                "-",
                                "-",
                                args.jobs / (time.perf_counter() - started),
                            )
                    if "latency" in parts:
                        stamps = folder / "stamps.txt"
                        note(system, "latency", "-", "defaults", system.latency("defaults", stamps))
            yardsticks.append(cpu_yardstick())
        finally:
            for system in distinct:
                system.close()
            for system in distinct:
                schema = getattr(system, "_schema", None)
                if schema:
                    _drop_schema(args.url, schema)
    print(f"\nyardstick {min(yardsticks):.2f} to {max(yardsticks):.2f} s; {args.repeat} round(s)")
    print(report(cells))
    return 0


def _median(values: list[Any], pick: Callable[[Any], float]) -> float:
    return statistics.median(pick(v) for v in values)


def report(cells: dict[tuple[str, str, str, str], list[Any]]) -> str:
    lines = ["| system | measure | job | setting | median | worker CPU/job | database CPU/job |"]
    lines.append("|---|---|---|---|---|---|---|")
    for (system, what, kind, setting), values in cells.items():
        if what == "drain":
            rate = _median(values, lambda d: d.rate)
            worker = _median(values, lambda d: d.worker_us)
            db = [d.database_us for d in values if d.database_us is not None]
            db_text = f"{statistics.median(db):.0f} µs" if db else "-"
            runs = " / ".join(f"{d.rate:,.0f}" for d in values)
            text = f"{rate:,.0f} jobs/s ({runs})"
            lines.append(
                f"| {system} | drain | {kind} | {setting} | {text} | {worker:.0f} µs | {db_text} |"
            )
        elif what == "latency":
            p50 = _median(values, lambda v: v[0])
            p95 = _median(values, lambda v: v[1])
            lines.append(
                f"| {system} | latency p50 / p95 | - | defaults | {p50:.1f} / {p95:.1f} ms | | |"
            )
        else:
            rate = _median(values, lambda v: v)
            lines.append(f"| {system} | {what} | - | - | {rate:,.0f} jobs/s | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
