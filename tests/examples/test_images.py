"""The image-analysis example (seed 000)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from backburner import JobState

Load = Callable[[str], ModuleType]


def test_an_upload_is_analysed_and_then_its_user_notified(example: Load) -> None:
    images = example("images")
    analysis = images.upload("ann", 1)
    finished = images.app.drain()
    assert finished[0] == analysis
    assert len(finished) == 2  # the analysis, then the notification it released
    assert images.images == {1: "analysed"}
    assert images.notified == [("ann", 1)]
    notification = images.app.jobs.get(finished[1])
    assert notification.parent_id == analysis
    assert notification.state is JobState.SUCCEEDED


def test_the_hourly_sweep_enqueues_the_images_left_pending(example: Load) -> None:
    images = example("images")
    images.upload("bob", 2, enqueue=False)
    images.upload("bob", 3)
    images.app.drain()
    assert images.images == {2: "pending", 3: "analysed"}
    [job_id] = images.sweep_pending.run_inline()
    assert images.app.drain() == [job_id]
    assert images.images == {2: "analysed", 3: "analysed"}
    result = images.app.jobs.get(job_id).result
    assert result["image"] == 2
    assert images.analyse.run_inline(9)["image"] == 9  # an async job, run inline
