"""The server-rendered pages (Jinja2, everything escaped)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .._states import JobState
from .._throughput import KEPT
from . import _records
from ._api import ApiError, read_filter
from ._family import family
from ._redaction import Redactor
from ._search import SearchError, check_id
from ._snapshot import SnapshotCache
from ._throughput_view import HEIGHT, charts

if TYPE_CHECKING:
    from .._app import Backburner
    from ._access import Grant

HERE = Path(__file__).parent
STATIC = HERE / "static"

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["json"] = lambda value: json.dumps(_records.plain(value), ensure_ascii=False)
_env.filters["iso"] = _records.iso


# No inline script or style, nothing from elsewhere, and never inside another site's frame
# (a framed page could be clicked on by a page the viewer did not mean to act from).
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


class Pages:
    """One method per page; each renders a template with the data it reads."""

    def __init__(self, app: Backburner, cache: SnapshotCache, redactor: Redactor) -> None:
        self.app = app
        self.cache = cache
        self.redactor = redactor

    def _render(
        self, request: Request, grant: Grant, name: str, status: int = 200, **data: Any
    ) -> HTMLResponse:
        html = _env.get_template(name).render(
            base=_base(request), can_act=grant.can_act, user=grant.user, page=name, **data
        )
        return HTMLResponse(html, status_code=status, headers=_HEADERS)

    def overview(self, request: Request, grant: Grant) -> HTMLResponse:
        snap = self.cache.get()
        by_hour, by_day = charts(self.app, snap.taken_at)
        return self._render(
            request,
            grant,
            "overview.html",
            states=snap.by_state(),
            servers=len(snap.alive()),
            recurring=snap.recurring,
            charts=[by_hour, by_day],
            height=HEIGHT,
            kept_days=KEPT.days,
        )

    def jobs(self, request: Request, grant: Grant) -> HTMLResponse:
        params = request.query_params
        q = params.get("q", "")
        state = params.get("state") or None
        error = None
        page_jobs: list[Any] = []
        next_cursor = None
        try:
            found = read_filter({"state": state, "q": q})
            self.redactor.check(found)
            page = self.app.jobs.search(
                **found.search_kwargs(), limit=50, cursor=params.get("cursor") or None
            )
            page_jobs = [self.redactor.summary(j) for j in page.jobs]
            next_cursor = page.next
        except ApiError as failure:
            error = failure.message
        except ValueError as failure:
            error = str(failure)
        return self._render(
            request,
            grant,
            "jobs.html",
            jobs=page_jobs,
            next=next_cursor,
            q=q,
            state=state,
            states=[s.value for s in JobState],
            error=error,
            counts=self.cache.get().by_state(),
        )

    def job(self, request: Request, grant: Grant) -> HTMLResponse:
        text = request.path_params["id"]
        try:
            found = self.app.jobs.get(check_id(text, "id"))
        except SearchError:
            found = None
        if found is None:
            return self._render(request, grant, "missing.html", status=404, what=f"job {text}")
        return self._render(
            request, grant, "job.html", job=self.redactor.job(found), family=family(self.app, found)
        )

    def recurring(self, request: Request, grant: Grant) -> HTMLResponse:
        return self._render(request, grant, "recurring.html", items=self.app.recurring.list())

    def queues(self, request: Request, grant: Grant) -> HTMLResponse:
        return self._render(request, grant, "queues.html", queues=self.cache.get().queues)

    def servers(self, request: Request, grant: Grant) -> HTMLResponse:
        snap = self.cache.get()
        return self._render(
            request,
            grant,
            "servers.html",
            servers=[(s, snap.stale(s)) for s in snap.servers],
        )
