"""Serving the dashboard with uvicorn, alone or beside a server in the same process."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import uvicorn

if TYPE_CHECKING:
    from .._app import Backburner

log = logging.getLogger("backburner.web")


class ServeError(RuntimeError):
    """The dashboard could not be served (its address is taken, say)."""


def url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


@contextlib.contextmanager
def _signals(stop: threading.Event) -> Iterator[None]:
    def on_signal(signum: int, frame: Any) -> None:
        log.info("%s received: stopping gracefully", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def serve(
    app: Backburner,
    host: str,
    port: int,
    *,
    with_server: bool = False,
    **server_options: Any,
) -> None:
    """Serve the dashboard until SIGINT or SIGTERM; with ``with_server``, also run a
    server (``server_options`` as ``app.start_server`` takes them), stopped gracefully
    after the dashboard. Port 0 takes any free port (the log says which)."""
    # uvicorn runs in a thread of its own so that this thread keeps the signals: uvicorn
    # in the main thread re-raises them when it stops, and a SIGTERM would then end the
    # process before the server could finish its jobs.
    # No access log: every open page polls once or twice a second.
    config = uvicorn.Config(
        app.dashboard(), host=host, port=port, log_level="info", access_log=False
    )
    web = uvicorn.Server(config)

    def run() -> None:
        # uvicorn exits (SystemExit) when it cannot listen; web.started then stays False.
        with contextlib.suppress(SystemExit):
            web.run()

    stop = threading.Event()
    running = app.start_server(**server_options) if with_server else contextlib.nullcontext()
    with _signals(stop), running:
        thread = threading.Thread(target=run, name="backburner-dashboard", daemon=True)
        thread.start()
        announced = False
        while not stop.wait(0.2) and thread.is_alive():
            if web.started and not announced:
                announced = True
                log.info("dashboard at %s", url(host, _bound_port(web, port)))
        web.should_exit = True
        thread.join(10)
    if not web.started:
        raise ServeError(f"the dashboard could not listen on {host}:{port} (see the log above)")


def _bound_port(web: uvicorn.Server, asked: int) -> int:
    for server in getattr(web, "servers", []):
        for sock in server.sockets:
            return int(sock.getsockname()[1])
    return asked
