"""``app.lifespan()``: a FastAPI or Starlette app runs a server, the dashboard and the
hosting with it, and stops them with it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from backburner import Backburner, JobState
from tests.support import wait_until

LOCAL = ("127.0.0.1", 50123)


def _app(tmp_path: Path) -> tuple[Backburner, Any, Any, list[int]]:
    app = Backburner(f"sqlite:///{tmp_path / 'jobs.db'}")
    processed: list[int] = []

    @app.job
    def send_receipt(order_id: int) -> str:
        return f"receipt {order_id}"

    orders = app.task_queue("orders", capacity=10)

    async def process_order(order_id: int) -> None:
        processed.append(order_id)

    return app, send_receipt, (orders, process_order), processed


def _order_endpoint(api: FastAPI, orders: Any, process_order: Any, send_receipt: Any) -> None:
    """``POST /orders/{id}``: the order onto the task queue, a receipt job into storage."""

    @api.post("/orders/{order_id}")
    async def create_order(order_id: int) -> dict[str, str]:
        await orders.put(process_order, order_id)
        return {"receipt_job": await send_receipt.aenqueue(order_id)}


def test_a_fastapi_app_runs_jobs_task_queues_and_the_dashboard_while_it_runs(
    tmp_path: Path,
) -> None:
    app, send_receipt, (orders, process_order), processed = _app(tmp_path)
    api = FastAPI(lifespan=app.lifespan(dashboard="/jobs"))

    _order_endpoint(api, orders, process_order, send_receipt)

    with TestClient(api, client=LOCAL) as client:
        [server] = app.servers()
        assert server.workers == 10
        job_id = client.post("/orders/7").json()["receipt_job"]
        assert app.jobs.wait(job_id, timeout=10).result == "receipt 7"
        wait_until(lambda: processed == [7], what="the order processed on the task queue")
        wait_until(  # the dashboard's counts are at most a second old
            lambda: client.get("/jobs/api/stats").json()["states"]["succeeded"] == 1,
            what="the dashboard mounted at /jobs counting the job",
        )
        health = client.get("/jobs/health").json()
        assert health["checks"]["task_queues"]["orders"]["running"] is True
        assert health["checks"]["servers"]["count"] == 1
    assert app.servers() == []  # stopped with the web app, and removed itself
    assert not orders.status().running


def test_the_lifespan_of_the_users_own_runs_inside_and_hands_on_its_state(
    tmp_path: Path,
) -> None:
    app, *_ = _app(tmp_path)
    seen: list[str] = []

    @contextlib.asynccontextmanager
    async def mine(web: Starlette) -> AsyncIterator[dict[str, Any]]:
        seen.append(f"start, servers: {len(app.servers())}")
        yield {"greeting": "hello"}
        seen.append(f"stop, servers: {len(app.servers())}")

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"greeting": request.state.greeting})

    web = Starlette(routes=[Route("/", hello)], lifespan=app.lifespan(mine))
    with TestClient(web, client=LOCAL) as client:
        assert client.get("/").json() == {"greeting": "hello"}
    assert seen == ["start, servers: 1", "stop, servers: 1"]  # inside the server's run


def test_with_run_jobs_off_the_web_process_runs_only_its_hosting(tmp_path: Path) -> None:
    app, send_receipt, (orders, process_order), processed = _app(tmp_path)
    api = FastAPI(lifespan=app.lifespan(run_jobs=False))

    _order_endpoint(api, orders, process_order, send_receipt)

    with TestClient(api, client=LOCAL) as client:
        [server] = app.servers()
        assert server.workers == 0
        job_id = client.post("/orders/8").json()["receipt_job"]
        wait_until(lambda: processed == [8], what="the task queue running in the web process")
        time.sleep(0.3)
        job = app.jobs.get(job_id)
        assert job is not None
        assert job.state is JobState.ENQUEUED  # left for `backburner server`
    with app.start_server():
        assert app.jobs.wait(job_id, timeout=10).state is JobState.SUCCEEDED


def test_bad_lifespan_arguments_are_refused_when_given() -> None:
    app = Backburner("memory://")
    with pytest.raises(ValueError, match="a path starts with '/'"):
        app.lifespan(dashboard="jobs")
    with pytest.raises(TypeError, match="give your own lifespan function"):
        app.lifespan("not a lifespan")  # type: ignore[arg-type]
