"""The JSON API under ``api/``: read, enqueue and act on jobs, recurring jobs and queues."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import math
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from . import _records
from ._family import family
from ._redaction import Redactor
from ._search import Filter, SearchError, add_state, check_id, parse
from ._snapshot import SnapshotCache

if TYPE_CHECKING:
    from .._app import Backburner
    from ._access import Grant

MOST_PER_BULK = 1000
"""Jobs one bulk request changes at most (call again for more)."""


class ApiError(Exception):
    """A request the API refuses: its status code and what is wrong, in words."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def reason(verb: str, grant: Grant) -> str:
    """The history reason of a dashboard action: ``requeued from the dashboard by ann``."""
    by = f" by {grant.user}" if grant.user else ""
    return f"{verb} from the dashboard{by}"


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (the guard has read the body before the handler runs)."""
    raw: bytes = request.state.body
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise ApiError(400, f"the body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def _strings(body: dict[str, Any], key: str) -> list[str]:
    found = body.get(key)
    if found is None:
        return []
    values = [found] if isinstance(found, str) else found
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise ApiError(400, f"{key!r} takes a string or a list of strings")
    return values


def read_filter(params: dict[str, Any]) -> Filter:
    """A filter from query parameters or a bulk body: state, queue, name, q (search box)."""
    found = Filter()
    try:
        for text in _strings(params, "state"):
            add_state(found, text, "state")
        found.queues += _strings(params, "queue")
        found.names += _strings(params, "name")
        q = params.get("q")
        if q is not None:
            if not isinstance(q, str):
                raise ApiError(400, "'q' takes the search box's text")
            parse(q, found)
    except SearchError as error:
        raise ApiError(400, str(error)) from None
    return found


def _limit(text: str | None) -> int:
    if text is None:
        return 50
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise ApiError(400, f"limit takes a whole number from 1 to 1000, not {text!r:.20}")
    return int(text)


class Api:
    """The endpoints; each takes the request and the grant the guard gave it."""

    def __init__(self, app: Backburner, cache: SnapshotCache, redactor: Redactor) -> None:
        self.app = app
        self.cache = cache
        self.redactor = redactor

    def _filter(self, params: dict[str, Any]) -> Filter:
        found = read_filter(params)
        try:
            self.redactor.check(found)
        except SearchError as error:
            raise ApiError(400, str(error)) from None
        return found

    # --- reading ------------------------------------------------------------------------

    def stats(self, request: Request, grant: Grant) -> Any:
        snap = self.cache.get()
        states = snap.by_state()
        return {
            "states": {state: cell.count for state, cell in states.items()},
            "exact": {state: cell.exact for state, cell in states.items()},
            "servers": len(snap.alive()),
            "recurring": snap.recurring,
            "at": _records.iso(snap.taken_at),
        }

    def jobs(self, request: Request, grant: Grant) -> Any:
        params = request.query_params
        unknown = set(params) - {"state", "queue", "name", "q", "limit", "cursor"}
        if unknown:
            raise ApiError(400, f"unknown parameter {sorted(unknown)[0]!r:.40}")
        found = self._filter(
            {
                "state": params.getlist("state") or None,
                "queue": params.getlist("queue") or None,
                "name": params.getlist("name") or None,
                "q": params.get("q"),
            }
        )
        try:
            page = self.app.jobs.search(
                **found.search_kwargs(),
                limit=_limit(params.get("limit")),
                cursor=params.get("cursor"),
            )
        except (ValueError, TypeError) as error:
            raise ApiError(400, str(error)) from None
        return {
            "jobs": [_records.summary(self.redactor.summary(j)) for j in page.jobs],
            "next": page.next,
        }

    def job(self, request: Request, grant: Grant) -> Any:
        found = self._job(request.path_params["id"])
        return {
            **_records.job(self.redactor.job(found)),
            **_records.relatives(family(self.app, found)),
        }

    def _job(self, text: str) -> Any:
        try:
            job_id = check_id(text, "id")
        except SearchError:
            raise ApiError(404, f"no job with id {text!r:.40}") from None
        found = self.app.jobs.get(job_id)
        if found is None:
            raise ApiError(404, f"no job with id {job_id}")
        return found

    def recurring(self, request: Request, grant: Grant) -> Any:
        return {
            "recurring": [
                _records.recurring(self.redactor.summary(r)) for r in self.app.recurring.list()
            ]
        }

    def queues(self, request: Request, grant: Grant) -> Any:
        return {"queues": [q.as_dict() for q in self.cache.get().queues]}

    def servers(self, request: Request, grant: Grant) -> Any:
        snap = self.cache.get()
        return {"servers": [_records.server(s, snap.stale(s)) for s in snap.servers]}

    # --- acting -------------------------------------------------------------------------

    def enqueue(self, request: Request, grant: Grant) -> Any:
        body = json_body(request)
        unknown = set(body) - {"name", "args", "kwargs", "queue", "delay", "at"}
        if unknown:
            raise ApiError(400, f"unknown field {sorted(unknown)[0]!r:.40}")
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise ApiError(400, "'name' takes the registered name of a job")
        function = self.app.registered(name)
        if function is None:
            raise ApiError(404, f"no job is registered as {name!r:.80}")
        args = body.get("args", [])
        kwargs = body.get("kwargs", {})
        if not isinstance(args, list):
            raise ApiError(400, "'args' takes a list of argument values")
        if not isinstance(kwargs, dict):
            raise ApiError(400, "'kwargs' takes an object of keyword arguments")
        queue = body.get("queue")
        if queue is not None and not isinstance(queue, str):
            raise ApiError(400, "'queue' takes a queue name")
        when = _when(body)
        try:
            inspect.signature(function.func).bind(*args, **kwargs)
        except TypeError as error:
            raise ApiError(400, f"arguments do not fit job {name}: {error}") from None
        except ValueError:
            pass  # no signature to check against (a builtin)
        try:
            target = function.with_options(queue=queue) if queue is not None else function
            job_id = (
                target.enqueue(*args, **kwargs)
                if when is None
                else target.schedule(when, *args, **kwargs)
            )
        except (ValueError, TypeError) as error:
            raise ApiError(400, str(error)) from None
        return JSONResponse({"id": str(job_id)}, status_code=201)

    def requeue_one(self, request: Request, grant: Grant) -> Any:
        found = self._job(request.path_params["id"])
        if not self.app.jobs.requeue(found.id, reason=reason("requeued", grant)):
            raise ApiError(
                409,
                f"job {found.id} is {found.state.value}: only finished or scheduled jobs "
                "can be requeued",
            )
        return {"id": str(found.id), "requeued": True}

    def delete_one(self, request: Request, grant: Grant) -> Any:
        found = self._job(request.path_params["id"])
        if not self.app.jobs.delete(found.id, reason=reason("deleted", grant)):
            raise ApiError(409, f"job {found.id} is already deleted")
        return {"id": str(found.id), "deleted": True}

    def bulk_requeue(self, request: Request, grant: Grant) -> Any:
        return self._bulk("requeue", request, grant)

    def bulk_delete(self, request: Request, grant: Grant) -> Any:
        return self._bulk("delete", request, grant)

    def _bulk(self, verb: str, request: Request, grant: Grant) -> Any:
        body = json_body(request)
        unknown = set(body) - {"ids", "filter"}
        if unknown:
            raise ApiError(400, f"unknown field {sorted(unknown)[0]!r:.40}")
        if ("ids" in body) == ("filter" in body):
            raise ApiError(400, "give 'ids' (a list of job ids) or 'filter', one of them")
        if "ids" in body:
            ids = body["ids"]
            if not isinstance(ids, list) or not ids or len(ids) > MOST_PER_BULK:
                raise ApiError(400, f"'ids' takes a list of 1 to {MOST_PER_BULK} job ids")
            try:
                found = Filter(ids=[check_id(i, "ids") for i in ids])
            except SearchError as error:
                raise ApiError(400, str(error)) from None
        else:
            given = body["filter"]
            if not isinstance(given, dict):
                raise ApiError(400, "'filter' takes an object: state, queue, name, q")
            unknown = set(given) - {"state", "queue", "name", "q"}
            if unknown:
                raise ApiError(400, f"unknown filter {sorted(unknown)[0]!r:.40}")
            found = self._filter(given)
            if found.empty:
                raise ApiError(400, "an empty filter would take every job: name one")
        act = self.app.jobs.requeue_many if verb == "requeue" else self.app.jobs.delete_many
        done = act(
            **found.search_kwargs(),
            limit=MOST_PER_BULK,
            reason=reason("requeued" if verb == "requeue" else "deleted", grant),
        )
        key = "requeued" if verb == "requeue" else "deleted"
        return {key: done, "limit": MOST_PER_BULK, "more": done == MOST_PER_BULK}

    def recurring_action(self, request: Request, grant: Grant) -> Any:
        recurring_id = request.path_params["id"]
        verb = request.path_params.get("verb", "remove")
        if verb not in ("trigger", "pause", "resume", "remove"):
            raise ApiError(404, f"no action {verb!r:.40}: trigger, pause or resume")
        manager = self.app.recurring
        if manager.get(recurring_id) is None:
            raise ApiError(404, f"no recurring job with id {recurring_id!r:.80}")
        if verb == "trigger":
            job_id = manager.trigger(
                recurring_id, reason=reason(f"recurring {recurring_id} triggered", grant)
            )
            return {"id": recurring_id, "job_id": str(job_id)}
        done = {"pause": manager.pause, "resume": manager.resume, "remove": manager.remove}[verb]
        done(recurring_id)
        return {
            "id": recurring_id,
            {"pause": "paused", "resume": "resumed"}.get(verb, "removed"): True,
        }

    def queue_action(self, request: Request, grant: Grant) -> Any:
        name = request.path_params["name"]
        verb = request.path_params["verb"]
        if verb not in ("pause", "resume"):
            raise ApiError(404, f"no action {verb!r:.40}: pause or resume")
        json_body(request)  # a malformed body is refused, as for every action
        queues = self.app.queues
        if verb == "pause":
            # A queue that holds no job yet can be paused: pausing names the queue.
            changed = queues.pause(name, reason=reason("paused", grant))
        else:
            changed = queues.resume(name, reason=reason("resumed", grant))
        self.cache.forget()  # the page reloaded next shows the pause at once
        return {"name": name, "paused": verb == "pause", "changed": changed}


def _when(body: dict[str, Any]) -> float | dt.datetime | None:
    delay, at = body.get("delay"), body.get("at")
    if delay is not None and at is not None:
        raise ApiError(400, "give 'delay' or 'at', not both")
    if delay is not None:
        if (
            isinstance(delay, bool)
            or not isinstance(delay, int | float)
            or not math.isfinite(delay)
            or not 0 <= delay <= 10 * 365 * 86400
        ):
            raise ApiError(400, "'delay' takes seconds, a number from 0 up to ten years")
        return float(delay)
    if at is not None:
        if not isinstance(at, str):
            raise ApiError(400, "'at' takes an ISO 8601 time with its offset")
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError:
            raise ApiError(400, f"'at' is not an ISO 8601 time: {at!r:.40}") from None
        if when.tzinfo is None:
            raise ApiError(400, "'at' needs an offset or Z (e.g. 2026-01-01T09:00:00Z)")
        return when
    return None
