"""What a server tells of itself with each heartbeat, besides its queues and workers.

A snapshot taken on the heartbeat's thread: its services, periodic functions, task
queues and RabbitMQ consumers (``Hosting``), stored with the server's row so that a
dashboard in another process sees it. Kept small, as every heartbeat writes it: error
texts are cut to ``ERROR_CHARS``, and the server's own upkeep (heartbeat, rescue...) is
left out.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from .._records import HostedConsumer, HostedPeriodic, HostedService, HostedTaskQueue, Hosting

if TYPE_CHECKING:
    from ._periodic import PeriodicStatus
    from ._services import Service, ServiceStatus
    from ._taskqueue import TaskQueueStatus

_OUTCOMES = ("succeeded", "failed")

ERROR_CHARS = 160
"""The longest error text a heartbeat carries (longer ones end with an ellipsis)."""


def short(text: str | None, limit: int = ERROR_CHARS) -> str | None:
    """``text`` on one line, cut to ``limit`` characters."""
    if text is None:
        return None
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def hosting(
    services: Sequence[tuple[Service, ServiceStatus]],
    *,
    upkeep: Collection[str] = (),
    leader: bool = False,
) -> Hosting:
    """The report of a server running ``services`` (those named in ``upkeep`` left out)."""
    plain: list[HostedService] = []
    periodic: list[HostedPeriodic] = []
    task_queues: list[HostedTaskQueue] = []
    consumers: list[HostedConsumer] = []
    for service, status in services:
        if service.name in upkeep:
            continue
        if service.report is None:
            plain.append(
                HostedService(
                    name=status.name,
                    state=status.state,
                    leader_only=status.leader_only,
                    restarts=status.restarts,
                    last_error=short(status.last_error),
                )
            )
            continue
        item = service.report()
        if isinstance(item, HostedPeriodic):
            periodic.append(item)
        elif isinstance(item, HostedTaskQueue):
            task_queues.append(item)
        else:
            consumers.append(item)
    return Hosting(
        services=tuple(plain),
        periodic=tuple(periodic),
        task_queues=tuple(task_queues),
        consumers=tuple(consumers),
        leader=leader,
    )


def periodic_report(status: PeriodicStatus, schedule: str) -> HostedPeriodic:
    """A periodic function's part, its schedule given in words."""
    outcome = _OUTCOMES[bool(status.consecutive_failures)] if status.runs else None
    return HostedPeriodic(
        name=status.name,
        schedule=schedule,
        leader_only=status.leader_only,
        last_run=status.last_run_at,
        next_run=status.next_run_at,
        last_outcome=outcome,
        last_error=short(status.last_error) if outcome == "failed" else None,
    )


def task_queue_report(status: TaskQueueStatus) -> HostedTaskQueue:
    return HostedTaskQueue(
        name=status.name,
        size=status.size,
        capacity=status.capacity,
        busy=status.busy,
        concurrency=status.concurrency,
        processed=status.processed,
        failed=status.failed,
        dropped=status.dropped,
    )
