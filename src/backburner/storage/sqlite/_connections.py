"""The connections of one SQLite storage: one writer, a few pooled readers, one file.

Connections are not tied to threads: a thread checks a reader out for one call and gives
it back, so short-lived threads (one per web request) leave nothing open behind them.
Every connection opens the file that the first one opened: if the file is deleted or
replaced meanwhile, opening another raises instead of mixing two files.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .._url import StorageError

MAX_IDLE_READERS = 4
"""Readers kept open between calls; more may be open while many threads read at once."""

SYNCHRONOUS = ("normal", "full")


class Connections:
    """Opens, pools and closes the connections of one file. Thread-safe."""

    def __init__(self, path: str, *, busy_timeout_ms: int, synchronous: str) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._synchronous = synchronous.upper()
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._writer: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._closed = False

    def _open(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("this storage is closed")
        if self._identity is not None:
            self.check_file()  # before connecting, which would create a missing file
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, cached_statements=256
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode survives any process crash; a power loss can undo the last
            # transactions, never corrupt the file. FULL also survives a power loss.
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            identity = self._stat()
            with self._lock:
                if self._identity is None:
                    self._identity = identity
            if identity != self._identity:
                raise self._replaced()
        except BaseException:
            conn.close()
            raise
        return conn

    def _stat(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return stat.st_dev, stat.st_ino

    def _replaced(self) -> StorageError:
        return StorageError(
            f"the SQLite file {self.path} was deleted or replaced while in use: this process "
            "still reads and writes the file it opened, which no other process sees; restart it"
        )

    def check_file(self) -> None:
        """Raise ``StorageError`` if the path no longer names the file that was opened."""
        if self._identity is not None and self._stat() != self._identity:
            raise self._replaced()

    def writer(self) -> sqlite3.Connection:
        """The one connection that writes; only ever used under the storage's write lock."""
        conn = self._writer
        if conn is None:
            conn = self._writer = self._open()
        return conn

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading, checked out for the block and given back after it."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._open()
        try:
            yield conn
        finally:
            with self._lock:
                pooled = (
                    not self._closed
                    and not conn.in_transaction
                    and len(self._idle) < MAX_IDLE_READERS
                )
                if pooled:
                    self._idle.append(conn)
            if not pooled:
                conn.close()

    def close(self, write_lock: threading.Lock) -> None:
        """Close every connection; readers still checked out close when given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        # A write in progress finishes first (writes are short); a stuck one is not waited for.
        locked = write_lock.acquire(timeout=5.0)
        try:
            writer, self._writer = self._writer, None
            if writer is not None:
                writer.close()
        finally:
            if locked:
                write_lock.release()
