"""``app.lifespan()``: a web app's lifespan that runs a server (and the dashboard) with it.

An ASGI framework (FastAPI, Starlette) calls its ``lifespan`` once at startup and leaves it
at shutdown. This one starts a server of the app on a thread of its own (its services,
periodic work and task queues with it) before the web app takes requests, mounts the
dashboard if asked, runs the user's own lifespan inside, and stops the server gracefully
after the web app has stopped. Starlette never runs the lifespan of a mounted app, which
is why the user's is given here rather than mounted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import Backburner
    from .web import Authorize

log = logging.getLogger("backburner")

Lifespan = Callable[[Any], contextlib.AbstractAsyncContextManager[Any]]


def lifespan(
    app: Backburner,
    inner: Lifespan | None,
    *,
    dashboard: str | None,
    authorize: Authorize | None,
    read_only: bool,
    run_jobs: bool | None,
) -> Lifespan:
    if dashboard is not None and not dashboard.startswith("/"):
        raise ValueError(f"lifespan(dashboard={dashboard!r}): a path starts with '/'")
    if inner is not None and not callable(inner):
        raise TypeError(f"lifespan({inner!r}): give your own lifespan function, or nothing")

    @contextlib.asynccontextmanager
    async def run(web: Any) -> AsyncIterator[Any]:
        if dashboard is not None:
            _mount(web, dashboard.rstrip("/") or "/", app, authorize, read_only)
        jobs = app.settings.hosting.run_jobs if run_jobs is None else run_jobs
        server = app.start_server(workers=None if jobs else 0)
        await asyncio.to_thread(server.__enter__)
        try:
            if inner is None:
                yield None
            else:
                async with inner(web) as state:
                    yield state
        finally:
            await asyncio.to_thread(server.__exit__, None, None, None)

    return run


def _mount(
    web: Any, path: str, app: Backburner, authorize: Authorize | None, read_only: bool
) -> None:
    mount = getattr(web, "mount", None)
    if mount is None:
        raise TypeError(
            f"lifespan(dashboard={path!r}): {type(web).__name__} has no mount(); mount "
            "app.dashboard() yourself and leave dashboard= out"
        )
    mount(path, app.dashboard(authorize=authorize, read_only=read_only))
    log.info("dashboard mounted at %s", path)
