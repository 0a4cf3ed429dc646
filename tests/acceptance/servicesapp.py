"""An app with services of its own, for real server processes.

``SERVICESAPP_LOG``: the file its leader-only service writes this process's id to while
it runs. ``SERVICESAPP_CRASH``: set, a service that must not be restarted crashes.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from backburner import Backburner
from backburner.server import Service

app = Backburner()


@app.job(name="ok")
def ok(n: int) -> int:
    return n


def lead(stop: threading.Event) -> None:
    log = Path(os.environ["SERVICESAPP_LOG"])
    while not stop.wait(0.05):
        with log.open("a") as out:
            out.write(f"{os.getpid()}\n")


def crash(stop: threading.Event) -> None:
    if stop.wait(0.5):
        return
    raise RuntimeError("the service broke")


app.add_service(Service("leads", lead, leader_only=True))
if os.environ.get("SERVICESAPP_CRASH"):
    app.add_service(Service("fragile", crash, restart="never"))
