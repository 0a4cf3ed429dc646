"""LISTEN on a dedicated connection in a daemon thread, reconnecting with back-off."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from ._connections import Connection

log = logging.getLogger("backburner.storage.postgres")

# How long a stop request may go unnoticed, and the reconnection back-off bounds.
_WAKE_INTERVAL = 0.25
_FIRST_DELAY = 0.5
_MAX_DELAY = 30.0


class Listener:
    """Calls ``on_change()`` for every notification on one channel until stopped."""

    def __init__(
        self,
        connect: Callable[[], Connection],
        listen_sql: str,
        on_change: Callable[[], None],
    ) -> None:
        self._connect = connect
        self._listen_sql = listen_sql
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="backburner-postgres-listen", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: float = 0.0) -> None:
        """Ask the thread to end; wait up to ``wait`` seconds for it (never from itself)."""
        self._stop.set()
        if wait and threading.current_thread() is not self._thread:
            self._thread.join(wait)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        delay = _FIRST_DELAY
        missed = False
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(self._listen_sql)
                    delay = _FIRST_DELAY
                    if missed:
                        # Work may have arrived while nobody was listening.
                        self._notify()
                        missed = False
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=_WAKE_INTERVAL):
                            self._notify()
            except psycopg.Error as error:
                missed = True
                log.warning("listening for new jobs failed (retrying in %.1fs): %s", delay, error)
                self._stop.wait(delay)
                delay = min(delay * 2, _MAX_DELAY)

    def _notify(self) -> None:
        try:
            self._on_change()
        except Exception:
            log.exception("a new-job callback failed")
