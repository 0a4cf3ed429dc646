"""Routes, and the guard every request passes: access, read-only, cross-site forgery."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..storage._url import StorageError
from ._access import Authorize, Grant, cross_site, grant_for
from ._api import Api, ApiError
from ._health import health_endpoint, live_endpoint, metrics_endpoint
from ._openapi import document
from ._pages import STATIC, Pages
from ._redaction import Redactor
from ._snapshot import cache_for

if TYPE_CHECKING:
    from .._app import Backburner
    from .._redact import RedactRule

log = logging.getLogger("backburner.web")

Handler = Callable[[Request, Grant], Any]
_JSON = "application/json"


def _error(
    status: int, message: str, api: bool, headers: Mapping[str, str] | None = None
) -> Response:
    if api:
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    return HTMLResponse(
        f"<!doctype html><title>{status}</title><p>{_escape(message)}</p>",
        status_code=status,
        headers=headers,
    )


def _escape(text: str) -> str:
    return html.escape(text)


class _Guard:
    """Checks one request before its handler runs."""

    def __init__(self, authorize: Authorize | None, read_only: bool) -> None:
        self.authorize = authorize
        self.read_only = read_only

    def wrap(self, handler: Handler, *, acts: bool = False, api: bool = True) -> Any:
        async def endpoint(request: Request) -> Response:
            request.state.body = await request.body()
            # Storage and authorize= block: off the event loop, so that one slow read
            # never holds up the other requests.
            return await run_in_threadpool(self._answer, handler, acts, api, request)

        return endpoint

    def _answer(self, handler: Handler, acts: bool, api: bool, request: Request) -> Response:
        grant = grant_for(self.authorize, request, self.read_only)
        if not grant.can_view:
            return _error(403, "access to the dashboard is refused", api)
        if acts:
            refused = self._refuse_action(request, grant)
            if refused is not None:
                return _error(403, refused, api)
        try:
            answer = handler(request, grant)
        except ApiError as error:
            return _error(error.status, error.message, api)
        except StorageError as error:
            # The dashboard is fine; what it reads is not there right now.
            return _error(503, f"storage does not answer: {error}", api)
        except (ValueError, TypeError, LookupError) as error:
            return _error(400, str(error), api)
        if isinstance(answer, Response):
            return answer
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    @staticmethod
    def _refuse_action(request: Request, grant: Grant) -> str | None:
        if not grant.can_act:
            return "this dashboard is read-only for you: actions are refused"
        forged = cross_site(request)
        if forged is not None:
            return f"refused as a possible cross-site request: {forged}"
        if request.method == "POST":
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != _JSON:
                # Forms and text/plain can be sent by any page without asking the browser.
                return f"actions take Content-Type: {_JSON}, not {kind or 'none'}"
        return None


Endpoint = Callable[[Request], Awaitable[Response]]


def _grouped(endpoints: list[tuple[str, str, Endpoint]]) -> dict[str, dict[str, Endpoint]]:
    grouped: dict[str, dict[str, Endpoint]] = {}
    for path, method, endpoint in endpoints:
        grouped.setdefault(path, {})[method] = endpoint
    return grouped


def _by_method(handlers: dict[str, Endpoint]) -> Endpoint:
    """One route per path, so that a 405 lists in ``Allow`` every method the path takes."""

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return endpoint


def create_dashboard(
    app: Backburner,
    authorize: Authorize | None = None,
    read_only: bool = False,
    redact: RedactRule | None = None,
) -> Starlette:
    """The dashboard of ``app`` as a Starlette app (see ``Backburner.dashboard``)."""
    guard = _Guard(authorize, read_only)
    cache = cache_for(app)
    redactor = Redactor(app.registered, lambda: list(app.registry), redact)
    api = Api(app, cache, redactor)
    pages = Pages(app, cache, redactor)
    w = guard.wrap

    def openapi(request: Request, grant: Grant) -> Any:
        return document(request.scope.get("root_path", ""))

    def plain(endpoint: Callable[[Request], Response]) -> Handler:
        def handler(request: Request, grant: Grant) -> Any:
            return endpoint(request)

        return handler

    endpoints = [
        ("/", "GET", w(pages.overview, api=False)),
        ("/jobs", "GET", w(pages.jobs, api=False)),
        ("/jobs/{id}", "GET", w(pages.job, api=False)),
        ("/recurring", "GET", w(pages.recurring, api=False)),
        ("/queues", "GET", w(pages.queues, api=False)),
        ("/servers", "GET", w(pages.servers, api=False)),
        ("/api/openapi.json", "GET", w(openapi)),
        ("/api/stats", "GET", w(api.stats)),
        ("/api/jobs", "GET", w(api.jobs)),
        ("/api/jobs", "POST", w(api.enqueue, acts=True)),
        ("/api/jobs/requeue", "POST", w(api.bulk_requeue, acts=True)),
        ("/api/jobs/delete", "POST", w(api.bulk_delete, acts=True)),
        ("/api/jobs/{id}", "GET", w(api.job)),
        ("/api/jobs/{id}/requeue", "POST", w(api.requeue_one, acts=True)),
        ("/api/jobs/{id}/delete", "POST", w(api.delete_one, acts=True)),
        ("/api/recurring", "GET", w(api.recurring)),
        ("/api/recurring/{id}/{verb}", "POST", w(api.recurring_action, acts=True)),
        ("/api/recurring/{id}", "DELETE", w(api.recurring_action, acts=True)),
        ("/api/queues", "GET", w(api.queues)),
        ("/api/queues/{name:path}/{verb}", "POST", w(api.queue_action, acts=True)),
        ("/api/servers", "GET", w(api.servers)),
        ("/health", "GET", w(plain(health_endpoint(app)))),
        ("/health/live", "GET", w(plain(live_endpoint))),
        ("/metrics", "GET", w(plain(metrics_endpoint(cache, app)))),
    ]
    routes: list[BaseRoute] = [
        Route(path, _by_method(handlers), methods=list(handlers))
        for path, handlers in _grouped(endpoints).items()
    ]
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
        path = request.scope.get("path", "")
        headers = exc.headers if isinstance(exc, HTTPException) else None  # Allow, on a 405
        return _error(status, str(detail), "/api/" in path or "/health" in path, headers)

    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("dashboard request %s %s failed", request.method, request.url.path)
        return _error(500, f"internal error: {type(exc).__name__}", True)

    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_found, Exception: failed},
    )
