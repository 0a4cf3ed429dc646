"""The dashboard over a million finished jobs: every page and API call timed over HTTP, the
load open pages put on the database, and a server's drain with and without viewers.

    .venv/bin/python benchmarks/dashboard.py --storage postgres \\
        --url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/dashboard.py --storage sqlite [--jobs 1000000]
        [--only calls,load,drain] [--samples 20] [--load-seconds 20] [--rounds 2]

Storage is filled by ``read_model.fill_postgres()`` / ``fill_sqlite()`` (set-based SQL:
95% succeeded, 4% failed, 1% deleted, 5 queues, 8 names, ``kwargs`` ``{"user_id": n}``),
plus 5 recurring jobs and 3 server rows, in a scratch schema (dropped afterwards) or a
temporary SQLite file. ``backburner dashboard`` then runs in another process and this one
talks to it over HTTP on 127.0.0.1, as a browser would.

- calls: each page and API call ``--samples`` times after one warm-up. Calls that read the
  dashboard's shared snapshot (counts, queues, servers; refreshed at most once a second)
  are spaced 1.05 s apart so that every sample pays for a fresh snapshot ("cold"); the
  request right after it, served from the snapshot, is reported as "warm". Median and p95
  (nearest rank) per call; the goal is 200 ms.
- load: simulated viewers, each polling what its page polls at the page's interval
  (``web/static/dashboard.js``: the Overview fetches ``api/stats`` every second; the other
  pages fetch themselves again every 2 s), for ``--load-seconds``. On PostgreSQL the
  statements are counted from ``pg_stat_user_tables`` (index and sequential scans of the
  schema's tables, which no other work on the machine touches) and
  ``pg_stat_database.xact_commit`` (the whole database: other work shows there too);
  the dashboard process's CPU is read from ``/proc``.
- drain: ``--drain-jobs`` no-op jobs enqueued into the filled storage, then one
  ``backburner server`` (default settings, retention lengthened so that its prune leaves
  the filled jobs alone) drains them, with no viewer and with ``--drain-viewers`` open, in
  turn, ``--rounds`` times. The rate is jobs / (last ``finished_at`` - first
  ``started_at``), read from the drained jobs' rows, as ``bench.py`` measures it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import http.client
import json
import os
import platform
import random
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backburner import Backburner, JobState  # noqa: E402
from backburner._records import ServerInfo  # noqa: E402
from benchmarks.bench import (  # noqa: E402
    SERVER_APP,
    bench_jobs,
    cpu_yardstick,
    percentile,
    process,
)
from benchmarks.bench import process_env as _env  # noqa: E402
from benchmarks.read_model import fill_postgres, fill_sqlite  # noqa: E402

GOAL_MS = 200.0
OVERVIEW_POLL = 1.0
PAGE_POLL = 2.0
SNAPSHOT_AGE = 1.05
"""Seconds between the samples of a call that reads the shared snapshot (kept 1 s)."""

# The server's prune would otherwise delete the filled jobs (finished days or, on SQLite,
# years ago) while it drains.
LONG_RETENTION = {
    "BACKBURNER__RETENTION__SUCCEEDED": "36500d",
    "BACKBURNER__RETENTION__FAILED": "36500d",
    "BACKBURNER__RETENTION__DELETED": "36500d",
}


def yardstick() -> str:
    return f"{cpu_yardstick():.2f} s"


# --- the filled storage ---------------------------------------------------------------


@dataclasses.dataclass
class Filled:
    kind: str
    url: str
    schema: str | None
    admin_url: str | None


def _pg_url(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


@contextlib.contextmanager
def filled(kind: str, url: str, jobs: int) -> Iterator[Filled]:
    if kind == "postgres":
        import psycopg

        schema = f"dashbench_{uuid.uuid4().hex[:8]}"
        store_url = _pg_url(url, schema)
        try:
            app = Backburner(store_url)
            app.migrate()
            app.close()
            fill_postgres(url, schema, jobs)
            yield Filled(kind, store_url, schema, url)
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    else:
        with tempfile.TemporaryDirectory(prefix="backburner-dashbench-") as folder:
            path = str(Path(folder) / "jobs.db")
            app = Backburner(f"sqlite:///{path}")
            app.migrate()
            app.close()
            fill_sqlite(path, jobs)
            yield Filled(kind, f"sqlite:///{path}", None, None)


def add_extras(url: str) -> None:
    """5 recurring jobs and 3 servers, so that those pages show something."""
    app = Backburner(url)
    bench_jobs(app)
    try:
        for n, cron in enumerate(("*/5 * * * *", "@hourly", "@daily", "0 9 * * 1-5", "@weekly")):
            app.recurring.add_or_update(f"report-{n}", "bench.noop", cron, args=[n])
        now = dt.datetime.now(dt.UTC)
        for n in range(3):
            app.storage.server_heartbeat(
                ServerInfo(f"web-{n}", "host-a", 1000 + n, ("default",), 10, now, now)
            )
    finally:
        app.close()


def sql(target: Filled, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """A statement of the benchmark's own (reading results, clearing waiting jobs)."""
    if target.kind == "postgres":
        import psycopg

        assert target.admin_url is not None
        assert target.schema is not None
        with psycopg.connect(target.admin_url, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{target.schema}"')
            cur = conn.execute(query.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []
    path = target.url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
        rows = conn.execute(query, params).fetchall()
        conn.commit()
        return rows


# --- the dashboard process and its viewers -------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def dashboard(url: str, log: IO[bytes]) -> Iterator[tuple[int, int]]:
    """``backburner dashboard`` for ``url``; yields its port and pid once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "backburner", "dashboard", "--app", SERVER_APP]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with process(command, _env(url), log) as proc:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the dashboard exited ({proc.returncode})")
            try:
                Client(port).call("GET", "/health/live")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield port, proc.pid


class Client:
    """One browser tab's keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, float]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        start = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (http.client.HTTPException, ConnectionError):
            self.conn.close()
            raise
        return response.status, payload, time.perf_counter() - start

    def json(self, method: str, path: str, body: Any = None) -> Any:
        status, payload, _ = self.call(method, path, body)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: {status} {payload[:200]!r}")
        return json.loads(payload)

    def close(self) -> None:
        self.conn.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass(frozen=True)
class ViewerKind:
    page: str
    path: str
    interval: float


VIEWERS = {
    "overview": ViewerKind("Overview", "/api/stats", OVERVIEW_POLL),
    "jobs": ViewerKind("Jobs", "/jobs", PAGE_POLL),
    "failed": ViewerKind("Jobs (failed)", "/jobs?state=failed", PAGE_POLL),
    "queues": ViewerKind("Queues", "/queues", PAGE_POLL),
    "servers": ViewerKind("Servers", "/servers", PAGE_POLL),
}


def parse_viewers(text: str) -> list[ViewerKind]:
    """``overview:5,jobs:5`` -> 10 viewers."""
    found: list[ViewerKind] = []
    for part in filter(None, text.split(",")):
        name, _, count = part.partition(":")
        found += [VIEWERS[name]] * int(count or 1)
    return found


class Viewers:
    """Open pages, each polling at its page's interval from a random phase, as
    ``setInterval`` does (a slow answer does not delay the next tick's request)."""

    def __init__(self, port: int, kinds: list[ViewerKind]) -> None:
        self.port = port
        self.kinds = kinds
        self.stop = threading.Event()
        self.requests = 0
        self.errors = 0
        self.times: list[float] = []
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(k, n), daemon=True)
            for n, k in enumerate(kinds)
        ]

    def _run(self, kind: ViewerKind, n: int) -> None:
        client = Client(self.port)
        tick = time.monotonic() + random.Random(n).uniform(0, kind.interval)
        try:
            while not self.stop.is_set():
                if self.stop.wait(max(0.0, tick - time.monotonic())):
                    break
                tick += kind.interval
                try:
                    status, _, took = client.call("GET", kind.path)
                except OSError:
                    client = Client(self.port)
                    status, took = 599, 0.0
                with self._lock:
                    self.requests += 1
                    self.errors += status >= 400
                    self.times.append(took)
        finally:
            client.close()

    def __enter__(self) -> Viewers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(10)


# --- 1. every page and call -----------------------------------------------------------


@dataclasses.dataclass
class Timed:
    label: str
    samples: list[float]
    warm: list[float] = dataclasses.field(default_factory=list)
    note: str = ""


def _stats(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples) * 1000, percentile(samples, 95) * 1000


ISSUE_SEARCH = "queue:critical name:emails.* args.user_id:42"
# user_id is i % 5000 and the name i % 8 of the i-th job: 40 falls on emails.welcome.
MATCHING_SEARCH = "queue:emails name:emails.* args.user_id:40"


def time_calls(port: int, samples: int) -> list[Timed]:
    c = Client(port)
    failed = c.json("GET", "/api/jobs?state=failed&limit=1")["jobs"][0]["id"]
    second_page = c.json("GET", "/api/jobs")["next"]
    results: list[Timed] = []

    def read(label: str, path: str, cached: bool = False) -> None:
        status, body, _ = c.call("GET", path)  # warm-up
        if status >= 400:
            raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
        timed = Timed(label, [])
        for _ in range(samples):
            if cached:
                time.sleep(SNAPSHOT_AGE)
            timed.samples.append(c.call("GET", path)[2])
            if cached:
                timed.warm.append(c.call("GET", path)[2])
        results.append(timed)
        median, p95 = _stats(timed.samples)
        print(f"  {label}: median {median:.1f} ms, p95 {p95:.1f} ms", file=sys.stderr, flush=True)

    def q(text: str) -> str:
        return quote(text)

    read("Overview `/`", "/", cached=True)
    read("Jobs `/jobs` (all)", "/jobs", cached=True)
    for state in JobState:
        read(f"Jobs `/jobs?state={state.value}`", f"/jobs?state={state.value}", cached=True)
    read(f"Jobs, search `{ISSUE_SEARCH}`", f"/jobs?q={q(ISSUE_SEARCH)}", cached=True)
    read(f"Jobs, search `{MATCHING_SEARCH}`", f"/jobs?q={q(MATCHING_SEARCH)}", cached=True)
    read("Jobs, the second page (cursor)", f"/jobs?cursor={q(second_page)}", cached=True)
    read("Job `/jobs/{id}` (a failed job)", f"/jobs/{failed}")
    read("Recurring `/recurring`", "/recurring")
    read("Queues `/queues`", "/queues", cached=True)
    read("Servers `/servers`", "/servers", cached=True)
    read("`api/stats`", "/api/stats", cached=True)
    read("`api/jobs` (newest 50)", "/api/jobs")
    for state in JobState:
        read(f"`api/jobs?state={state.value}`", f"/api/jobs?state={state.value}")
    read("`api/jobs?state=failed&limit=1000`", "/api/jobs?state=failed&limit=1000")
    read("`api/jobs?limit=1000`", "/api/jobs?limit=1000")
    read(f"`api/jobs?q={ISSUE_SEARCH}`", f"/api/jobs?q={q(ISSUE_SEARCH)}")
    read(f"`api/jobs?q={MATCHING_SEARCH}`", f"/api/jobs?q={q(MATCHING_SEARCH)}")
    read(
        "`api/jobs?queue=billing&name=billing.*&state=failed`",
        "/api/jobs?queue=billing&name=billing.*&state=failed",
    )
    read("`api/jobs`, the second page (cursor)", f"/api/jobs?cursor={q(second_page)}")
    read("`api/jobs/{id}`", f"/api/jobs/{failed}")
    read("`api/recurring`", "/api/recurring")
    read("`api/queues`", "/api/queues", cached=True)
    read("`api/servers`", "/api/servers", cached=True)
    read("`api/openapi.json`", "/api/openapi.json")
    read("`health`", "/health")
    read("`health/live`", "/health/live")
    read("`metrics`", "/metrics", cached=True)

    # Actions: each sample acts on jobs no earlier sample touched.
    def act(label: str, calls: list[tuple[str, Any]], check: Callable[[Any], str]) -> None:
        if not calls:
            print(f"  {label}: nothing left to act on", file=sys.stderr)
            return
        timed = Timed(label, [])
        notes = []
        for path, body in calls:
            status, payload, took = c.call("POST", path, body)
            if status >= 400:
                raise RuntimeError(f"POST {path}: {status} {payload[:200]!r}")
            timed.samples.append(took)
            notes.append(check(json.loads(payload)))
        timed.note = ", ".join(sorted(set(notes)))
        results.append(timed)
        median, p95 = _stats(timed.samples)
        print(
            f"  {label}: median {median:.1f} ms, p95 {p95:.1f} ms ({timed.note})", file=sys.stderr
        )

    runs = max(3, samples // 2)
    act(
        "`POST api/jobs/requeue` filter `state:failed` (1,000 jobs)",
        [("/api/jobs/requeue", {"filter": {"state": "failed"}})] * runs,
        lambda r: f"{r['requeued']} requeued",
    )
    id_lists: list[list[str]] = []
    cursor = ""
    while len(id_lists) < runs:  # distinct pages of failed jobs, one per sample
        page = c.json("GET", f"/api/jobs?state=failed&limit=1000{cursor}")
        id_lists.append([j["id"] for j in page["jobs"]])
        if not page["next"]:
            break
        cursor = f"&cursor={quote(page['next'])}"
    act(
        "`POST api/jobs/requeue` of 1,000 ids",
        [("/api/jobs/requeue", {"ids": ids}) for ids in id_lists],
        lambda r: f"{r['requeued']} requeued",
    )
    act(
        "`POST api/jobs/delete` filter `name:reports.weekly state:succeeded` (1,000 jobs)",
        [("/api/jobs/delete", {"filter": {"q": "name:reports.weekly state:succeeded"}})] * runs,
        lambda r: f"{r['deleted']} deleted",
    )
    singles = c.json("GET", f"/api/jobs?state=failed&limit={2 * samples}")["jobs"]
    act(
        "`POST api/jobs/{id}/requeue`",
        [(f"/api/jobs/{j['id']}/requeue", {}) for j in singles[:samples]],
        lambda r: "requeued" if r["requeued"] else "not",
    )
    act(
        "`POST api/jobs/{id}/delete`",
        [(f"/api/jobs/{j['id']}/delete", {}) for j in singles[samples:]],
        lambda r: "deleted" if r["deleted"] else "not",
    )
    act(
        "`POST api/jobs` (enqueue one)",
        [
            ("/api/jobs", {"name": "bench.noop", "args": [n], "queue": "later"})
            for n in range(samples)
        ],
        lambda r: "enqueued",
    )
    act(
        "`POST api/queues/{name}/pause`, then `resume`",
        [(f"/api/queues/emails/{verb}", {}) for _ in range(runs) for verb in ("pause", "resume")],
        lambda r: "changed" if r["changed"] else "unchanged",
    )
    act(
        "`POST api/recurring/{id}/trigger`",
        [("/api/recurring/report-0/trigger", {})] * runs,
        lambda r: "triggered",
    )
    act(
        "`POST api/recurring/{id}/pause`, then `resume`",
        [
            (f"/api/recurring/report-1/{verb}", {})
            for _ in range(runs)
            for verb in ("pause", "resume")
        ],
        lambda r: "done",
    )
    c.close()
    return results


def calls_table(results: list[Timed]) -> str:
    lines = [
        "| Call | Median | p95 | Warm median (snapshot served) | Meets 200 ms (p95) |",
        "|---|---|---|---|---|",
    ]
    for t in results:
        median, p95 = _stats(t.samples)
        warm = f"{statistics.median(t.warm) * 1000:.1f} ms" if t.warm else ""
        meets = "yes" if p95 < GOAL_MS else "**no**"
        label = f"{t.label} ({t.note})" if t.note else t.label
        lines.append(f"| {label} | {median:.1f} ms | {p95:.1f} ms | {warm} | {meets} |")
    return "\n".join(lines)


# --- 2. the load of open pages ----------------------------------------------------------


def pg_counters(target: Filled) -> tuple[int, int, int]:
    """Scans of the schema's tables, rows they returned, and the database's commits."""
    assert target.schema is not None
    [(scans, rows)] = sql(
        target,
        "SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0)::bigint,"
        " coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)), 0)::bigint"
        " FROM pg_stat_user_tables WHERE schemaname = ?",
        (target.schema,),
    )
    [(commits,)] = sql(
        target,
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
    )
    return int(scans), int(rows), int(commits)


@dataclasses.dataclass
class Load:
    label: str
    seconds: float
    requests: int
    errors: int
    request_median_ms: float
    dashboard_cpu: float
    scans: int | None = None
    rows: int | None = None
    commits: int | None = None


def measure_load(
    target: Filled, port: int, pid: int, kinds: list[ViewerKind], seconds: float, label: str
) -> Load:
    pg = target.kind == "postgres"
    time.sleep(1.5)  # statistics of the last statements reach pg_stat_* within a second
    before = pg_counters(target) if pg else None
    cpu_before, start = cpu_seconds(pid), time.monotonic()
    with Viewers(port, kinds) as viewers:
        time.sleep(seconds)
    took = time.monotonic() - start
    cpu = cpu_seconds(pid) - cpu_before
    time.sleep(1.5)
    after = pg_counters(target) if pg else None
    found = Load(
        label,
        took,
        viewers.requests,
        viewers.errors,
        statistics.median(viewers.times) * 1000 if viewers.times else 0.0,
        cpu / took,
    )
    if before is not None and after is not None:
        found.scans, found.rows, found.commits = (a - b for a, b in zip(after, before, strict=True))
    print(f"  {label}: {found}", file=sys.stderr, flush=True)
    return found


def load_table(loads: list[Load]) -> str:
    pg = loads and loads[0].scans is not None
    head = "| Open pages | Requests/s | Median answer | Dashboard CPU |"
    if pg:
        head += " Table scans/s (schema) | Rows read/s | Commits/s (whole database) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for x in loads:
        line = (
            f"| {x.label} | {x.requests / x.seconds:.1f} | {x.request_median_ms:.1f} ms | "
            f"{x.dashboard_cpu * 100:.0f}% of a core |"
        )
        if pg:
            assert x.scans is not None
            assert x.rows is not None
            assert x.commits is not None
            line += (
                f" {x.scans / x.seconds:.1f} | {x.rows / x.seconds:,.0f} |"
                f" {x.commits / x.seconds:.1f} |"
            )
        lines.append(line + (f" ({x.errors} errors)" if x.errors else ""))
    return "\n".join(lines)


# --- 3. a server's drain with and without viewers -------------------------------------------


def drain_once(
    target: Filled, port: int, count: int, kinds: list[ViewerKind], log: IO[bytes]
) -> tuple[float, int]:
    app = Backburner(target.url)
    jobs = bench_jobs(app)
    try:
        ids = []
        for first in range(0, count, 10_000):
            ids += jobs.noop.enqueue_many([(i,) for i in range(first, min(count, first + 10_000))])
    finally:
        app.close()
    low, high = min(map(int, ids)), max(map(int, ids))
    left = "SELECT count(*) FROM bb_jobs WHERE id BETWEEN ? AND ? AND state <> 'succeeded'"
    command = [sys.executable, "-m", "backburner", "server", "--app", SERVER_APP]
    with Viewers(port, kinds) as viewers:
        time.sleep(1.0 if kinds else 0.0)
        with process(command, _env(target.url, LONG_RETENTION), log) as server:
            deadline = time.monotonic() + 600
            while sql(target, left, (low, high))[0][0]:
                if server.poll() is not None:
                    raise RuntimeError(f"the server exited ({server.returncode})")
                if time.monotonic() > deadline:
                    raise TimeoutError("the drain did not end in 600 s")
                time.sleep(0.25)
    [(first, last, done)] = sql(
        target,
        "SELECT min(started_at), max(finished_at), count(*) FROM bb_jobs"
        " WHERE id BETWEEN ? AND ? AND state = 'succeeded'",
        (low, high),
    )
    if done != count:
        raise RuntimeError(f"drain: {done} of {count} succeeded")
    span = (last - first).total_seconds() if isinstance(first, dt.datetime) else last - first
    return count / span, viewers.requests


# --- running ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--storage", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--only", default="calls,load,drain")
    parser.add_argument("--samples", type=int, default=20, help="samples per call")
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--drain-jobs", type=int, default=10_000)
    parser.add_argument("--drain-viewers", default="overview:5,jobs:5")
    parser.add_argument("--rounds", type=int, default=2, help="drains with and without viewers")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    out: list[str] = []
    print(f"yardstick before filling: {yardstick()}", file=sys.stderr, flush=True)
    with tempfile.TemporaryFile(prefix="backburner-dashbench-") as log:
        try:
            start = time.perf_counter()
            with filled(args.storage, args.url, args.jobs) as target:
                add_extras(target.url)
                took = time.perf_counter() - start
                out.append(f"{args.jobs:,} finished jobs filled in {took:.0f} s ({args.storage})")
                print(out[-1], file=sys.stderr, flush=True)
                with dashboard(target.url, log) as (port, pid):
                    if "load" in parts:
                        out.append(f"\n### Load (yardstick {yardstick()})\n")
                        loads = []
                        for label, spec in (
                            ("none", ""),
                            ("1 Overview", "overview:1"),
                            ("10 Overviews", "overview:10"),
                            ("1 Jobs page", "jobs:1"),
                            ("10 Jobs pages", "jobs:10"),
                            ("10 Jobs pages, failed", "failed:10"),
                            ("5 Overviews + 5 Jobs pages", "overview:5,jobs:5"),
                        ):
                            loads.append(
                                measure_load(
                                    target, port, pid, parse_viewers(spec), args.load_seconds, label
                                )
                            )
                        out.append(load_table(loads))
                        out.append(f"\n(yardstick after: {yardstick()})")
                    if "calls" in parts:
                        out.append(f"\n### Calls (yardstick {yardstick()})\n")
                        out.append(calls_table(time_calls(port, args.samples)))
                        out.append(f"\n(yardstick after: {yardstick()})")
                    if "drain" in parts:
                        # The filled waiting jobs (unregistered names) would be drained too.
                        sql(
                            target,
                            "DELETE FROM bb_jobs WHERE state IN ('enqueued', 'scheduled')",
                        )
                        kinds = parse_viewers(args.drain_viewers)
                        out.append(
                            f"\n### Drain ({args.drain_jobs:,} `def` no-ops, server defaults)\n"
                        )
                        out.append(
                            "| Round | Viewers | Jobs/s | Viewer requests | Yardstick before |"
                        )
                        out.append("|---|---|---|---|---|")
                        for n in range(args.rounds):
                            order = [[], kinds] if n % 2 == 0 else [kinds, []]
                            for viewers in order:
                                stick = yardstick()
                                rate, asked = drain_once(
                                    target, port, args.drain_jobs, viewers, log
                                )
                                what = (
                                    f"{len(viewers)} ({args.drain_viewers})" if viewers else "none"
                                )
                                out.append(
                                    f"| {n + 1} | {what} | {rate:,.0f} | {asked} | {stick} |"
                                )
                                print(out[-1], file=sys.stderr, flush=True)
        except Exception:
            log.seek(0)
            print(log.read()[-4000:].decode(errors="replace"), file=sys.stderr)
            raise
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    out.append(
        f"\n{os.cpu_count()} CPUs, load average at the end {load}, yardstick at the end "
        f"{yardstick()}; Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
