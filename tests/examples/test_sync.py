"""The polling and sync example (seed 003)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest
from starlette.testclient import TestClient

from tests.support import wait_until

Load = Callable[[str], ModuleType]
LOCAL = ("127.0.0.1", 50123)


def test_the_poll_backs_off_doubling_up_to_a_minute() -> None:
    from examples.sync import next_delay

    assert [next_delay(n) for n in range(7)] == [2, 4, 8, 16, 32, 60, 60]


def test_the_poller_keeps_going_through_failures_and_recovers(
    example: Load, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync = example("sync")
    monkeypatch.setattr(sync, "POLL_EVERY", 0.01)
    sync.supplier.failure_rate = 1.0
    client = TestClient(sync.app.dashboard(), client=LOCAL)
    with caplog.at_level("INFO", logger="sync"), sync.app.start_server():
        wait_until(lambda: "poll failed" in caplog.text, what="a failed poll")
        sync.supplier.failure_rate = 0.0
        wait_until(lambda: "supplier back after" in caplog.text, timeout=20, what="recovery")
        assert set(sync.inventory) == {"apples", "pears"}
        checks = client.get("health").json()["checks"]
        assert checks["services"]["inventory-poller"]["state"] == "running"
        assert "price-sync" in checks["periodic"]
    assert sync.nightly_export.run_inline()["items"] == 2
