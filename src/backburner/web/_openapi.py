"""The OpenAPI document of the JSON API (``api/openapi.json``), written by hand."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}
_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_NTIME = {"type": ["string", "null"], "format": "date-time"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "Malformed request",
        403: "Refused: no access, read-only, or a possible cross-site request",
        404: "Unknown id or action",
        409: "The job is not in a state that allows it",
    }
    return {str(code): _json(_ERROR, words[code]) for code in (403, *codes)}


def _op(summary: str, ok: dict[str, Any], *codes: int, **more: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {"200": _json(ok), **_errors(*codes)}, **more}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _STR}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_STATES = ["enqueued", "scheduled", "awaiting", "processing", "succeeded", "failed", "deleted"]

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "description": "What is wrong"}},
    },
    "JobSummary": {
        "type": "object",
        "required": ["id", "name", "queue", "state", "attempt", "created_at"],
        "properties": {
            "id": _STR,
            "name": _STR,
            "queue": _STR,
            "state": {"type": "string", "enum": _STATES},
            "attempt": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "run_at": _NTIME,
            "started_at": _NTIME,
            "finished_at": _NTIME,
            "args": {"type": "array"},
            "kwargs": {"type": "object"},
            "error_type": _NSTR,
            "error_message": _NSTR,
            "parent_id": _NSTR,
            "recurring_id": _NSTR,
            "server_id": _NSTR,
        },
    },
    "Job": {
        "allOf": [
            {"$ref": "#/components/schemas/JobSummary"},
            {
                "type": "object",
                "properties": {
                    "result": {},
                    "error": {
                        "type": ["object", "null"],
                        "properties": {"type": _STR, "message": _STR, "traceback": _STR},
                    },
                    "history": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "state": _STR,
                                "at": {"type": "string", "format": "date-time"},
                                "reason": _NSTR,
                            },
                        },
                    },
                    "continue_on": _NSTR,
                    "parent": {
                        "type": ["object", "null"],
                        "description": "The parent; exists is false once it is pruned",
                        "properties": {
                            "id": _STR,
                            "exists": {"type": "boolean"},
                            "name": _NSTR,
                            "state": _NSTR,
                        },
                    },
                    "continuations": {
                        "type": "array",
                        "description": "The jobs continuing this one, oldest first (100 at most)",
                        "items": {
                            "type": "object",
                            "required": ["id", "name", "queue", "state"],
                            "properties": {
                                "id": _STR,
                                "name": _STR,
                                "queue": _STR,
                                "state": {"type": "string", "enum": _STATES},
                                "created_at": _NTIME,
                                "finished_at": _NTIME,
                            },
                        },
                    },
                    "more_continuations": {"type": "boolean"},
                },
            },
        ]
    },
    "Filter": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "state": {"oneOf": [_STR, {"type": "array", "items": _STR}]},
            "queue": {"oneOf": [_STR, {"type": "array", "items": _STR}]},
            "name": {"oneOf": [_STR, {"type": "array", "items": _STR}]},
            "q": {"type": "string", "description": "The search box's text"},
        },
    },
    "Recurring": {
        "type": "object",
        "properties": {
            "id": _STR,
            "name": _STR,
            "cron": _STR,
            "description": _STR,
            "timezone": _STR,
            "queue": _STR,
            "args": {"type": "array"},
            "kwargs": {"type": "object"},
            "misfire": _STR,
            "paused": {"type": "boolean"},
            "next_run": _NTIME,
            "last_run": _NTIME,
            "last_job_id": _NSTR,
            "created_at": _NTIME,
        },
    },
    "Queue": {
        "type": "object",
        "properties": {
            "name": _STR,
            "enqueued": {"type": "integer"},
            "processing": {"type": "integer"},
            "scheduled": {"type": "integer"},
            "exact": {"type": "boolean"},
            "oldest_waiting_seconds": {"type": ["number", "null"]},
            "paused": {"type": "boolean", "description": "Servers claim none of its jobs"},
            "paused_at": _NTIME,
            "pause_reason": {
                **_NSTR,
                "description": "Who paused it: 'paused from the dashboard by ann'",
            },
        },
    },
    "Server": {
        "type": "object",
        "required": [
            "id",
            "hostname",
            "pid",
            "queues",
            "workers",
            "busy",
            "started_at",
            "heartbeat_at",
            "stale",
            "hosting",
        ],
        "properties": {
            "id": _STR,
            "hostname": _STR,
            "pid": {"type": "integer"},
            "queues": {"type": "array", "items": _STR},
            "workers": {"type": "integer"},
            "busy": {"type": "integer", "description": "Workers running a job"},
            "started_at": _NTIME,
            "heartbeat_at": _NTIME,
            "stale": {"type": "boolean"},
            "hosting": {"$ref": "#/components/schemas/Hosting"},
        },
    },
    "Hosting": {
        "type": "object",
        "description": "What the server ran besides its jobs, as its last heartbeat told",
        "required": ["services", "periodic", "task_queues", "consumers", "leader"],
        "properties": {
            "services": {"type": "array", "items": {"$ref": "#/components/schemas/HostedService"}},
            "periodic": {"type": "array", "items": {"$ref": "#/components/schemas/HostedPeriodic"}},
            "task_queues": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/HostedTaskQueue"},
            },
            "consumers": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/HostedConsumer"},
            },
            "leader": {"type": "boolean", "description": "It held the leader lease"},
        },
    },
    "HostedService": {
        "type": "object",
        "required": ["name", "state", "leader_only", "restarts", "last_error"],
        "properties": {
            "name": _STR,
            "state": {"type": "string", "description": "running, failing (backing off), stopped"},
            "leader_only": {"type": "boolean"},
            "restarts": {"type": "integer"},
            "last_error": _NSTR,
        },
    },
    "HostedPeriodic": {
        "type": "object",
        "required": ["name", "schedule", "leader_only", "last_run", "next_run", "last_outcome"],
        "properties": {
            "name": _STR,
            "schedule": {"type": "string", "description": "In words"},
            "leader_only": {"type": "boolean"},
            "last_run": _NTIME,
            "next_run": _NTIME,
            "last_outcome": {"type": ["string", "null"], "enum": ["succeeded", "failed", None]},
            "last_error": _NSTR,
        },
    },
    "HostedTaskQueue": {
        "type": "object",
        "required": ["name", "size", "capacity", "busy", "concurrency"],
        "properties": {
            "name": _STR,
            "size": {"type": "integer", "description": "Tasks waiting"},
            "capacity": {"type": "integer"},
            "busy": {"type": "integer", "description": "Tasks running"},
            "concurrency": {"type": "integer"},
            "processed": {"type": "integer"},
            "failed": {"type": "integer"},
            "dropped": {"type": "integer"},
        },
    },
    "HostedConsumer": {
        "type": "object",
        "required": ["queue", "connected", "in_flight", "processed", "failed", "dead_lettered"],
        "properties": {
            "queue": _STR,
            "connected": {"type": "boolean"},
            "in_flight": {"type": "integer"},
            "processed": {"type": "integer"},
            "failed": {"type": "integer"},
            "dead_lettered": {"type": "integer"},
            "last_error": _NSTR,
        },
    },
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


def _bulk(verb: str) -> dict[str, Any]:
    return _op(
        f"{verb.title()} up to 1,000 jobs given by ids or matching a filter",
        _obj(
            **{
                f"{verb}d" if verb.endswith("e") else f"{verb}ed": {"type": "integer"},
                "limit": {"type": "integer"},
                "more": {"type": "boolean"},
            }
        ),
        400,
        requestBody=_body(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "ids": {"type": "array", "items": _STR, "minItems": 1, "maxItems": 1000},
                    "filter": _ref("Filter"),
                },
            }
        ),
    )


def _paths() -> dict[str, Any]:
    job_id = [_path_param("id")]
    return {
        "/api/stats": {
            "get": _op(
                "Jobs by state, live servers, recurring jobs",
                _obj(
                    states={"type": "object", "additionalProperties": {"type": "integer"}},
                    exact={"type": "object", "additionalProperties": {"type": "boolean"}},
                    servers={"type": "integer"},
                    recurring={"type": "integer"},
                    at={"type": "string", "format": "date-time"},
                ),
            )
        },
        "/api/jobs": {
            "get": _op(
                "Jobs newest first, a page at a time",
                _obj(jobs={"type": "array", "items": _ref("JobSummary")}, next=_NSTR),
                400,
                parameters=[
                    _query("state", {"type": "string", "enum": _STATES}, "A state"),
                    _query("queue", _STR, "A queue"),
                    _query("name", _STR, "A job name; a trailing * makes it a prefix"),
                    _query("q", _STR, "Search: queue:x name:x state:x id:N arg:V args.key:V"),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": 1000},
                        "Jobs per page (50)",
                    ),
                    _query("cursor", _STR, "The 'next' of the page before"),
                ],
            ),
            "post": {
                "summary": "Enqueue a registered job by name",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["name"],
                        "additionalProperties": False,
                        "properties": {
                            "name": _STR,
                            "args": {"type": "array"},
                            "kwargs": {"type": "object"},
                            "queue": _STR,
                            "delay": {"type": "number", "minimum": 0},
                            "at": {"type": "string", "format": "date-time"},
                        },
                    }
                ),
                "responses": {"201": _json(_obj(id=_STR), "Enqueued"), **_errors(400, 404)},
            },
        },
        "/api/jobs/requeue": {"post": _bulk("requeue")},
        "/api/jobs/delete": {"post": _bulk("delete")},
        "/api/jobs/{id}": {
            "get": _op(
                "One job, with history, result and traceback", _ref("Job"), 404, parameters=job_id
            )
        },
        "/api/jobs/{id}/requeue": {
            "post": _op(
                "Run a finished or scheduled job again now",
                _obj(id=_STR, requeued={"type": "boolean"}),
                404,
                409,
                parameters=job_id,
            )
        },
        "/api/jobs/{id}/delete": {
            "post": _op(
                "Delete a job (a running one is asked to stop)",
                _obj(id=_STR, deleted={"type": "boolean"}),
                404,
                409,
                parameters=job_id,
            )
        },
        "/api/recurring": {
            "get": _op(
                "Recurring jobs", _obj(recurring={"type": "array", "items": _ref("Recurring")})
            )
        },
        **{
            f"/api/recurring/{{id}}/{verb}": {
                "post": _op(
                    f"{verb.title()} a recurring job",
                    {"type": "object"},
                    404,
                    parameters=[_path_param("id")],
                )
            }
            for verb in ("trigger", "pause", "resume")
        },
        "/api/recurring/{id}": {
            "delete": _op(
                "Remove a recurring job (jobs it enqueued stay)",
                {"type": "object"},
                404,
                parameters=[_path_param("id")],
            )
        },
        "/api/queues": {
            "get": _op(
                "Queues with their waiting jobs",
                _obj(queues={"type": "array", "items": _ref("Queue")}),
            )
        },
        **{
            f"/api/queues/{{name}}/{verb}": {
                "post": _op(
                    summary,
                    _obj(name=_STR, paused={"type": "boolean"}, changed=changed),
                    400,
                    404,
                    parameters=[_path_param("name")],
                )
            }
            for verb, summary, changed in (
                (
                    "pause",
                    "Pause a queue: servers claim none of its jobs until it is resumed "
                    "(it still takes new ones; a queue with no jobs yet can be paused)",
                    {"type": "boolean", "description": "False when it was paused already"},
                ),
                (
                    "resume",
                    "Resume a paused queue: servers claim its jobs again",
                    {"type": "boolean", "description": "False when it was not paused"},
                ),
            )
        },
        "/api/servers": {
            "get": _op(
                "Servers, stale ones marked",
                _obj(servers={"type": "array", "items": _ref("Server")}),
            )
        },
    }


def document(root_path: str) -> dict[str, Any]:
    """The document, its server URL being where the dashboard is mounted."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Backburner dashboard API", "version": "1"},
        "servers": [{"url": root_path or "/"}],
        "paths": _paths(),
        "components": {"schemas": _SCHEMAS},
    }
