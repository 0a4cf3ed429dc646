"""Helpers shared by the test suites: the local PostgreSQL, free ports, waiting."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from backburner.storage.postgres import PostgresStorage

POSTGRES_URL = os.environ.get(
    "BACKBURNER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)

T = TypeVar("T")
V = TypeVar("V")


def fresh_schema() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextlib.contextmanager
def postgres_storage() -> Iterator[PostgresStorage]:
    """A migrated PostgreSQL storage in a schema of its own, dropped afterwards."""
    from backburner.storage.postgres import PostgresStorage

    schema = fresh_schema()
    store = PostgresStorage(POSTGRES_URL, schema=schema)
    try:
        store.migrate()
        yield store
    finally:
        store.close()
        drop_schema(schema)


def wait_until(
    check: Callable[[], T | None], timeout: float = 10.0, what: str = "", pause: float = 0.02
) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        time.sleep(pause)


def wait_reading(
    read: Callable[[], V], check: Callable[[V], bool], timeout: float, what: str, pause: float
) -> V:
    """Poll ``read()`` until ``check`` accepts its value; on timeout, show the last one."""
    last: list[V] = []

    def reached() -> bool:
        last[:] = [read()]
        return check(last[0])

    try:
        wait_until(reached, timeout, what, pause)
    except AssertionError as error:
        raise AssertionError(f"{error}; last seen: {last[0] if last else None}") from None
    return last[0]
