"""A TCP proxy in front of PostgreSQL that cuts or stalls its connections on demand.

It runs an asyncio loop on a thread of the test process. Point a server at ``proxy.route(url)``
and it reaches PostgreSQL through the proxy; the test itself talks to PostgreSQL directly.

- ``cut_replies(match, every, times)``: when a reply from PostgreSQL contains ``match``
  (the ``every``-th such reply, ``times`` times), cut its connection instead of passing
  the reply on. A claim cut so is committed, and its server never hears of it.
- ``stall_replies(match, seconds, times)``: hold such a reply ``seconds`` before passing
  it on: the statement has run, its caller waits.
- ``stall()`` / ``resume()``: hold every byte, both ways, on every connection, until
  resumed: a network that hangs without breaking.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class _Rule:
    match: bytes
    every: int
    times: int
    stall: float | None  # None: cut
    seen: int = 0


class FaultProxy:
    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._target_url = target_url
        self._loop = asyncio.new_event_loop()
        self._flowing = asyncio.Event()
        self._rule: _Rule | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._lock = threading.Lock()
        self.cuts = 0
        self.stalls = 0
        self.connections = 0
        self.port = 0
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, name="fault-proxy", daemon=True)

    # --- control, from the test's thread ---------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        self._started.wait(10)
        return self

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def route(self, url: str) -> str:
        """``url`` (of the proxied PostgreSQL) through the proxy."""
        parts = urlsplit(url)
        netloc = parts.netloc.replace(f":{self._target[1]}", f":{self.port}")
        return parts._replace(netloc=netloc).geturl()

    def cut_replies(self, match: bytes, *, every: int = 1, times: int = 1) -> None:
        with self._lock:
            self._rule = _Rule(match, every, times, None)

    def stall_replies(self, match: bytes, seconds: float, *, times: int = 1) -> None:
        with self._lock:
            self._rule = _Rule(match, 1, times, seconds)

    def stall(self) -> None:
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def resume(self) -> None:
        self._loop.call_soon_threadsafe(self._flowing.set)

    @contextmanager
    def stalled(self) -> Iterator[None]:
        self.stall()
        try:
            yield
        finally:
            self.resume()

    # --- the proxy, on its loop ------------------------------------------------------

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._flowing.set()
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._loop.close()

    def _fault(self, data: bytes) -> _Rule | None:
        """The rule that applies to this reply, counted as applied."""
        with self._lock:
            rule = self._rule
            if rule is None or rule.times <= 0 or rule.match not in data:
                return None
            rule.seen += 1
            if rule.seen % rule.every:
                return None
            rule.times -= 1
            if rule.stall is None:
                self.cuts += 1
            else:
                self.stalls += 1
            return rule

    async def _shutdown(self) -> None:
        """Close every connection and let its pipes end on their own (cancelling them
        would leave asyncio complaining about callbacks of cancelled tasks)."""
        self._flowing.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(client_w)
        self.connections += 1
        try:
            server_r, server_w = await asyncio.open_connection(*self._target)
        except OSError:
            client_w.close()
            return
        self._writers.add(server_w)
        try:
            await asyncio.gather(
                self._pipe(client_r, server_w, client_w, replies=False),
                self._pipe(server_r, client_w, server_w, replies=True),
            )
        finally:
            self._writers -= {client_w, server_w}
            self._tasks.discard(task)

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        other: asyncio.StreamWriter,
        *,
        replies: bool,
    ) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                rule = self._fault(data) if replies else None
                if rule is not None:
                    if rule.stall is None:
                        break
                    await asyncio.sleep(rule.stall)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            other.close()
