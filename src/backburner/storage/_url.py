"""Opening a storage backend from its URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._protocol import Storage


class StorageError(Exception):
    """Storage could not be opened or reached; the message says which and why."""


def redact(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def open_storage(url: str, **options: Any) -> Storage:
    """Open the backend a URL names.

    - ``memory://``: in this process only (users' tests);
    - ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``: an embedded file;
      add ``?synchronous=full`` for commits that survive a power loss, ``?busy_timeout=``
      for how long a writer waits for another process (seconds);
    - ``postgresql://user:password@host:5432/db?schema=name``: PostgreSQL; add
      ``&notifications=off`` behind a pooler in transaction mode (PgBouncer).
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme == "memory":
        from .memory import MemoryStorage

        return MemoryStorage()
    if scheme == "sqlite":
        from .sqlite import SQLiteStorage
        from .sqlite._options import parse_url

        path, sqlite_options = parse_url(url, options)
        return SQLiteStorage(path, **sqlite_options)
    if scheme in ("postgres", "postgresql"):
        try:
            from .postgres import PostgresStorage
        except ModuleNotFoundError as error:
            if error.name not in ("psycopg", "psycopg_pool"):
                raise
            raise StorageError(
                f"PostgreSQL storage needs {error.name}, which is not installed: "
                "pip install 'backburner[postgres]'"
            ) from None

        query = parse_qs(urlsplit(url).query)
        schema = options.pop("schema", None) or query.get("schema", ["backburner"])[0]
        if "notifications" in query and "notifications" not in options:
            flag = query["notifications"][0].lower()
            if flag not in ("on", "off", "true", "false", "1", "0"):
                raise StorageError(f"?notifications= takes on or off, not {flag!r}")
            options["notifications"] = flag in ("on", "true", "1")
        for name, kind in (("pool_min_size", int), ("pool_max_size", int), ("pool_timeout", float)):
            if name in query and name not in options:
                try:
                    options[name] = kind(query[name][0])
                except ValueError:
                    raise StorageError(f"?{name}= takes a number, not {query[name][0]!r}") from None
        return PostgresStorage(url, schema=schema, **options)
    raise StorageError(
        f"unknown storage URL {redact(url)!r}: use memory://, sqlite:///file.db "
        "or postgresql://user@host/db"
    )
