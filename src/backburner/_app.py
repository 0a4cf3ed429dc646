"""``Backburner``: the app object that registers jobs, stores them and runs servers."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload
from urllib.parse import parse_qs, urlsplit

from . import _clock
from ._client import Client, utcnow
from ._engine import Engine
from ._events import Event, EventHub, JobFailed, JobSucceeded
from ._jobs import JobFunction, JobOptions, When, default_name
from ._lifespan import Lifespan, lifespan
from ._logging import JobLines
from ._manage import JobManager
from ._names import check_name
from ._queues import QueueManager
from ._records import ServerInfo, Stats
from ._recurring import RecurringManager
from ._redact import RedactRule, normalize
from ._retry import Retry
from ._settings import CODE, Layer, Settings
from ._states import ContinueOn, JobState
from .rabbitmq import ConsumerStatus
from .rabbitmq._declare import Publishers, build_consumer
from .rabbitmq._options import DEFAULT_RETRY_DELAYS
from .server import _eventloop
from .server._periodic import Periodic, PeriodicStatus
from .server._services import Restart, Service, ServiceStatus
from .server._taskqueue import TaskQueue, TaskQueueStatus, WhenFull
from .server.server import Server, ServerOptions, run_in_thread
from .storage import Storage, open_storage
from .storage._url import StorageError, redact

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .rabbitmq._consumer import Consumer
    from .web import Authorize

P = ParamSpec("P")
R = TypeVar("R")
ServiceRun = TypeVar("ServiceRun", bound=Callable[..., Any])
MessageHandler = TypeVar("MessageHandler", bound=Callable[[Any], Any])

log = logging.getLogger("backburner")


class Backburner:
    """Define jobs, enqueue them, and run servers that execute them.

    >>> app = Backburner("sqlite:///jobs.db")
    >>> @app.job
    ... def resize(photo_id: int, width: int = 800) -> dict: ...
    >>> job_id = resize.enqueue(1, width=400)
    >>> with app.start_server(queues=["default"], workers=4):
    ...     app.jobs.wait(job_id, timeout=10)

    ``settings`` (default: ``Settings()``, read from ``backburner.toml`` and ``BACKBURNER__*``
    variables) gives every option; the arguments override it: ``url`` picks the storage,
    ``auto_migrate`` whether to migrate on first use, ``retention`` how long finished jobs
    are kept per state (None keeps them for good). ``app.settings`` is the outcome; what
    ``start_server()`` and ``run_server()`` are not given comes from its ``server`` section.
    Other keyword options go to the storage backend (for PostgreSQL: ``pool_max_size``,
    ``pool_timeout``, ``notifications`` ...) over its settings section.
    Storage opens on first use, so importing a module that defines an app touches nothing.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        schema: str | None = None,
        auto_migrate: bool | None = None,
        retention: Mapping[JobState, dt.timedelta | None]
        | Mapping[str, dt.timedelta | None]
        | None = None,
        settings: Settings | None = None,
        storage: Storage | None = None,
        **storage_options: Any,
    ) -> None:
        # What the arguments name overrides the settings; app.settings shows the outcome.
        given: Layer = {}
        if url is not None:
            given["storage.url"] = (url, CODE)
        if auto_migrate is not None:
            given["storage.auto_migrate"] = (auto_migrate, CODE)
        for state, keep in (retention or {}).items():
            given[f"retention.{JobState(state).value}"] = (keep, CODE)
        self.settings = (settings or Settings()).override(given)
        self._url = self.settings.storage.url
        self.storage_url = redact(self._url)
        self._storage_options = {**self._settings_storage_options(), **storage_options}
        if schema is not None:
            self._storage_options["schema"] = schema
        self._auto_migrate = self.settings.storage.auto_migrate
        self.retention = self.settings.retention.by_state()
        self._storage = storage
        self._storage_lock = threading.Lock()
        self._registry: dict[str, JobFunction[..., Any]] = {}
        self._servers: set[Server] = set()
        self._services: list[Service] = []
        self._hosted: list[tuple[Service, bool | str]] = []  # @app.service and @app.periodic
        self._periodic: list[Periodic] = []
        self._task_queues: dict[str, TaskQueue] = {}
        self._job_lines: JobLines | None = None
        self._consumers: list[tuple[Consumer, bool | str]] = []
        self._publishers = Publishers()
        self.events = EventHub()
        """What happens to jobs and servers: ``app.events.subscribe(fn, JobFailed)``."""
        self.engine = Engine(
            lambda: self.storage,
            utcnow,
            self._wake_servers,
            self.events,
            url=lambda: self.storage_url,
        )
        self._client = Client(self.engine)
        self.jobs = JobManager(self.engine)
        self.recurring = RecurringManager(self._resolve, self.engine)
        self.queues = QueueManager(self.engine)
        """The queues, and pausing them: ``app.queues()``, ``app.queues.pause("emails")``."""

    def __repr__(self) -> str:
        return f"Backburner({self.storage_url!r})"

    # --- storage ---------------------------------------------------------------------

    @property
    def storage(self) -> Storage:
        """The storage backend, opened (and migrated, unless turned off) on first use."""
        return self._open(migrate=self._auto_migrate)

    def migrate(self) -> None:
        """Create or upgrade the storage schema."""
        self._open(migrate=True).migrate()

    def _settings_storage_options(self) -> dict[str, Any]:
        # An option in the URL's query is the more specific: it wins over the settings.
        in_url = parse_qs(urlsplit(self._url).query)
        options = self.settings.storage.backend_options()
        return {k: v for k, v in options.items() if k not in in_url}

    def _open(self, *, migrate: bool) -> Storage:
        if self._storage is None:
            with self._storage_lock:
                if self._storage is None:
                    storage = open_storage(self._url, **self._storage_options)
                    try:
                        if migrate:
                            storage.migrate()
                        else:
                            storage.check_schema()
                    except StorageError:
                        # Not kept, so the next call opens another: close this one, or
                        # its pool would go on connecting in the background for good.
                        storage.close()
                        raise
                    except Exception as error:
                        storage.close()
                        raise StorageError(
                            f"cannot open storage {self.storage_url}: {error}"
                        ) from error
                    # Before the first time is written: a database shared by many hosts
                    # keeps their times on its clock (servers measure again as they run).
                    with contextlib.suppress(Exception):
                        _clock.measure(storage)
                    self._storage = storage
        return self._storage

    def close(self) -> None:
        """Close storage connections. Servers started from this app must be stopped first."""
        if self._storage is not None:
            self._storage.close()
            self._storage = None

    # --- registering jobs ------------------------------------------------------------

    @overload
    def job(self, func: Callable[P, R], /) -> JobFunction[P, R]: ...

    @overload
    def job(
        self,
        *,
        name: str | None = None,
        queue: str = "default",
        retry: Retry | None = None,
        timeout: float | None = None,
        cron: str | None = None,
        timezone: str | None = None,
        redact: RedactRule | None = None,
    ) -> Callable[[Callable[P, R]], JobFunction[P, R]]: ...

    def job(  # type: ignore[misc]  # the second overload takes no function, by design
        self,
        func: Callable[P, R] | None = None,
        /,
        *,
        name: str | None = None,
        queue: str = "default",
        retry: Retry | None = None,
        timeout: float | None = None,
        cron: str | None = None,
        timezone: str | None = None,
        redact: RedactRule | None = None,
    ) -> JobFunction[P, R] | Callable[[Callable[P, R]], JobFunction[P, R]]:
        """Register a function (sync or async) as a job: ``@app.job`` or ``@app.job(...)``.

        With ``cron=`` (and optionally ``timezone=``) the job is also a recurring job whose
        id is the job's name; servers store the schedule when they start.

        ``redact=["password"]`` hides those values on the dashboard and its API (keyword
        arguments and parameters of that name, dict keys of that name at any depth);
        ``redact=formatter`` takes ``(args, kwargs)`` and returns them as they may be
        shown. The job still runs with the real values.
        """
        if timezone is not None and cron is None:
            raise ValueError("timezone= goes with cron=")

        def register(fn: Callable[P, R]) -> JobFunction[P, R]:
            job_name = default_name(fn) if name is None else name
            options = JobOptions(
                name=job_name,
                queue=queue,
                retry=retry,
                timeout=timeout,
                redact=normalize(redact, f"job {job_name!r}"),
            )
            existing = self._registry.get(options.name)
            if existing is not None and existing.func is not fn:
                raise ValueError(f"a job named {options.name!r} is already registered")
            if cron is not None:
                self.recurring.declare(options.name, options.name, cron, timezone=timezone)
            job = JobFunction(self, fn, options)
            self._registry[options.name] = job
            return job

        return register if func is None else register(func)

    def registered(self, name: str) -> JobFunction[..., Any] | None:
        """The job registered under ``name``, if any."""
        return self._registry.get(name)

    @property
    def registry(self) -> Mapping[str, JobFunction[..., Any]]:
        return dict(self._registry)

    def job_named(self, name: str) -> JobFunction[..., Any]:
        """The job registered as ``name``, to enqueue, schedule or continue by name.

        A name this process does not register (a job of code deployed elsewhere) gives a
        handle that stores such jobs with the default options, for a server that registers
        it; calling that handle here raises ``LookupError``.

        >>> app.job_named("emails.send").with_options(queue="low").enqueue("ann@example.com")
        """
        found = self._registry.get(name)
        if found is not None:
            return found

        def elsewhere(*args: Any, **kwargs: Any) -> Any:
            raise LookupError(f"job {name!r} is not registered in this process")

        elsewhere.__name__ = elsewhere.__qualname__ = name
        return JobFunction(self, elsewhere, JobOptions(name=name))

    def _resolve(self, job: str | Callable[..., Any]) -> JobOptions:
        if isinstance(job, JobFunction):
            return job.options
        if isinstance(job, str):
            found = self._registry.get(job)
            return found.options if found is not None else JobOptions(name=job)
        for registered in self._registry.values():
            if registered.func is job:
                return registered.options
        raise LookupError(f"{job!r} is not a registered job: decorate it with @app.job")

    # --- client calls by function or name ----------------------------------------------

    def enqueue(self, job: str | Callable[..., Any], /, *args: Any, **kwargs: Any) -> str:
        """Enqueue a job given as a registered function or a name (maybe registered elsewhere)."""
        return self._client.enqueue(self._resolve(job), args, kwargs)

    def schedule(
        self, job: str | Callable[..., Any], when: When, /, *args: Any, **kwargs: Any
    ) -> str:
        """Run a job after a delay or at an aware datetime."""
        return self._client.schedule(self._resolve(job), when, args, kwargs)

    def continue_with(
        self,
        job: str | Callable[..., Any],
        parent_id: str,
        /,
        *args: Any,
        on: ContinueOn = "succeeded",
        **kwargs: Any,
    ) -> str:
        """Run a job once ``parent_id`` has succeeded (or finished, with ``on="finished"``)."""
        return self._client.continue_with(self._resolve(job), parent_id, on, args, kwargs)

    def stats(self) -> Stats:
        """How many jobs are in each state, and how many servers are alive."""
        counts = self.engine.job_counts()
        return Stats(
            **{state.value: counts.get(state, 0) for state in JobState},
            servers=len(self.servers()),
        )

    def servers(self) -> list[ServerInfo]:
        """The live servers: those that heartbeated within the ``server_timeout`` setting.

        >>> [(s.hostname, s.queues, s.workers) for s in app.servers()]
        [('web-1', ('default',), 10)]
        """
        return self.engine.servers(self.settings.server.server_timeout)

    def dashboard(
        self,
        authorize: Authorize | None = None,
        read_only: bool = False,
        redact: RedactRule | None = None,
    ) -> Starlette:
        """The dashboard, JSON API, ``health`` and ``metrics`` as a Starlette (ASGI) app to
        mount anywhere; needs the ``dashboard`` extra.

        By default only requests from this machine get in. ``authorize(request)`` decides
        instead: it returns a ``backburner.web.Access`` (FULL, READ_ONLY, NONE), a
        ``backburner.web.Grant(access, user)`` naming the user for the jobs' history, or
        a bool. ``read_only=True`` hides and refuses every action. ``redact=`` (names or a
        formatter, as for ``@app.job``) hides argument values of every job, those this
        process does not register included; each job's own ``redact=`` applies as well.

        >>> api.mount("/jobs", app.dashboard(authorize=check_user))
        """
        try:
            from .web import create_dashboard
        except ImportError as error:
            raise ImportError(
                "the dashboard needs the dashboard extra: pip install 'backburner[dashboard]'"
                f" ({error})"
            ) from None
        return create_dashboard(self, authorize=authorize, read_only=read_only, redact=redact)

    def lifespan(
        self,
        inner: Lifespan | None = None,
        /,
        *,
        dashboard: str | None = None,
        authorize: Authorize | None = None,
        read_only: bool = False,
        run_jobs: bool | None = None,
    ) -> Lifespan:
        """A lifespan for FastAPI or Starlette that runs a server of this app (its services,
        periodic work and task queues too) while the web app runs, and stops it gracefully
        after. ``dashboard="/jobs"`` mounts the dashboard there (with ``authorize`` and
        ``read_only``). ``inner``: a lifespan of your own, run inside this one (Starlette
        runs one lifespan per app, never a mounted app's). ``run_jobs`` (default: the
        ``hosting.run_jobs`` setting): False runs no durable jobs in the web process, only
        the hosting; ``backburner server`` runs the jobs.

        >>> api = FastAPI(lifespan=app.lifespan(dashboard="/jobs"))
        >>> api = FastAPI(lifespan=app.lifespan(my_lifespan, run_jobs=False))
        """
        return lifespan(
            self,
            inner,
            dashboard=dashboard,
            authorize=authorize,
            read_only=read_only,
            run_jobs=run_jobs,
        )

    # --- servers -----------------------------------------------------------------------

    def _server_options(
        self,
        queues: Sequence[str] | str | None,
        workers: int | None,
        server_timeout: float | None,
        shutdown_timeout: float | None,
    ) -> ServerOptions:
        given: Layer = {
            f"server.{key}": (value, CODE)
            for key, value in (
                ("queues", queues),
                ("workers", workers),
                ("server_timeout", server_timeout),
                ("shutdown_timeout", shutdown_timeout),
            )
            if value is not None
        }
        server = self.settings.override(given).server
        return ServerOptions(
            queues=server.queues,
            workers=server.workers,
            server_timeout=server.server_timeout,
            shutdown_timeout=server.shutdown_timeout,
            claim_ahead=server.claim_ahead,
            retention=dict(self.retention),
        )

    @overload
    def service(self, func: ServiceRun, /) -> ServiceRun: ...

    @overload
    def service(
        self,
        *,
        name: str | None = None,
        restart: Restart = "always",
        leader_only: bool = False,
        enabled: bool | str = True,
    ) -> Callable[[ServiceRun], ServiceRun]: ...

    def service(  # type: ignore[misc]  # the second overload takes no function, by design
        self,
        func: ServiceRun | None = None,
        /,
        *,
        name: str | None = None,
        restart: Restart = "always",
        leader_only: bool = False,
        enabled: bool | str = True,
    ) -> ServiceRun | Callable[[ServiceRun], ServiceRun]:
        """Run a long-running function in every server this app starts.

        An ``async def`` gets an ``asyncio.Event`` and runs on the server's event loop; a
        plain ``def`` gets a ``threading.Event`` and runs on a thread of its own. Either
        returns once its event is set (the server is stopping); it has
        ``server.shutdown_timeout`` seconds to, then is cancelled. A crash is logged and
        restarted with back-off; with ``restart="never"`` it stops the server, non-zero.
        ``enabled``: a bool, or a settings key whose value is one (``"hosting.enabled"``).

        >>> @app.service
        ... async def sync_inventory(stop: asyncio.Event) -> None:
        ...     while not stop.is_set():
        ...         await pull_changes()
        ...         with contextlib.suppress(TimeoutError):
        ...             await asyncio.wait_for(stop.wait(), 30)
        """

        def register(fn: ServiceRun) -> ServiceRun:
            service_name = name or default_name(fn)
            self._check_enabled(service_name, enabled)
            grace = self.settings.server.shutdown_timeout
            self._hosted.append(
                (Service(service_name, fn, leader_only, restart, grace=grace), enabled)
            )
            return fn

        return register if func is None else register(func)

    def periodic(
        self,
        *,
        every: float | dt.timedelta | None = None,
        cron: str | None = None,
        timezone: str | None = None,
        name: str | None = None,
        leader_only: bool = False,
        enabled: bool | str = True,
        stuck_after: float = 3.0,
    ) -> Callable[[Callable[[], R]], Callable[[], R]]:
        """Call a function every interval, or at the instants of a cron expression, inside
        each server this app starts (one server of the fleet with ``leader_only=True``).

        Runs never overlap; a run that raises is logged and the next one still comes,
        backed off while the failures go on. Nothing is stored: for work that must happen
        once per instant across the fleet, with a history, use a recurring job instead.
        A run lasting over ``stuck_after`` intervals makes ``/health`` degraded.

        >>> @app.periodic(every=timedelta(minutes=30))
        ... async def cleanup_cache() -> None: ...
        """

        def register(fn: Callable[[], R]) -> Callable[[], R]:
            periodic_name = name or default_name(fn)
            self._check_enabled(periodic_name, enabled)
            work = Periodic(
                periodic_name,
                fn,
                every=every,
                cron=cron,
                timezone=timezone,
                leader_only=leader_only,
                stuck_after=stuck_after,
            )
            self._periodic.append(work)
            self._hosted.append((work.service, enabled))
            return fn

        return register

    def task_queue(
        self,
        name: str,
        *,
        capacity: int = 100,
        concurrency: int = 1,
        when_full: WhenFull = "wait",
        enabled: bool | str = True,
    ) -> TaskQueue:
        """A bounded in-process queue of function calls, run by each server this app starts
        in this process (``concurrency`` at a time; a plain ``def`` on a thread).

        ``await queue.put(fn, *args)`` waits while it holds ``capacity`` tasks
        (``when_full="raise"``: raises ``QueueFull``), ``queue.put_nowait`` raises at once,
        ``queue.put_blocking`` waits from sync code. Nothing is stored: a crash loses what it
        holds; on a stop it drains within ``server.shutdown_timeout`` and logs what it drops.

        >>> orders = app.task_queue("orders", capacity=100, concurrency=2)
        >>> await orders.put(process_order, order_id)
        """
        check_name(name, "task queue name")
        if name in self._task_queues:
            raise ValueError(f"a task queue named {name!r} exists already")
        queue = TaskQueue(
            name,
            capacity=capacity,
            concurrency=concurrency,
            when_full=when_full,
            grace=self.settings.server.shutdown_timeout,
        )
        self._check_enabled(queue.service.name, enabled)
        if not self._is_enabled(queue.service.name, enabled):
            queue.disable(f"task queue {name} is disabled (hosting settings)")
        self._task_queues[name] = queue
        self._hosted.append((queue.service, enabled))
        return queue

    def task_queue_statuses(self) -> list[TaskQueueStatus]:
        """How each task queue of this app is doing, in this process."""
        return [queue.status() for queue in self._task_queues.values()]

    def service_statuses(self) -> list[ServiceStatus]:
        """How each service of the servers running in this process is doing."""
        return [status for server in list(self._servers) for status in server.services()]

    def periodic_statuses(self) -> list[PeriodicStatus]:
        """How each periodic function of this app is doing, in this process."""
        return [work.status() for work in self._periodic]

    def _check_enabled(self, name: str, enabled: bool | str) -> None:
        taken = [s.name for s, _ in self._hosted] + [c.name for c, _ in self._consumers]
        if name in taken:
            raise ValueError(
                f"a service, periodic function or consumer named {name!r} exists already"
            )
        self._is_enabled(name, enabled)  # a bad settings key fails here, at declaration

    def _is_enabled(self, name: str, enabled: bool | str) -> bool:
        hosting = self.settings.hosting
        if not hosting.enabled or name in hosting.disabled:
            return False
        if isinstance(enabled, bool):
            return enabled
        value: Any = self.settings
        for part in enabled.split("."):
            value = getattr(value, part, None)
        if not isinstance(value, bool):
            raise ValueError(
                f"{name}: enabled={enabled!r} must name a setting that is true or false"
            )
        return value

    # --- RabbitMQ ------------------------------------------------------------------------

    @overload
    def consumer(
        self,
        queue: str,
        *,
        enqueue: JobFunction[..., Any],
        url: str | None = None,
        prefetch: int = 1,
        max_deliveries: int = 5,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        timeout: float | None = None,
        model: Any = None,
        quorum: bool = False,
        dead_letter_queue: str | None = None,
        name: str | None = None,
        enabled: bool | str = True,
    ) -> None: ...

    @overload
    def consumer(
        self,
        queue: str,
        *,
        enqueue: None = None,
        url: str | None = None,
        prefetch: int = 1,
        max_deliveries: int = 5,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        timeout: float | None = None,
        model: Any = None,
        quorum: bool = False,
        dead_letter_queue: str | None = None,
        name: str | None = None,
        enabled: bool | str = True,
    ) -> Callable[[MessageHandler], MessageHandler]: ...

    def consumer(
        self,
        queue: str,
        *,
        enqueue: JobFunction[..., Any] | None = None,
        url: str | None = None,
        prefetch: int = 1,
        max_deliveries: int = 5,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        timeout: float | None = None,
        model: Any = None,
        quorum: bool = False,
        dead_letter_queue: str | None = None,
        name: str | None = None,
        enabled: bool | str = True,
    ) -> Callable[[MessageHandler], MessageHandler] | None:
        """Consume a RabbitMQ queue in every server this app starts (a service named
        ``rabbitmq.<queue>``); needs the ``rabbitmq`` extra.

        The handler (``async def``, or a plain ``def`` run on threads) takes the body as
        its first parameter's annotation says: a pydantic model, ``dict``, any type
        pydantic validates from JSON, ``str`` or ``bytes`` (``model=`` says so instead).
        A message is acked once its handler returns; one that raises is delivered again
        after ``retry_delays`` seconds (the last one repeats), up to ``max_deliveries``
        times, then moved to ``<queue>.dead`` with the error in its headers. Up to
        ``prefetch`` messages are handled at once. With ``enqueue=job`` there is no
        handler: each message is stored as that job (its body the one argument),
        exactly once, before it is acked. See docs/rabbitmq.md.

        >>> @app.consumer("email-queue", prefetch=10, retry_delays=[1, 10, 60])
        ... async def on_email(message: EmailMessage) -> None: ...
        >>> app.consumer("orders", enqueue=process_order)
        """
        consumer_name = name or f"rabbitmq.{queue}"
        self._check_enabled(consumer_name, enabled)
        build = functools.partial(
            build_consumer,
            consumer_name,
            queue,
            url or self.settings.rabbitmq.url,
            model=model,
            prefetch=prefetch,
            max_deliveries=max_deliveries,
            retry_delays=retry_delays,
            timeout=timeout,
            quorum=quorum,
            dead_letter_queue=dead_letter_queue,
        )

        def add(consumer: Consumer) -> None:
            self._consumers.append((consumer, enabled))

        if enqueue is not None:
            job = enqueue
            if not isinstance(job, JobFunction):
                raise TypeError(f"consumer {queue}: enqueue= takes an @app.job function")

            def store(value: Any, key: str | None) -> str:
                if key is None:
                    return self._client.enqueue(job.options, (value,), {})
                return self._client.enqueue_once(job.options, (value,), {}, key)

            add(build(store=store))
            return None

        def register(handler: MessageHandler) -> MessageHandler:
            add(build(handler=handler))
            return handler

        return register

    def consumer_statuses(self) -> list[ConsumerStatus]:
        """How each RabbitMQ consumer of this app is doing, in this process."""
        return [consumer.status() for consumer, _ in self._consumers]

    async def publish(
        self,
        queue: str,
        body: Any,
        *,
        url: str | None = None,
        headers: Mapping[str, Any] | None = None,
        message_id: str | None = None,
    ) -> str:
        """Publish ``body`` (bytes, str, a pydantic model or a JSON value) to a RabbitMQ
        queue, persistent, and wait for the broker's confirm; returns the message id
        (made up unless given). ``LookupError`` if no such queue exists.

        >>> await app.publish("email-queue", {"to": "ann@example.com"})
        """
        publisher = self._publishers.get(url or self.settings.rabbitmq.url)
        return await publisher.publish(queue, body, headers=headers, message_id=message_id)

    async def close_publisher(self) -> None:
        """Close the broker connections ``publish`` opened on the running event loop."""
        for publisher in self._publishers.all():
            await publisher.close()

    def add_service(self, service: Service) -> None:
        """Run ``service`` in every server this app starts from now on (after the server's
        own services); see ``Server.add_service``."""
        self._services.append(service)

    def _server(self, options: ServerOptions) -> Server:
        if self._job_lines is None:  # once an app, however many servers it starts
            self._job_lines = JobLines(self.settings.logging.job_lines)
            self._job_lines.subscribe(self.events)
        server = Server(self.registered, self.engine, options, startup=self.recurring.sync_declared)
        if self.settings.hosting.enabled:
            for service in self._services:
                server.add_service(service)
        for service, enabled in self._hosted:
            if self._is_enabled(service.name, enabled):
                server.add_service(service)
        for consumer, enabled in self._consumers:
            if self._is_enabled(consumer.name, enabled):
                server.add_service(consumer.service(options.shutdown_timeout))
        return server

    def _wake_servers(self, queue: str | None = None) -> None:
        for server in list(self._servers):
            server.wake(queue)

    @contextlib.contextmanager
    def start_server(
        self,
        queues: Sequence[str] | str | None = None,
        workers: int | None = None,
        *,
        server_timeout: float | None = None,
        shutdown_timeout: float | None = None,
    ) -> Iterator[Server]:
        """Run a server in a background thread for the ``with`` block; stops gracefully."""
        options = self._server_options(queues, workers, server_timeout, shutdown_timeout)
        self.storage  # noqa: B018 - open (and migrate) before the server thread needs it
        server = self._server(options)
        done = run_in_thread(server)
        self._servers.add(server)
        try:
            yield server
        finally:
            self._servers.discard(server)
            server.request_stop()
            done.result()

    def drain(self, timeout: float = 10.0) -> list[str]:
        """For tests: run, in a server of this process, every job ready now and every job
        they make ready (continuations, jobs they enqueue), until none is left; the ids of
        the jobs that reached a final state meanwhile, in that order. Scheduled jobs and
        retries wait for their time, and the jobs of paused queues until they are resumed.
        ``TimeoutError`` after ``timeout`` seconds.

        >>> send_welcome.enqueue("ann@example.com")
        >>> [job_id] = app.drain()
        """
        finished: list[str] = []

        def note(event: Event) -> None:
            if isinstance(event, JobSucceeded) or (
                isinstance(event, JobFailed) and not event.will_retry
            ):
                finished.append(event.id)

        queues = {job.options.queue for job in self._registry.values()}
        queues |= {queue.name for queue in self.queues()} | {"default"}
        unsubscribe = self.events.subscribe(note, JobSucceeded, JobFailed)
        try:
            with self.start_server(queues=sorted(queues)):
                deadline = time.monotonic() + timeout
                while (left := self._undrained()) != (0, 0):
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"jobs still enqueued ({left[0]}) or processing "
                            f"({left[1]}) after {timeout} seconds"
                        )
                    time.sleep(0.005)
        finally:
            unsubscribe()
        return finished

    def _undrained(self) -> tuple[int, int]:
        """Jobs enqueued (outside paused queues, whose jobs wait) and processing."""
        paused = {pause.queue for pause in self.queues.paused()}
        if not paused:
            stats = self.stats()
            return stats.enqueued, stats.processing
        counts = self.jobs.counts(state=[JobState.ENQUEUED, JobState.PROCESSING])
        enqueued = sum(
            cell.count
            for (queue, state), cell in counts.items()
            if state is JobState.ENQUEUED and queue not in paused
        )
        processing = sum(
            cell.count for (_, state), cell in counts.items() if state is JobState.PROCESSING
        )
        return enqueued, processing

    def run_server(
        self,
        queues: Sequence[str] | str | None = None,
        workers: int | None = None,
        *,
        server_timeout: float | None = None,
        shutdown_timeout: float | None = None,
    ) -> None:
        """Run a server in this thread until SIGINT or SIGTERM, then stop gracefully.

        A second signal stops at once: running jobs are interrupted and requeued.
        """
        options = self._server_options(queues, workers, server_timeout, shutdown_timeout)
        self.storage  # noqa: B018 - opened first: the server's start time is then corrected
        server = self._server(options)
        self._servers.add(server)

        async def main() -> None:
            loop = asyncio.get_running_loop()
            signals = 0

            def on_signal(signum: int) -> None:
                nonlocal signals
                signals += 1
                name = signal.Signals(signum).name
                if signals == 1:
                    log.info("%s received: stopping gracefully (again to stop at once)", name)
                    server.request_stop()
                else:
                    log.warning("%s received again: interrupting running jobs", name)
                    server.request_stop(immediately=True)

            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, on_signal, signum)
            await server.serve()

        try:
            # Not asyncio.run(): it would wait for ever for a job that swallows cancellation.
            _eventloop.run(main())
        finally:
            self._servers.discard(server)
