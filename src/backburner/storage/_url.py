"""Opening a storage backend from its URL."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ._protocol import Storage


class StorageError(Exception):
    """Storage could not be opened or reached; the message says which and why."""


SECRET_PARAMETERS = frozenset(
    {"password", "sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key"}
)
"""The libpq connection parameters that hold secrets; never shown."""

_SECRET_PAIR = re.compile(
    r"\b(" + "|".join(sorted(SECRET_PARAMETERS)) + r")(\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)",
    re.IGNORECASE,
)


class _Parts:
    """A URL cut the way libpq cuts it: the user-info ends at the last ``@`` before the
    first ``/``, the query starts at the first ``?`` after the user-info."""

    def __init__(self, url: str) -> None:
        scheme, sep, rest = url.partition("://")
        head, slash, path = rest.partition("/")
        userinfo, self.at, host = head.rpartition("@")
        self.start = scheme + sep
        self.user, colon, self.password = userinfo.partition(":")
        self.has_password = bool(colon)
        self.where, _, self.query = (host + slash + path).partition("?")
        self.pairs = [piece.partition("=") for piece in self.query.split("&")] if self.query else []

    def is_secret(self, key: str) -> bool:
        return unquote(key).lower() in SECRET_PARAMETERS

    def secrets(self) -> set[str]:
        found = {self.password} | {v for k, _, v in self.pairs if self.is_secret(k)}
        return {s for s in found | {unquote(s) for s in found} if s}

    def redacted(self) -> str:
        userinfo = f"{self.user}:***" if self.has_password else self.user
        query = "&".join(
            f"{k}=***" if eq and self.is_secret(k) else f"{k}{eq}{v}" for k, eq, v in self.pairs
        )
        return f"{self.start}{userinfo}{self.at}{self.where}{'?' if query else ''}{query}"


def redact(url: str) -> str:
    """The URL without its secrets (the password, ``?password=``, ``?sslpassword=`` ...),
    for logs and error messages."""
    if "://" not in url:
        # A libpq "key=value" string, or not a URL at all.
        return _SECRET_PAIR.sub(r"\1\2***", url)
    return _Parts(url).redacted()


def scrub(text: str, url: str) -> str:
    """``text`` (say, a driver's error message) with every secret of ``url`` masked."""
    if "://" in url:
        secrets = _Parts(url).secrets()
    else:
        secrets = {m.group(3).strip("'") for m in _SECRET_PAIR.finditer(url)} - {""}
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _SECRET_PAIR.sub(r"\1\2***", text)


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

        try:
            query = parse_qs(urlsplit(url).query, keep_blank_values=True)
        except ValueError as error:
            raise StorageError(f"malformed PostgreSQL URL {redact(url)!r}: {error}") from None
        schema = options.pop("schema", None)
        if schema is None:
            schema = query.get("schema", ["backburner"])[0]
        if not schema:
            # Taken for the default, it would have migrated (and used) the wrong schema.
            raise StorageError(
                f"an empty schema name in {redact(url)!r}: name one, or leave ?schema= out "
                "for the default schema 'backburner'"
            )
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
