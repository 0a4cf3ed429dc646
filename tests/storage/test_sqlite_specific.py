"""What only the SQLite backend does: its connections, its file, its URL and its counter."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backburner import StorageError
from backburner._records import Hosting
from backburner._states import JobState
from backburner.storage import open_storage
from backburner.storage._sql import load_migrations
from backburner.storage.sqlite import SQLiteStorage

from .conftest import T0, at, new_job
from .test_conformance import HOSTING, server, succeed


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[SQLiteStorage]:
    store = SQLiteStorage(str(tmp_path / "jobs.db"))
    store.migrate()
    yield store
    store.close()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
def test_short_lived_threads_leave_no_connections_open(sqlite: SQLiteStorage) -> None:
    sqlite.job_insert_many([new_job()], T0)
    before = open_fds()
    errors: list[BaseException] = []

    def request() -> None:
        try:
            [job_id] = sqlite.job_insert_many([new_job()], T0)
            assert sqlite.job_get(job_id) is not None
        except BaseException as error:
            errors.append(error)

    for _ in range(600):
        thread = threading.Thread(target=request)
        thread.start()
        thread.join()
    assert errors == []
    # A few pooled readers at most, whatever the number of threads that came and went.
    assert open_fds() - before <= 12
    assert len(sqlite.job_list(limit=1000)) == 601
    sqlite.close()
    assert open_fds() < before


def test_readers_many_at_once_are_not_all_kept(sqlite: SQLiteStorage) -> None:
    [job_id] = sqlite.job_insert_many([new_job()], T0)
    start = threading.Barrier(16)

    def read() -> None:
        start.wait(5)
        for _ in range(20):
            assert sqlite.job_get(job_id) is not None

    threads = [threading.Thread(target=read) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sqlite._db._idle) <= 4


def test_a_deleted_file_is_reported_on_heartbeat(sqlite: SQLiteStorage) -> None:
    [job_id] = sqlite.job_insert_many([new_job()], T0)
    sqlite.server_heartbeat(server("s1"))
    for suffix in ("", "-wal", "-shm"):
        os.remove(sqlite.path + suffix)
    with pytest.raises(StorageError, match="deleted or replaced"):
        sqlite.server_heartbeat(server("s1", heartbeat=at(5)))
    with pytest.raises(StorageError, match="deleted or replaced"):
        sqlite.check_file()
    # A new connection would open another, empty file: it is refused, and none is created.
    while sqlite._db._idle:
        sqlite._db._idle.pop().close()
    with pytest.raises(StorageError, match="deleted or replaced"):
        sqlite.job_get(job_id)
    assert not os.path.exists(sqlite.path)


def test_a_replaced_file_is_reported_and_never_mixed_in(tmp_path: Path) -> None:
    store = SQLiteStorage(str(tmp_path / "jobs.db"))
    store.migrate()
    [job_id] = store.job_insert_many([new_job()], T0)
    other = SQLiteStorage(str(tmp_path / "other.db"))
    other.migrate()
    other.close()
    os.replace(tmp_path / "other.db", tmp_path / "jobs.db")
    with pytest.raises(StorageError, match=r"jobs\.db was deleted or replaced"):
        store.server_heartbeat(server("s1"))
    with pytest.raises(StorageError, match="deleted or replaced"):
        store.listen(lambda: None)
    while store._db._idle:
        store._db._idle.pop().close()
    with pytest.raises(StorageError, match="deleted or replaced"):
        store.job_get(job_id)
    store.close()


def test_the_url_chooses_synchronous_full(tmp_path: Path) -> None:
    def synchronous(url: str) -> int:
        store = open_storage(url)
        assert isinstance(store, SQLiteStorage)
        try:
            store.migrate()
            with store._db.reader() as conn:
                mode: int = conn.execute("PRAGMA synchronous").fetchone()[0]
            with store._db.reader() as conn:
                timeout: int = conn.execute("PRAGMA busy_timeout").fetchone()[0]
            assert store.path == str(tmp_path / "jobs.db")
            return mode * 1_000_000 + timeout
        finally:
            store.close()

    base = f"sqlite:///{tmp_path}/jobs.db"
    assert synchronous(base) == 1 * 1_000_000 + 30_000  # NORMAL
    assert synchronous(f"{base}?synchronous=normal") == 1 * 1_000_000 + 30_000
    assert synchronous(f"{base}?synchronous=FULL&busy_timeout=2.5") == 2 * 1_000_000 + 2_500


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("synchronous=off", r"\?synchronous= takes normal or full, not 'off'"),
        ("busy_timeout=soon", r"\?busy_timeout= takes seconds \(0 or more\), not 'soon'"),
        ("busy_timeout=-1", r"\?busy_timeout= takes seconds"),
        ("busy_timeout=nan", r"\?busy_timeout= takes seconds"),
        ("journal=wal&cache=big", r"unknown parameter\(s\) cache, journal in the SQLite URL"),
        ("synchronous=full&synchronous=normal", r"\?synchronous= is given 2 times"),
        ("synchronous", r"cannot read the parameters"),
    ],
)
def test_the_url_refuses_what_it_does_not_know(tmp_path: Path, query: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        open_storage(f"sqlite:///{tmp_path}/jobs.db?{query}")
    assert not (tmp_path / "jobs.db").exists()


def test_keyword_options_are_checked_too(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="synchronous takes normal or full, not 'extra'"):
        SQLiteStorage(str(tmp_path / "jobs.db"), synchronous="extra")


def test_the_id_counter_starts_after_the_jobs_of_an_older_file(tmp_path: Path) -> None:
    path = str(tmp_path / "jobs.db")
    store = SQLiteStorage(path)
    store.migrate()
    ids = store.job_insert_many([new_job() for _ in range(3)], T0)
    store.close()
    # The file as it was before the counter existed.
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("DROP TABLE bb_counters")
    raw.execute("PRAGMA user_version = 2")
    raw.close()

    store = SQLiteStorage(path)
    store.migrate()
    store.job_claim("s1", ["default"], 10, at(1))
    store.job_finish_many([succeed(job_id) for job_id in ids])
    assert store.job_prune({JobState.SUCCEEDED: at(50)}, limit=100, now=at(100)) == 3
    store.close()
    store = SQLiteStorage(path)  # and the counter is kept in the file
    [fresh] = store.job_insert_many([new_job()], at(101))
    assert int(fresh) == int(ids[-1]) + 1
    store.close()


def test_jobs_inserted_behind_the_counters_back_are_not_overwritten(
    sqlite: SQLiteStorage,
) -> None:
    [first] = sqlite.job_insert_many([new_job()], T0)
    raw = sqlite3.connect(sqlite.path, isolation_level=None)
    raw.execute(
        "INSERT INTO bb_jobs (id, name, queue, state, args, kwargs, created_at, run_at, history)"
        " VALUES (?, 'old', 'default', 'enqueued', '[]', '{}', 0, 0, '[]')",
        (int(first) + 1,),
    )
    raw.close()
    [after] = sqlite.job_insert_many([new_job()], T0)
    assert int(after) == int(first) + 2


def test_a_file_from_before_server_hosting_keeps_its_servers_and_takes_reports(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "jobs.db")
    raw = sqlite3.connect(path, isolation_level=None)
    for version, _name, script in load_migrations("backburner.storage.sqlite"):
        if version < 8:
            raw.executescript(script)
            raw.execute(f"PRAGMA user_version = {version}")
    raw.execute("INSERT INTO bb_servers VALUES ('old', 'host', 1, '[\"default\"]', 4, 0, 0)")
    raw.close()
    store = SQLiteStorage(path)
    store.migrate()
    [old] = store.server_list()
    assert (old.id, old.workers, old.busy, old.hosting) == ("old", 4, 0, Hosting())
    store.server_heartbeat(dataclasses.replace(server("old"), busy=2, hosting=HOSTING))
    [old] = store.server_list()
    assert (old.busy, old.hosting) == (2, HOSTING)
    store.close()
