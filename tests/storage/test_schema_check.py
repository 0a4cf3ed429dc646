"""Storage that nobody migrated is refused with a message that says what to run."""

from __future__ import annotations

from pathlib import Path

import pytest

from backburner import Backburner, StorageError
from backburner.storage.postgres import PostgresStorage
from backburner.storage.sqlite import SQLiteStorage
from tests.support import POSTGRES_URL, drop_schema, fresh_schema


def test_an_unmigrated_sqlite_file_is_refused(tmp_path: Path) -> None:
    store = SQLiteStorage(str(tmp_path / "jobs.db"))
    try:
        with pytest.raises(StorageError, match="run `backburner migrate` first"):
            store.check_schema()
    finally:
        store.close()


@pytest.mark.postgres
def test_an_unmigrated_postgres_schema_is_refused() -> None:
    schema = fresh_schema()
    store = PostgresStorage(POSTGRES_URL, schema=schema)
    try:
        with pytest.raises(StorageError, match="run `backburner migrate` first"):
            store.check_schema()
    finally:
        store.close()
        drop_schema(schema)


def test_an_app_without_auto_migrate_refuses_until_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jobs.db"

    @Backburner(url, auto_migrate=False).job
    def task() -> None: ...

    with pytest.raises(StorageError, match=r"lacks migrations 0001_initial\.sql"):
        task.enqueue()

    app = Backburner(url, auto_migrate=False)
    app.migrate()
    job = app.job(task.func)
    assert app.jobs.get(job.enqueue()) is not None
    app.close()
