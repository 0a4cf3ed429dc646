"""What every verb of the PostgreSQL backend stands on: its queries, pool and transactions."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .._sql import load_queries
from ._connections import Connection, Connections, conninfo
from ._listener import Listener

T = TypeVar("T")
Rows = list[tuple[Any, ...]]

PACKAGE = __package__ or "backburner.storage.postgres"
_QUERIES = {**load_queries(PACKAGE), **load_queries(PACKAGE, "read.sql")}
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class StorageBase:
    """Queries bound to one schema, a connection pool, and ways to run statements."""

    def __init__(
        self,
        url: str,
        *,
        schema: str = "backburner",
        pool_min_size: int = 1,
        pool_max_size: int = 10,
        pool_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        notifications: bool = True,
        application_name: str = "backburner",
        prepare_threshold: int | None = 5,
    ) -> None:
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(
                f"schema name {schema!r} must be letters, digits and underscores, "
                "not starting with a digit, at most 63 characters"
            )
        self.schema = schema
        self.channel = channel_for(schema)
        self._notifications = notifications
        self._q = {
            name: text.replace("{schema}", quote(schema)).replace("{channel}", quote(self.channel))
            for name, text in _QUERIES.items()
        }
        self._conninfo = conninfo(
            url, connect_timeout=connect_timeout, application_name=application_name
        )
        self._prepare_threshold = prepare_threshold
        self._db = Connections(
            url,
            self._conninfo,
            min_size=pool_min_size,
            max_size=pool_max_size,
            timeout=pool_timeout,
            prepare_threshold=prepare_threshold,
            configure=self._configure,
        )
        self._listeners: list[Listener] = []
        self._listeners_lock = threading.Lock()
        self._closed = False

    def _configure(self, conn: Connection) -> None:
        conn.execute(self._q["configure_session"])

    @property
    def _notify_channel(self) -> str | None:
        """The channel to NOTIFY, or None (which the queries read as "do not")."""
        return self.channel if self._notifications else None

    def _work(self, work: Callable[[Connection], T]) -> T:
        if self._closed:
            raise RuntimeError("this storage is closed")
        return self._db.run(work)

    def _run(self, query: str, params: Mapping[str, Any] | None = None) -> Rows:
        """One statement in a transaction of its own (one round trip); the rows it returns."""

        def work(conn: Connection) -> Rows:
            cursor = conn.execute(self._q[query], params)
            return cursor.fetchall() if cursor.description is not None else []

        return self._work(work)

    def _count(self, query: str, params: Mapping[str, Any]) -> int:
        """One statement; how many rows it changed."""
        return self._work(lambda conn: conn.execute(self._q[query], params).rowcount)

    def _atomic(self, *statements: tuple[str, Mapping[str, Any]]) -> list[Rows]:
        """Several statements in one transaction and one round trip; the rows of each.

        Pipelined statements up to the next sync form one implicit transaction: all of
        them commit, or none. So nothing is read before the pipeline ends (reading syncs).
        """

        def work(conn: Connection) -> list[Rows]:
            with conn.pipeline():
                cursors = [conn.execute(self._q[name], params) for name, params in statements]
            return [c.fetchall() if c.description is not None else [] for c in cursors]

        return self._work(work)

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` in an explicit transaction, for when it reads between statements."""

        def run(conn: Connection) -> T:
            with conn.transaction():
                return work(conn)

        return self._work(run)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def channel_for(schema: str) -> str:
    """``<schema>_backburner``, shortened with a digest to fit PostgreSQL's 63 bytes."""
    channel = f"{schema}_backburner"
    if len(channel) <= 63:
        return channel
    digest = hashlib.sha256(schema.encode()).hexdigest()[:12]
    return f"{schema[:38]}_{digest}_backburner"
