"""Running an example: a server and the dashboard in one process, with work flowing in."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence

from backburner import Backburner

Produce = Callable[[threading.Event], None]
"""Feeds the example with work until its event is set (what a web app's requests do)."""


def run(app: Backburner, produce: Produce, *, queues: Sequence[str], workers: int = 4) -> None:
    """Serve the dashboard (on $DEMO_PORT, 8000, or any free port) beside a server until
    SIGINT or SIGTERM, with ``produce`` feeding work on a thread; the server alone without
    the dashboard extra."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    stop = threading.Event()
    threading.Thread(target=produce, args=(stop,), name="producer", daemon=True).start()
    try:
        try:
            from backburner.web._serve import serve
        except ImportError:  # without the dashboard extra: the server alone
            app.run_server(queues=queues, workers=workers)
        else:
            port = free_port(int(os.environ.get("DEMO_PORT", "8000")))
            serve(app, "127.0.0.1", port, with_server=True, queues=queues, workers=workers)
    finally:
        stop.set()


def free_port(port: int) -> int:
    """``port`` if nothing listens on it, else 0 (any free port): another program on the
    port must not stop an example."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port
