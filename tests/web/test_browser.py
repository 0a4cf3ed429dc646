"""The pages in a real headless browser (Debian's chromium driven by Playwright).

Set ``BACKBURNER_SCREENSHOTS=docs/screenshots`` to refresh the documentation's screenshots.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from backburner import Backburner, JobState, Retry
from tests.support import wait_until

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian's chromium (scripts/test installs it)"
    ),
]
playwright_sync = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Backburner, str]]:
    app = Backburner(f"sqlite:///{tmp_path / 'jobs.db'}")
    runs: list[int] = []

    @app.job(name="emails.send", queue="emails")
    def send(to: str, user_id: int = 0) -> str:
        return f"sent to {to}"

    @app.job(name="billing.charge", retry=Retry(attempts=0))
    def charge(order: int) -> str:
        runs.append(order)
        if len(runs) == 1:
            raise ConnectionError("card processor timed out")
        return f"charged {order}"

    @app.job(name="billing.refund", retry=Retry(attempts=0))
    def refund(order: int) -> None:
        raise ValueError(f"order {order} was never charged")

    app.recurring.add_or_update("nightly-report", "emails.send", "0 3 * * *", args=["ops@x"])

    @app.service(name="inventory-sync")
    async def inventory_sync(stop: asyncio.Event) -> None:
        await stop.wait()

    @app.periodic(every=dt.timedelta(minutes=30), name="cache-cleanup")
    def cache_cleanup() -> None: ...

    app.task_queue("thumbnails", capacity=50, concurrency=2)
    port = _free_port()
    web = uvicorn.Server(
        uvicorn.Config(app.dashboard(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=web.run, daemon=True)
    with app.start_server(queues=["emails", "default"], server_timeout=1.5):
        thread.start()
        wait_until(lambda: web.started, what="the dashboard to listen")
        yield app, f"http://127.0.0.1:{port}"
        web.should_exit = True
        thread.join(10)
    app.close()


def _requeued(app: Backburner, job_id: str) -> bool:
    job = app.jobs.get(job_id)
    return job is not None and "requeued from the dashboard" in [c.reason for c in job.history]


def _state(app: Backburner, job_id: str) -> JobState:
    job = app.jobs.get(job_id)
    assert job is not None
    return job.state


def test_every_page_and_the_main_actions(served: tuple[Backburner, str], tmp_path: Path) -> None:
    app, base = served
    failed = app.enqueue("billing.charge", 17)
    app.jobs.wait(failed, timeout=10)
    assert _state(app, failed) is JobState.FAILED
    for n in range(3):
        app.jobs.wait(app.enqueue("emails.send", f"user{n}@example.com", user_id=n), timeout=10)
    app.schedule("emails.send", dt.timedelta(hours=2), "later@example.com")
    shots = Path(os.environ.get("BACKBURNER_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    with playwright_sync.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for scheme in ("light", "dark"):
                page = browser.new_page(
                    color_scheme=scheme, viewport={"width": 1200, "height": 800}
                )
                page.on("dialog", lambda dialog: dialog.accept())
                for name, path in (
                    ("overview", "/"),
                    ("jobs", "/jobs"),
                    ("job", f"/jobs/{failed}"),
                    ("recurring", "/recurring"),
                    ("queues", "/queues"),
                    ("servers", "/servers"),
                ):
                    answer = page.goto(base + path)
                    assert answer is not None
                    assert answer.status == 200, path
                    page.wait_for_timeout(300 if name != "overview" else 2500)
                    page.screenshot(path=str(shots / f"{name}-{scheme}.png"), full_page=True)
                page.close()

            page = browser.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            # A count changes without a reload.
            page.goto(base + "/")
            tile = page.locator('[data-count="succeeded"]')
            before = tile.inner_text()
            app.jobs.wait(app.enqueue("emails.send", "late@example.com"), timeout=10)
            page.wait_for_function(
                "before => document.querySelector('[data-count=\"succeeded\"]').textContent"
                " !== before",
                arg=before,
                timeout=10_000,
            )
            # Retry a failed job and see it run.
            page.goto(f"{base}/jobs/{failed}")
            page.get_by_role("button", name="Retry").click()
            wait_until(lambda: _state(app, failed) is JobState.SUCCEEDED, what="the retry to run")
            page.wait_for_selector("h1 .badge:text('succeeded')", timeout=10_000)
            job = app.jobs.get(failed)
            assert job is not None
            assert "requeued from the dashboard" in [c.reason for c in job.history]
            # Trigger a recurring job.
            page.goto(base + "/recurring")
            page.get_by_role("button", name="Trigger now").click()

            def triggered() -> str | None:
                found = app.recurring.get("nightly-report")
                return None if found is None else found.last_job_id

            wait_until(triggered, what="the trigger")
            # Retry every job matching the filter, after a question that says how many.
            refunds = [app.enqueue("billing.refund", n) for n in (1, 2)]
            for refund_id in refunds:
                app.jobs.wait(refund_id, timeout=10)
            page = browser.new_page()
            page.goto(base + "/jobs?state=failed&q=name:billing.*")
            # The question comes after the page counts the jobs: answered by a handler that
            # is there before the click, as a dialog that no handler takes is dismissed.
            asked: list[str] = []

            def answer(dialog: Any) -> None:
                asked.append(dialog.message)
                dialog.accept()

            page.once("dialog", answer)
            page.get_by_role("button", name="Retry all matching").click()
            page.wait_for_selector("#message:text('Retried 2 jobs')", timeout=10_000)
            assert asked == ["Retry 2 failed jobs matching \u201cname:billing.*\u201d?"]
            wait_until(
                lambda: all(_requeued(app, refund_id) for refund_id in refunds),
                what="the bulk retry",
            )
        finally:
            browser.close()


def test_the_servers_page_shows_busy_workers_and_hosted_work_live_and_on_a_phone(
    served: tuple[Backburner, str],
) -> None:
    app, base = served
    release = threading.Event()

    @app.job(name="reports.build", queue="default")
    def build() -> None:
        release.wait(20)

    [server] = app.servers()
    held = app.enqueue("reports.build")
    wait_until(lambda: _state(app, held) is JobState.PROCESSING, what="the job to start")
    busy = f"1/{server.workers} busy"
    with playwright_sync.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for scheme in ("light", "dark"):
                page = browser.new_page(color_scheme=scheme, viewport={"width": 390, "height": 844})
                page.goto(base + "/servers")
                row = page.locator(f'tr.server[data-server="{server.id}"] td.workers')
                # The first heartbeat after the claim may be a moment away: the page is live.
                page.wait_for_function(
                    "([id, text]) => document.querySelector("
                    '`tr.server[data-server="${id}"] td.workers`).textContent.trim() === text',
                    arg=[server.id, busy],
                    timeout=10_000,
                )
                hosted = page.locator(f'tr.hosting[data-hosting="{server.id}"]')
                service = hosted.locator("li.service", has_text="inventory-sync")
                assert service.is_visible()
                assert "running" in service.inner_text()
                assert "every 30 minutes" in hosted.locator("li.periodic").inner_text()
                assert "0/50 waiting" in hosted.locator("li.task-queue").inner_text()
                # One column on a phone: nothing wider than the screen.
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= 390, width
                assert row.is_visible()
                page.close()
            page = browser.new_page()
            page.goto(base + "/servers")
            release.set()
            app.jobs.wait(held, timeout=10)
            page.wait_for_selector(
                f'tr.server[data-server="{server.id}"] td.workers:text("0/{server.workers} busy")',
                timeout=10_000,
            )
        finally:
            release.set()
            browser.close()


def test_pause_and_resume_a_queue_on_the_queues_page(served: tuple[Backburner, str]) -> None:
    app, base = served
    app.jobs.wait(app.enqueue("emails.send", "first@example.com"), timeout=10)
    with playwright_sync.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            asked: list[str] = []

            def accept(dialog: Any) -> None:
                asked.append(dialog.message)
                dialog.accept()

            page.on("dialog", accept)
            page.goto(base + "/queues")
            row = page.locator('tr[data-queue="emails"]')
            assert row.locator("td").nth(5).inner_text() == "running"
            row.get_by_role("button", name="Pause").click()
            page.wait_for_selector(
                'tr[data-queue="emails"].paused .badge:text("paused")', timeout=10_000
            )
            assert asked == [
                "Pause queue emails? Servers will take none of its jobs until it is resumed."
            ]
            [pause] = app.queues.paused()
            assert (pause.queue, pause.reason) == ("emails", "paused from the dashboard")

            # The page's server takes no job of the paused queue, and the page says it waits.
            held = app.enqueue("emails.send", "held@example.com")
            page.wait_for_timeout(1500)
            assert _state(app, held) is JobState.ENQUEUED
            page.reload()
            assert row.locator("td").nth(1).inner_text() == "1"

            row.get_by_role("button", name="Resume").click()
            page.wait_for_selector('tr[data-queue="emails"]:not(.paused)', timeout=10_000)
            wait_until(lambda: _state(app, held) is JobState.SUCCEEDED, what="the held job to run")
            assert app.queues.paused() == []
            assert row.get_by_role("button", name="Pause").is_visible()
        finally:
            browser.close()
