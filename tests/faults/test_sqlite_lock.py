"""Another process holds SQLite's write lock for longer than the servers' timeout.

Every writer waits (the busy timeout is 30 s), heartbeats included. When the lock goes,
no server may take itself or another for dead: each job runs once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest

from backburner._records import ServerInfo
from backburner.storage.sqlite import SQLiteStorage
from tests.acceptance.harness import Harness, wait_for

from .conftest import APP
from .runs import assert_each_ran_once, client, rescued, runs
from .sqlite_lock import write_lock_held


def test_a_heartbeat_that_waited_for_the_lock_is_stamped_when_written(tmp_path: Path) -> None:
    store = SQLiteStorage(str(tmp_path / "jobs.db"))
    store.migrate()
    asked = dt.datetime.now(dt.UTC)
    info = ServerInfo("s1", "host", 1, ("default",), 1, asked, asked)
    with write_lock_held(tmp_path / "jobs.db"):
        beat = threading.Thread(target=store.server_heartbeat, args=(info,))
        beat.start()
        time.sleep(0.5)
    beat.join(10)
    [stored] = store.server_list()
    store.close()
    assert stored.heartbeat_at >= asked + dt.timedelta(seconds=0.45)


@pytest.mark.slow
def test_servers_stalled_by_a_write_lock_rescue_nobody(sqlite_bb: Harness) -> None:
    app, work = client(sqlite_bb.url)
    try:
        app.migrate()
        servers = [sqlite_bb.start_server("--workers", "2", app=APP) for _ in range(2)]
        ids = [work.enqueue(4.0) for _ in range(4)]
        wait_for(lambda: len(runs(sqlite_bb)) == 4, 10, "the four jobs to start")
        with write_lock_held(sqlite_bb.db):
            time.sleep(3.0)  # twice the servers' timeout
        ids.append(work.enqueue(0.0))  # and work goes on after it
        wait_for(lambda: app.stats().succeeded == len(ids), 20, "every job to succeed")
        assert_each_ran_once(sqlite_bb, ids)
        assert rescued(app, ids) == {}
        assert app.stats().processing == 0
        assert all("storage stalled" in server.text() for server in servers)
    finally:
        app.close()
