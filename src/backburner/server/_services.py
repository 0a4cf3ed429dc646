"""Services: the long-running parts of a server, each with one lifecycle.

A service starts, runs until its stop signal is set, gets a grace period to return, and
is then cancelled (an ``async def`` one) or left behind (a thread cannot be cancelled).
Services start in the order given and stop in reverse. One that crashes is logged with
its traceback and restarted after a back-off that doubles up to a cap and starts over
once a run has been healthy for a while; one whose restart policy is ``"never"`` stops
the whole server instead.

A sync service runs on a thread of its own, so that it goes on while the event loop is
blocked (a misbehaving ``async def`` job); an async one runs on the server's loop.

Leader-only services run on one server of a fleet at a time: the one holding the storage
lease ``leader``, renewed from a thread of its own every heartbeat interval for one
``server_timeout``. When the leader dies its lease runs out and another server takes
over; a server that cannot renew its lease in time stops its leader-only services.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from .._clock import utcnow
from .._context import set_current_service
from .._records import HostedConsumer, HostedPeriodic, HostedTaskQueue

if TYPE_CHECKING:
    from .._engine import Engine

log = logging.getLogger("backburner.services")

Restart = Literal["always", "never"]
ServiceState = Literal["running", "failing", "stopped"]
AsyncRun = Callable[[asyncio.Event], Awaitable[None]]
SyncRun = Callable[[threading.Event], None]
Report = Callable[[], HostedPeriodic | HostedTaskQueue | HostedConsumer]

LEADER_LEASE = "leader"


@dataclass(frozen=True)
class Service:
    """A long-running part of a server.

    ``run`` takes a stop signal and returns once it is set: an ``async def`` function gets
    an ``asyncio.Event`` and runs on the server's event loop; a plain function gets a
    ``threading.Event`` and runs on a thread of its own. ``leader_only``: run on one server
    of the fleet at a time. ``restart``: ``"always"`` restarts it after a crash, waiting
    ``backoff`` seconds doubled after each crash up to ``max_backoff`` (back to ``backoff``
    once a run has lasted ``healthy_after`` seconds); ``"never"`` stops the server.
    ``grace``: seconds it gets to return once asked to stop. ``report``: what the
    server's heartbeat tells of it instead of its bare status (a periodic function, a task
    queue, a consumer), read from the heartbeat's thread.
    """

    name: str
    run: AsyncRun | SyncRun
    leader_only: bool = False
    restart: Restart = "always"
    grace: float = 5.0
    backoff: float = 1.0
    max_backoff: float = 60.0
    healthy_after: float = 60.0
    report: Report | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a service needs a name")
        if self.restart not in ("always", "never"):
            raise ValueError(
                f"service {self.name}: restart must be 'always' or 'never', not {self.restart!r}"
            )
        if self.grace < 0 or self.backoff <= 0 or self.max_backoff < self.backoff:
            raise ValueError(
                f"service {self.name}: grace must be 0 or more, and 0 < backoff <= max_backoff"
            )

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.run)


@dataclass(frozen=True)
class ServiceStatus:
    """How a service is doing. ``state``: ``running``; ``failing`` (crashed, waiting to be
    restarted); ``stopped`` (not started, stopped, or leader-only on a server that does not
    lead). ``failing_since``: the first crash of the current run of crashes;
    ``last_success``: when a run last ended cleanly or had lasted ``healthy_after``."""

    name: str
    leader_only: bool
    state: ServiceState = "stopped"
    restarts: int = 0
    failing_since: dt.datetime | None = None
    last_error: str | None = None
    last_success: dt.datetime | None = None


class ServiceCrashed(RuntimeError):
    """A service whose restart policy is ``"never"`` crashed, and stopped its server."""


class _Supervised:
    """One service's runs: started, restarted after crashes, stopped."""

    def __init__(self, service: Service, on_fatal: Callable[[Service, BaseException], None]):
        self.service = service
        self._on_fatal = on_fatal
        self._lock = threading.Lock()
        self._status = ServiceStatus(service.name, service.leader_only)
        self._run_started: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._async_stop: asyncio.Event | None = None
        self._thread_stop: threading.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None

    def status(self) -> ServiceStatus:
        with self._lock:
            self._note_healthy()
            return self._status

    def _set(self, **changes: object) -> None:
        self._status = replace(self._status, **changes)  # type: ignore[arg-type]

    def _note_healthy(self) -> None:
        started = self._run_started
        if started is not None and time.monotonic() - started >= self.service.healthy_after:
            self._set(failing_since=None, last_success=utcnow())
            self._run_started = None  # noted once a run

    @property
    def active(self) -> bool:
        return self._task is not None or self._thread is not None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop."""
        self._loop = loop
        if self.service.is_async:
            self._async_stop = asyncio.Event()
            self._task = loop.create_task(self._supervise_async(), name=self.service.name)
        else:
            self._thread_stop = threading.Event()
            self._thread = threading.Thread(
                target=self._supervise_thread, name=f"backburner-{self.service.name}", daemon=True
            )
            self._thread.start()

    def signal_stop(self) -> None:
        """From any thread: ask the running service to return."""
        if self._thread_stop is not None:
            self._thread_stop.set()
        stop, loop = self._async_stop, self._loop
        if stop is not None and loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may close in between
                loop.call_soon_threadsafe(stop.set)

    async def stop(self) -> None:
        """On the loop: ask it to stop, wait its grace, then cancel (or leave) it."""
        self.signal_stop()
        task, thread = self._task, self._thread
        self._task = self._thread = None
        grace = self.service.grace
        if task is not None:
            if self._async_stop is not None:
                self._async_stop.set()
            _done, pending = await asyncio.wait([task], timeout=grace)
            if pending:
                log.warning(
                    "service %s ignored its stop for %g s: cancelled", self.service.name, grace
                )
                task.cancel()
                await asyncio.wait([task], timeout=1.0)
        if thread is not None:
            deadline = time.monotonic() + grace
            while thread.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if thread.is_alive():
                log.warning(
                    "service %s ignored its stop for %g s: left behind", self.service.name, grace
                )
        with self._lock:
            self._run_started = None
            self._set(state="stopped")

    # --- the runs ------------------------------------------------------------------

    def _starting(self) -> None:
        with self._lock:
            self._run_started = time.monotonic()
            self._set(state="running")

    def _ended(self, error: BaseException | None, consecutive: int) -> float | None:
        """Note how a run ended; the seconds to wait before the next, or None for none."""
        service = self.service
        with self._lock:
            self._note_healthy()
            healthy = self._run_started is None
            self._run_started = None
            if error is None:
                self._set(state="stopped", failing_since=None, last_success=utcnow())
                return None
            self._set(
                state="failing",
                failing_since=self._status.failing_since or utcnow(),
                last_error=f"{type(error).__name__}: {error}",
            )
        if service.restart == "never":
            log.error("service %s crashed; it is not restarted", service.name, exc_info=error)
            self._on_fatal(service, error)
            return None
        if healthy:
            consecutive = 1
        delay = min(service.max_backoff, service.backoff * 2.0 ** (consecutive - 1))
        log.error("service %s crashed; restarting in %g s", service.name, delay, exc_info=error)
        return delay

    def _restarting(self) -> None:
        with self._lock:
            self._set(restarts=self._status.restarts + 1)

    async def _supervise_async(self) -> None:
        stop = self._async_stop
        assert stop is not None
        run: AsyncRun = self.service.run  # type: ignore[assignment]
        set_current_service(self.service.name)  # for the logs of this task and its own
        crashes = 0
        while not stop.is_set():
            self._starting()
            try:
                await run(stop)
                error: BaseException | None = None
            except Exception as failure:
                error = failure
            if error is None:
                self._ended(None, 0)
                return
            crashes += 1
            delay = self._ended(error, crashes)
            if delay is None:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if not stop.is_set():
                self._restarting()

    def _supervise_thread(self) -> None:
        stop = self._thread_stop
        assert stop is not None
        run: SyncRun = self.service.run  # type: ignore[assignment]
        set_current_service(self.service.name)
        crashes = 0
        while not stop.is_set():
            self._starting()
            try:
                run(stop)
                error: BaseException | None = None
            except Exception as failure:
                error = failure
            if error is None:
                self._ended(None, 0)
                return
            crashes += 1
            delay = self._ended(error, crashes)
            if delay is None or stop.wait(delay):
                return
            self._restarting()


class Services:
    """A server's services: started in order, stopped in reverse, the leader-only ones
    under the leader lease."""

    def __init__(self, holder: str, engine: Engine) -> None:
        self._holder = holder
        self._engine = engine
        self._entries: list[_Supervised] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._stopping = False
        self._leading = False
        self._lead_lock = threading.Lock()
        self._lease_stop = threading.Event()
        self._lease_thread: threading.Thread | None = None
        self._lease_period = 0.0
        self._renew_every = 0.0
        self.crashed: tuple[Service, BaseException] | None = None
        self.on_fatal: Callable[[], None] = lambda: None

    def add(self, service: Service) -> None:
        if self._started:
            raise RuntimeError(
                f"service {service.name}: services are added before the server starts"
            )
        if any(e.service.name == service.name for e in self._entries):
            raise ValueError(f"a service named {service.name!r} is already there")
        self._entries.append(_Supervised(service, self._fatal))

    def statuses(self) -> list[ServiceStatus]:
        return [entry.status() for entry in self._entries]

    def described(self) -> list[tuple[Service, ServiceStatus]]:
        """Each service with its status, in the order they start."""
        return [(entry.service, entry.status()) for entry in self._entries]

    @property
    def leading(self) -> bool:
        return self._leading

    def _fatal(self, service: Service, error: BaseException) -> None:
        if self.crashed is None:
            self.crashed = (service, error)
        self.on_fatal()

    async def start(self, lease_period: float, renew_every: float) -> None:
        """On the loop: start every service in order (the leader-only ones once leading)."""
        self._loop = asyncio.get_running_loop()
        self._started = True
        self._lease_period, self._renew_every = lease_period, renew_every
        for entry in self._entries:
            if not entry.service.leader_only:
                entry.start(self._loop)
                await asyncio.sleep(0)  # an async one runs up to its first wait first
        if any(entry.service.leader_only for entry in self._entries):
            self._lease_thread = threading.Thread(
                target=self._keep_lease, name=f"backburner-leader-{self._holder}", daemon=True
            )
            self._lease_thread.start()

    async def stop(self) -> None:
        """On the loop: stop every service in reverse order, then give up the lease."""
        self._stopping = True
        self._lease_stop.set()
        if self._lease_thread is not None:
            # Bounded: a renewal may hang on an unreachable storage.
            deadline = time.monotonic() + self._renew_every + 5.0
            while self._lease_thread.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        for entry in reversed(self._entries):
            if entry.active:
                await entry.stop()
        if self._leading:
            self._leading = False
            with contextlib.suppress(Exception):  # not given up: it runs out
                now = utcnow()
                await asyncio.to_thread(
                    self._engine.lease_acquire, LEADER_LEASE, self._holder, now, now
                )

    # --- the leader lease, on a thread of its own ------------------------------------

    def _keep_lease(self) -> None:
        held_until = 0.0  # monotonic: when the lease runs out unless renewed
        while True:
            asked = time.monotonic()
            held: bool | None  # None: unknown, storage unreachable
            try:
                now = utcnow()
                until = now + dt.timedelta(seconds=self._lease_period)
                held = self._engine.lease_acquire(LEADER_LEASE, self._holder, until, now)
                if held:
                    held_until = asked + self._lease_period
            except Exception as error:
                held = None
                log.warning("server %s: renewing the leader lease failed (%s)", self._holder, error)
            if self._lease_stop.is_set():
                return
            if held and not self._leading:
                self._lead(True)
            elif self._leading and (
                # Another server holds it, or it may run out before the next renewal.
                held is False or time.monotonic() + self._renew_every >= held_until
            ):
                self._lead(False)
            if self._lease_stop.wait(self._renew_every):
                return

    def _lead(self, leading: bool) -> None:
        loop = self._loop
        assert loop is not None
        self._leading = leading
        if leading:
            log.info("server %s: leading; starting the leader-only services", self._holder)
        else:
            log.warning("server %s: lost the leader lease; stopping its services", self._holder)
            for entry in self._entries:
                if entry.service.leader_only:
                    entry.signal_stop()  # at once, even while the loop is busy
        with contextlib.suppress(RuntimeError):  # the loop may close in between
            asyncio.run_coroutine_threadsafe(self._switch(leading), loop)

    async def _switch(self, leading: bool) -> None:
        if self._stopping:
            return
        entries = [e for e in self._entries if e.service.leader_only]
        if leading:
            assert self._loop is not None
            for entry in entries:
                if not entry.active:
                    entry.start(self._loop)
        else:
            for entry in reversed(entries):
                if entry.active:
                    await entry.stop()
