"""Pooled connections to PostgreSQL that come back by themselves after a server restart.

Failures to reach the server surface as ``StorageError`` naming the server (without its
password) within ``timeout`` seconds, never as a hang.
"""

from __future__ import annotations

import functools
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import psycopg
from psycopg import errors, pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from .._url import StorageError, redact, scrub

T = TypeVar("T")
Connection = psycopg.Connection[tuple[Any, ...]]

# A deadlock or serialization failure rolls the whole transaction back, so running it again
# is safe; they are rare (overlapping batches), so a few attempts are plenty.
RETRIED = (errors.DeadlockDetected, errors.SerializationFailure)
ATTEMPTS = 3


def conninfo(url: str, *, connect_timeout: float, application_name: str) -> str:
    """libpq connection string for ``url``, with our defaults where the URL sets none."""
    _check_parameters(url)
    try:
        params: dict[str, Any] = conninfo_to_dict(_without_schema(url))
    except psycopg.Error as error:
        raise StorageError(
            f"malformed PostgreSQL URL {redact(url)!r}: {scrub(first_line(error), url)}"
        ) from None
    params.setdefault("connect_timeout", max(1, round(connect_timeout)))
    params.setdefault("application_name", application_name)
    # Notice a silently vanished server (network partition, crashed host) within about a
    # minute instead of the operating system's default of hours.
    params.setdefault("keepalives", 1)
    params.setdefault("keepalives_idle", 30)
    params.setdefault("keepalives_interval", 10)
    params.setdefault("keepalives_count", 3)
    return make_conninfo(**params)


OUR_PARAMETERS = frozenset(
    {"schema", "notifications", "pool_min_size", "pool_max_size", "pool_timeout"}
)


def _check_parameters(url: str) -> None:
    """Name an unknown URL parameter, and the known ones, rather than pass on libpq's error."""
    if "://" not in url:
        return
    try:
        keys = [key for key, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)]
    except ValueError as error:
        raise StorageError(f"malformed PostgreSQL URL {redact(url)!r}: {error}") from None
    known = OUR_PARAMETERS | _libpq_parameters()
    for key in keys:
        if key not in known:
            raise StorageError(
                f"unknown parameter ?{key}= in PostgreSQL URL {redact(url)!r}: Backburner "
                f"takes {', '.join(sorted(OUR_PARAMETERS))}; libpq takes "
                f"{', '.join(sorted(_libpq_parameters()))}"
            )


def _without_schema(url: str) -> str:
    """``OUR_PARAMETERS`` are read by ``open_storage``; libpq rejects parameters it does not
    know."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in OUR_PARAMETERS
    ]
    return parts._replace(query=urlencode(query)).geturl()


@functools.cache
def _libpq_parameters() -> frozenset[str]:
    # What this libpq knows: newer versions add parameters.
    return frozenset(option.keyword.decode() for option in pq.Conninfo.get_defaults())


class Connections:
    """A small pool of autocommit connections, each checked for life as it is handed out."""

    def __init__(
        self,
        url: str,
        conninfo: str,
        *,
        min_size: int,
        max_size: int,
        timeout: float,
        prepare_threshold: int | None,
        configure: Callable[[Connection], None],
    ) -> None:
        self.where = redact(url)
        self._url = url
        self._conninfo = conninfo
        self._timeout = timeout
        self._max_size = max_size
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs={"autocommit": True, "prepare_threshold": prepare_threshold},
            configure=configure,
            name=f"backburner {self.where}",
            # Connect in the background: constructing a storage never blocks or fails.
            open=True,
        )

    def close(self) -> None:
        self._pool.close()

    def run(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` on a pooled connection, again after a deadlock; errors translated."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self.connection() as conn:
                    return work(conn)
            except RETRIED:
                if attempt == ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A live pooled connection; ``OperationalError`` leaves as ``StorageError``."""
        try:
            conn = self._checkout()
        except psycopg.OperationalError as error:
            raise StorageError(
                f"no connection to PostgreSQL at {self.where} within {self._timeout:g}s: "
                f"{self._why_no_connection()}"
            ) from error
        try:
            yield conn
        except errors.TransactionRollback:
            raise
        except errors.UndefinedTable as error:
            # Auto-migrate is off and nobody ran the migrations (or the schema was dropped).
            raise StorageError(
                f"the Backburner tables are missing in PostgreSQL at {self.where} "
                f"({first_line(error)}): run `backburner migrate` first"
            ) from error
        except psycopg.OperationalError as error:
            what = "lost the connection to" if conn.broken else "error from"
            raise StorageError(f"{what} PostgreSQL at {self.where}: {self._say(error)}") from error
        finally:
            self._pool.putconn(conn)

    def _say(self, error: BaseException) -> str:
        return scrub(first_line(error), self._url)

    def _why_no_connection(self) -> str:
        # The pool only says that it timed out. One connection attempt of our own tells a
        # server that cannot be reached from a pool whose connections are all in use.
        try:
            psycopg.connect(self._conninfo).close()
        except psycopg.Error as error:
            return self._say(error)
        return f"the pool ({self._max_size} connections at most) stayed busy"

    def _checkout(self) -> Connection:
        # Connections idle in the pool die with a server restart or pg_terminate_backend.
        # Finding out costs nothing: a dying backend says so before it closes, which leaves
        # the socket readable. Dead ones are closed (the pool replaces them in the
        # background) and the next one is tried at once, which a pool `check` callback
        # would delay with its back-off.
        deadline = time.monotonic() + self._timeout
        while True:
            # A timeout of zero or less makes the pool raise PoolTimeout.
            conn = self._pool.getconn(timeout=deadline - time.monotonic())
            if _alive(conn):
                return conn
            conn.close()
            self._pool.putconn(conn)


def _alive(conn: Connection) -> bool:
    """False for a connection whose backend is gone; costs a syscall, not a round trip."""
    if conn.closed or conn.broken:
        return False
    try:
        if not readable(conn.fileno()):
            return True
        # Something arrived while idle: a parameter change is harmless, a FATAL is not.
        conn.execute("", prepare=False)
    except (psycopg.Error, OSError, ValueError):
        return False
    return True


def readable(fd: int) -> bool:
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])  # pragma: no cover - Windows


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
