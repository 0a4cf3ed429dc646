"""Real server processes and the real CLI on real PostgreSQL, a fresh schema per test."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from backburner import Backburner, Job, Stats, StorageError
from backburner.storage._sql import load_migrations
from tests.acceptance.harness import APP, JOBS, Event, Harness, Process, wait_for
from tests.support import POSTGRES_URL, drop_schema, fresh_schema, wait_reading

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ECHO = f"{JOBS}.echo"
AUTO_MIGRATE_OFF = {"BACKBURNER__STORAGE__AUTO_MIGRATE": "false"}


# --- PostgreSQL schemas, clients and the cluster itself ----------------------------------


def schema_url(schema: str) -> str:
    return f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}schema={schema}"


def schema_of(harness: Harness) -> str:
    return harness.url.rsplit("schema=", 1)[1]


@contextlib.contextmanager
def postgres_harness(tmp_path: Path) -> Iterator[Harness]:
    """A harness whose processes share a fresh PostgreSQL schema, dropped afterwards.

    The schema does not exist until a process migrates it (by default the first one to
    touch storage does)."""
    schema = fresh_schema()
    tmp_path.mkdir(parents=True, exist_ok=True)
    harness = Harness(tmp_path, url=schema_url(schema))
    try:
        yield harness
    finally:
        try:
            harness.close()
        finally:
            drop_schema(schema)


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Harness]:
    with postgres_harness(tmp_path / "pg") as harness:
        yield harness


@contextlib.contextmanager
def client(url: str, **options: Any) -> Iterator[Backburner]:
    """An app in this process, as a web process would hold one; closed afterwards."""
    app = Backburner(url, **options)
    try:
        yield app
    finally:
        app.close()


def wait_stats(app: Backburner, check: Callable[[Stats], bool], timeout: float, what: str) -> None:
    wait_reading(app.stats, check, timeout, what, 0.2)


def enqueue_slow(harness: Harness, count: int, seconds: float) -> list[str]:
    """``slow(seconds)`` ``count`` times, from a client process."""
    code = (
        f"import json\nfrom {JOBS} import slow\n"
        f"print(json.dumps(slow.enqueue_many([({seconds},)] * {count})))\n"
    )
    ids: list[str] = json.loads(harness.python(code).stdout)
    assert len(ids) == count
    return ids


def query(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def cluster() -> list[str]:
    """``VERSION main`` of the local cluster: the one directory in /etc/postgresql."""
    [version] = os.listdir("/etc/postgresql")
    return [version, "main"]


def pg_ctl(action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster(), action],
        check=True,
        capture_output=True,
        timeout=120,
    )


def postgres_up() -> bool:
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


def ensure_postgres_running() -> None:
    """Start the cluster unless it runs, and wait until it takes connections."""
    if not postgres_up():
        listed = subprocess.run(
            ["pg_lsclusters", "--no-header", *cluster()],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if "online" not in listed.stdout:
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster(), "start"],
                capture_output=True,
                timeout=120,
                check=False,
            )
    wait_for(postgres_up, 90, "PostgreSQL to take connections again", pause=0.5)


# --- many servers on one schema ------------------------------------------------------------

DRAIN = 20_000


def test_three_servers_drain_twenty_thousand_jobs_exactly_once(pg: Harness) -> None:
    servers = [pg.start_server(name=f"server-{n}") for n in range(3)]
    began = time.monotonic()
    ids = pg.enqueue_many(DRAIN, batch=1000)
    enqueued = time.monotonic() - began
    with client(pg.url) as app:
        wait_stats(app, lambda s: s.succeeded == DRAIN, 60, f"{DRAIN} jobs to succeed")
        elapsed = time.monotonic() - began
        stats = app.stats()
        # Pages of at most 10,000 jobs: one more page than the jobs fill shows there is no more.
        jobs = [
            j
            for offset in range(0, DRAIN + 1, 10_000)
            for j in app.jobs.list(limit=10_000, offset=offset)
        ]
    print(f"enqueued {DRAIN} jobs in {enqueued:.1f}s, all ran after {elapsed:.1f}s")

    assert len(set(ids)) == DRAIN
    assert stats == Stats(succeeded=DRAIN, servers=3)
    assert sorted(j.id for j in jobs) == sorted(ids)
    assert {j.state.value for j in jobs} == {"succeeded"}
    assert {j.attempt for j in jobs} == {1}
    assert {tuple(c.state.value for c in j.history) for j in jobs} == {
        ("enqueued", "processing", "succeeded")
    }
    runs = pg.events("run")
    per_job = collections.Counter(e.job_id for e in runs)
    assert set(per_job) == set(ids)  # none lost
    assert [job for job, times in per_job.items() if times > 1] == []  # none ran twice
    per_server = collections.Counter(e.pid for e in runs)
    assert set(per_server) == {s.pid for s in servers}  # all three shared the work
    results = {j.id: j.result for j in jobs}
    assert {results[e.job_id]["pid"] for e in runs} <= {s.pid for s in servers}
    assert all(results[e.job_id]["pid"] == e.pid for e in runs)  # recorded by who ran it
    assert all(s.alive() for s in servers)
    print("jobs run per server:", dict(per_server))


def intervals(events: list[Event], job_id: str, dead_pid: int, cut: int) -> list[tuple[int, int]]:
    """Each run of ``job_id`` as (start, end) positions in the execution log, which is
    written in time order. A run of the killed server without a "done" ended at ``cut``,
    the log's length when the server was dead."""
    runs = []
    for index, event in enumerate(events):
        if event.job_id != job_id or event.event != "start":
            continue
        end = next(
            (
                later
                for later in range(index + 1, len(events))
                if events[later].job_id == job_id
                and events[later].pid == event.pid
                and events[later].event == "done"
            ),
            None,
        )
        if end is None:
            assert event.pid == dead_pid, f"job {job_id}: a run on {event.pid} never ended"
            assert index < cut
            end = cut
        runs.append((index, end))
    return runs


def test_jobs_of_a_killed_server_run_again_on_the_others(pg: Harness) -> None:
    timeout = 2.0
    a, b, c = (pg.start_server(name=f"server-{x}", server_timeout=str(timeout)) for x in "abc")
    ids = enqueue_slow(pg, 90, 1.0)  # three rounds of work for 3 x 10 workers

    def a_busy() -> bool:
        return len([e for e in pg.events("start") if e.pid == a.pid]) >= 5

    wait_for(a_busy, 30, "server a to start running jobs")
    a.send(signal.SIGKILL)
    assert a.wait(10) == -signal.SIGKILL
    killed_at = dt.datetime.now(dt.UTC)
    cut = len(pg.events())

    with client(pg.url) as app:
        wait_stats(app, lambda s: s.succeeded == len(ids), 60, "every job to succeed")
        jobs = {j.id: j for j in app.jobs.list(limit=1000)}
        wait_for(
            lambda: a.server_id not in {s.id for s in app.storage.server_list()},
            15,
            "the dead server to be forgotten",
        )
        assert app.stats().servers == 2

    assert sorted(jobs) == sorted(ids)  # none lost
    events = pg.events()
    started_on_a = {e.job_id for e in events if e.event == "start" and e.pid == a.pid}
    done_on_a = {e.job_id for e in events if e.event == "done" and e.pid == a.pid}
    interrupted = started_on_a - done_on_a
    assert interrupted, "the kill should have caught jobs of server a mid-run"

    rescue = f"rescued from dead server {a.server_id}"
    rescued = {i for i, j in jobs.items() if any(c.reason == rescue for c in j.history)}
    # A claims ten at a time: the kill may catch a job claimed whose run had not begun yet.
    claim = f"claimed by {a.server_id}"
    claimed_by_a = {i for i, j in jobs.items() if any(c.reason == claim for c in j.history)}
    assert interrupted <= rescued  # every job a died running went back to its queue ...
    assert rescued <= claimed_by_a  # ... and only jobs a held
    assert started_on_a <= claimed_by_a
    for job_id, job in jobs.items():
        assert job.state.value == "succeeded"
        assert job.result == "slept 1.0"
        assert job.attempt == (2 if job_id in rescued else 1)
        assert job.server_id != a.server_id
        runs = intervals(events, job_id, a.pid, cut)
        # never two runs of one job at once: each starts after the previous one ended
        assert all(later[0] > earlier[1] for earlier, later in itertools.pairwise(runs))
        if job_id in rescued:
            assert len(runs) == (2 if job_id in started_on_a else 1)
            rerun = events[runs[-1][0]]
            assert rerun.pid in (b.pid, c.pid)
            assert rerun.attempt == 2
            [rescued_at] = [s.at for s in job.history if s.reason == rescue]
            # back in the queue within server_timeout (and a heartbeat), run soon after
            assert (rescued_at - killed_at).total_seconds() < timeout + 5
            assert job.finished_at is not None
            assert (job.finished_at - killed_at).total_seconds() < timeout + 12
        else:
            assert len(runs) == 1
    print(f"{len(interrupted)} job(s) interrupted by the kill, {len(rescued)} rescued")
    assert {e.pid for e in events[cut:]} <= {b.pid, c.pid}
    assert f"{len(rescued)} job(s) of dead servers back in their queues" in b.text() + c.text()
    assert b.alive()
    assert c.alive()


# --- a database that goes away ------------------------------------------------------------


def said_since(server: Process, mark: int, words: str, timeout: float) -> None:
    """Wait until ``server`` logs ``words`` after the first ``mark`` characters of output."""
    wait_for(lambda: words in server.text()[mark:], timeout, f"{server.name} to log {words!r}")


@pytest.mark.pg_restart
def test_servers_ride_out_a_postgres_restart(pg: Harness) -> None:
    servers = [pg.start_server(name=f"server-{n}") for n in range(2)]
    ids = pg.enqueue_many(600, pause=0.1)  # three seconds of work for 2 x 10 workers
    wait_for(lambda: len(pg.events("run")) >= 100, 30, "the servers to get going")
    try:
        with client(pg.url, pool_timeout=3.0) as app:
            assert app.stats().servers == 2  # this client is connected before the outage
            began = time.monotonic()
            pg_ctl("restart")
            print(f"PostgreSQL restarted in {time.monotonic() - began:.1f}s")
            assert len(pg.events("run")) < len(ids), "the restart should catch work under way"

            # Every connection was cut. The servers say so and carry on by themselves.
            wait_stats(app, lambda s: s.succeeded == len(ids), 90, "every job to succeed")
            for server in servers:
                said_since(server, 0, "listening for new jobs failed", 10)

            # Now down for real: calls fail with a clear error, not a traceback or a hang.
            marks = [len(server.text()) for server in servers]
            pg_ctl("stop")
            cli = pg.spawn("stats-while-down", [sys.executable, "-m", "backburner", "stats"])
            began = time.monotonic()
            with pytest.raises(StorageError, match="no connection to PostgreSQL") as raised:
                app.enqueue(f"{JOBS}.quick", "lost?")
            assert time.monotonic() - began < 3.0 + 10  # the pool timeout, and a bit
            assert "127.0.0.1" in str(raised.value)
            assert "Connection refused" in str(raised.value)
            # An app whose first call comes while the database is down fails the same way,
            # every time, and leaves no pool behind that goes on connecting for good.
            threads = threading.active_count()
            with client(pg.url, pool_timeout=1.0) as fresh:
                for _ in range(3):
                    with pytest.raises(StorageError, match="no connection to PostgreSQL"):
                        fresh.stats()
                wait_for(lambda: threading.active_count() <= threads, 10, "failed pools to go")
            assert cli.wait(60) == 1
            assert "Traceback" not in cli.text()
            last_line = cli.text().strip().splitlines()[-1]
            assert last_line.startswith("Error: no connection to PostgreSQL at "), last_line
            # The servers' own calls give up after their pool timeout (10 s) too.
            for server, mark in zip(servers, marks, strict=True):
                said_since(server, mark, "upkeep failed", 30)
            pg_ctl("start")
            for server, mark in zip(servers, marks, strict=True):
                said_since(server, mark, "storage reachable again", 60)

            # The same client and the same servers carry on.
            more = [app.enqueue(f"{JOBS}.quick", n) for n in range(20)]
            for job_id in more:
                assert app.jobs.wait(job_id, timeout=60).state.value == "succeeded"
            ids += more
            stats = app.stats()
    finally:
        ensure_postgres_running()

    assert stats == Stats(succeeded=len(ids), servers=2)
    per_job = collections.Counter(e.job_id for e in pg.events("run"))
    assert set(per_job) == set(ids)  # none lost
    assert [job for job, times in per_job.items() if times > 1] == []  # none rescued either
    for server in servers:
        assert server.alive()
        assert "Traceback" not in server.text()


# --- schemas ----------------------------------------------------------------------------


def test_two_apps_on_two_schemas_never_see_or_run_each_others_jobs(tmp_path: Path) -> None:
    with postgres_harness(tmp_path / "a") as a, postgres_harness(tmp_path / "b") as b:
        assert schema_of(a) != schema_of(b)
        server_a = a.start_server(name="server-a")
        b_ids = b.enqueue_many(150, start=1000)  # nobody serves b yet
        a_ids = a.enqueue_many(100)
        with client(a.url) as app_a, client(b.url) as app_b:
            wait_stats(app_a, lambda s: s.succeeded == 100, 30, "a's jobs to succeed")
            time.sleep(2)  # long enough for server a to poll, and to be woken by b's NOTIFY
            assert app_b.stats() == Stats(enqueued=150)  # a ran none of b's

            server_b = b.start_server(name="server-b")
            wait_stats(app_b, lambda s: s.succeeded == 150, 30, "b's jobs to succeed")
            more_a = a.enqueue("quick", "a again")  # both busy at once now
            more_b = b.enqueue("quick", "b again")
            assert app_a.jobs.wait(more_a, 20).result == {"value": "a again", "pid": server_a.pid}
            assert app_b.jobs.wait(more_b, 20).result == {"value": "b again", "pid": server_b.pid}
            a_ids.append(more_a)
            b_ids.append(more_b)

            for app, ids, values, server in (
                (app_a, a_ids, {*range(100), "a again"}, server_a),
                (app_b, b_ids, {*range(1000, 1150), "b again"}, server_b),
            ):
                jobs = app.jobs.list(limit=1000)
                assert sorted(j.id for j in jobs) == sorted(ids)
                assert {j.result["pid"] for j in jobs} == {server.pid}
                assert {j.result["value"] for j in jobs} == values
                assert app.stats() == Stats(succeeded=len(ids), servers=1)
                assert [s.id for s in app.storage.server_list()] == [server.server_id]
            only_b = set(b_ids) - set(a_ids)  # ids count from 1 in each schema
            assert only_b
            assert all(app_a.jobs.get(job_id) is None for job_id in only_b)

        for harness, ids, server in ((a, a_ids, server_a), (b, b_ids, server_b)):
            runs = harness.events("run")
            assert sorted(e.job_id for e in runs) == sorted(ids)  # each once, and only its own
            assert {e.pid for e in runs} == {server.pid}
            assert harness.stats()["succeeded"] == len(ids)  # the CLI agrees
        shown = a.cli("jobs", "show", max(only_b, key=int), ok=False)
        assert shown.stderr == f"Error: no job with id {max(only_b, key=int)!r}\n"


# --- the same jobs read back the same on SQLite and PostgreSQL -------------------------

TYPED_ARGS: list[Any] = [
    dt.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5.5))),
    dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC),
    dt.datetime(1999, 12, 31, 23, 59, 59),  # naive stays naive
    dt.date(2024, 2, 29),
    dt.time(23, 59, 59, 999999),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Decimal("1.10"),  # the trailing zero is kept
    Decimal("-12345678901234567890.000000000000000001"),
    {"b": 1, "a": [1, 2.5, None, True, False, "ünïcødé ✓", {"deep": [[], {}]}], "": ""},
    [2**62, -(2**53) - 1, 1e16, 1e-300, -0.0, "\u0000 nul", "line\nbreak"],
    None,
]
TYPED_KWARGS: dict[str, Any] = {
    "when": dt.datetime(2030, 6, 15, 8, 0, tzinfo=dt.UTC),
    "ids": [uuid.UUID(int=1), uuid.UUID(int=2**128 - 1)],
    "price": {"amount": Decimal("19.99"), "currency": "EUR"},
    "zeta": "last",
    "alpha": "first",
}


def exact(value: Any) -> Any:
    """``value`` with every type and dict order spelled out: ``1.1 == Decimal("1.1")`` and
    ``{"a": 1, "b": 2} == {"b": 2, "a": 1}``, but these differ."""
    if isinstance(value, dict):
        return ("dict", [(key, exact(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [exact(item) for item in value])
    return (type(value).__name__, repr(value))


def run_reference_jobs(harness: Harness) -> tuple[list[Job], str]:
    """The same mix of jobs through a real server: the jobs as read back, and the server id."""
    with client(harness.url) as app:
        deleted = app.enqueue(ECHO, "deleted before it ran")
        assert app.jobs.delete(deleted)
        typed = app.enqueue(ECHO, *TYPED_ARGS, **TYPED_KWARGS)
        fails = app.enqueue(f"{JOBS}.always_fails")
        exhausted = app.enqueue(f"{JOBS}.flaky", 10)  # 1 run + 3 retries, all failing
        recovers = app.enqueue(f"{JOBS}.flaky", 1)
        ids = [
            deleted,
            typed,
            fails,
            exhausted,
            recovers,
            app.continue_with(ECHO, recovers, "after success", on="succeeded"),
            app.continue_with(ECHO, fails, "after failure", on="finished"),
            # A failed parent may yet be requeued: this one waits on, awaiting.
            app.continue_with(ECHO, exhausted, "not yet", on="succeeded"),
            app.continue_with(ECHO, deleted, "after deletion", on="finished"),
            app.schedule(ECHO, 0.5, "later", note="half a second"),
        ]
        server = harness.start_server()
        for job_id in ids[:7] + ids[8:]:
            app.jobs.wait(job_id, timeout=30)
        jobs = [app.jobs.get(job_id) for job_id in ids]
    found = [job for job in jobs if job is not None]
    assert len(found) == len(ids)
    assert found[1].result == {"args": TYPED_ARGS, "kwargs": TYPED_KWARGS}
    return found, server.server_id


def comparable(jobs: list[Job], server_id: str) -> list[dict[str, Any]]:
    """What should not depend on the storage: all but ids, timestamps and server ids."""
    index = {job.id: f"<job {n}>" for n, job in enumerate(jobs)}

    def reason(text: str | None) -> str | None:
        if text is None:
            return None
        text = text.replace(server_id, "<server>")
        text = re.sub(r"\b(job|parent) (\d+)\b", lambda m: f"{m[1]} {index[m[2]]}", text)
        return re.sub(r"due at \S+", "due at <time>", text)

    found = []
    for job in jobs:
        for at in (job.created_at, job.run_at, job.started_at, job.finished_at):
            assert at is None or at.utcoffset() == dt.timedelta(0), job
        assert all(c.at.utcoffset() == dt.timedelta(0) for c in job.history)
        assert [c.at for c in job.history] == sorted(c.at for c in job.history)
        assert job.server_id in (None, server_id)
        found.append(
            {
                "name": job.name,
                "queue": job.queue,
                "state": job.state.value,
                "attempt": job.attempt,
                "args": exact(job.args),
                "kwargs": exact(job.kwargs),
                "result": exact(job.result),
                "error": None
                if job.error is None
                else (job.error.type, job.error.message, job.error.traceback),
                "history": [(c.state.value, reason(c.reason)) for c in job.history],
                "parent": None if job.parent_id is None else index[job.parent_id],
                "continue_on": job.continue_on,
                "recurring_id": job.recurring_id,
                "has_started_at": job.started_at is not None,
                "has_finished_at": job.finished_at is not None,
            }
        )
    return found


def test_jobs_read_back_the_same_on_sqlite_and_postgres(bb: Harness, pg: Harness) -> None:
    on_sqlite = comparable(*run_reference_jobs(bb))
    on_postgres = comparable(*run_reference_jobs(pg))
    for n, (lite, post) in enumerate(zip(on_sqlite, on_postgres, strict=True)):
        for key in lite:
            assert post[key] == lite[key], f"job {n}: {key} differs"

    # And they are what the jobs did, not just equally wrong.
    deleted, typed, fails, exhausted, recovers = on_postgres[:5]
    assert typed["args"] == exact(TYPED_ARGS)
    assert typed["kwargs"] == exact(TYPED_KWARGS)
    assert typed["result"] == exact({"args": TYPED_ARGS, "kwargs": TYPED_KWARGS})
    assert deleted["history"] == [("enqueued", None), ("deleted", "deleted")]
    assert fails["state"] == "failed"
    assert fails["error"][:2] == ("RuntimeError", "this job always fails")
    assert 'raise RuntimeError("this job always fails")' in fails["error"][2]
    assert exhausted["attempt"] == 4
    assert exhausted["error"][:2] == ("ConnectionError", "flaky failure on attempt 4")
    assert [state for state, _ in exhausted["history"]] == [
        "enqueued",
        *["processing", "scheduled", "enqueued"] * 3,
        "processing",
        "failed",
    ]
    assert recovers["result"] == exact(2)
    assert [job["state"] for job in on_postgres[5:]] == [
        "succeeded",
        "succeeded",
        "awaiting",
        "succeeded",
        "succeeded",
    ]


# --- migrations -------------------------------------------------------------------------


def test_migrate_creates_the_schema_that_servers_without_auto_migrate_need(pg: Harness) -> None:
    schema = schema_of(pg)

    def schema_exists() -> bool:
        return bool(query("SELECT 1 FROM pg_namespace WHERE nspname = %s", schema))

    # Without auto-migrate a server on a fresh schema stops at once and says what to do.
    server = pg.spawn(
        "unmigrated-server",
        [sys.executable, "-m", "backburner", "server", "--app", APP],
        env=AUTO_MIGRATE_OFF,
    )
    assert server.wait(30) == 1
    said = server.text()
    assert "Traceback" not in said
    [error] = [line for line in said.splitlines() if line.startswith("Error: ")]
    assert "run `backburner migrate`" in error
    assert schema in error
    stats = pg.cli("stats", env=AUTO_MIGRATE_OFF, ok=False)
    assert stats.stderr.startswith("Error: the Backburner tables are missing"), stats.stderr
    assert "run `backburner migrate`" in stats.stderr
    assert "Traceback" not in stats.stderr
    assert not schema_exists()  # nothing was created behind the user's back

    done = pg.cli("migrate", "--url", pg.url, drop_env=["BACKBURNER_URL"])
    assert done.stdout == f"storage {pg.url} is up to date\n"
    assert schema_exists()
    migrations = [(v, name) for v, name, _ in load_migrations("backburner.storage.postgres")]
    recorded = f'SELECT version, name FROM "{schema}".bb_migrations ORDER BY version'
    assert query(recorded) == migrations
    tables = {
        name
        for (name,) in query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", schema
        )
    }
    assert {"bb_jobs", "bb_servers", "bb_leases", "bb_migrations"} <= tables
    again = pg.cli("migrate", "--url", pg.url, drop_env=["BACKBURNER_URL"])
    assert again.stdout == done.stdout
    assert query(recorded) == migrations

    # Now the same server starts and runs jobs, still without auto-migrate.
    pg.start_server(env=AUTO_MIGRATE_OFF)
    job_id = pg.cli("enqueue", f"{JOBS}.quick", "migrated", env=AUTO_MIGRATE_OFF).stdout.strip()
    job = pg.wait_state(job_id, "succeeded", timeout=20)
    assert job["result"]["value"] == "migrated"
