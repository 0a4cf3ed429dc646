"""The ``backburner`` command (also ``python -m backburner``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from . import _logging, _redact, _serialization
from ._app import Backburner
from ._loading import AppLoadError, load_app
from ._manage import MAX_PAGE_SIZE
from ._records import CountCell, Job, RecurringJob
from ._settings import CONFIG_ENV, Layer, Settings, SettingsError, Source
from ._states import JobState
from .server._services import ServiceCrashed
from .storage._url import StorageError, redact

R = TypeVar("R", Job, RecurringJob)
F = TypeVar("F", bound=Callable[..., Any])

APP_HELP = "The app as package.module:attribute (default: the app setting, $BACKBURNER_APP)."
URL_HELP = (
    "Storage URL, instead of an app's (default: the storage.url setting, $BACKBURNER_URL, "
    "or sqlite:///backburner.db)."
)


def _app_options(func: F) -> F:
    func = click.option("--url", help=URL_HELP)(func)
    return click.option("--app", "app_spec", help=APP_HELP)(func)


def _open(app_spec: str | None, url: str | None) -> Backburner:
    """The app named by --app or the settings (with its own storage), or a bare app on --url."""
    if app_spec and url:
        raise click.UsageError("give --app or --url, not both: an app names its own storage")
    # Read first, so that a wrong setting is reported as such, not as the app failing to import.
    settings = Settings()
    if url:
        return Backburner(url)
    spec = app_spec or settings.app
    if spec:
        return load_app(spec)
    return Backburner()


def _friendly(func: F) -> F:
    """Report the errors a user can fix as one clear line, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (AppLoadError, StorageError, ServiceCrashed) as error:
            raise click.ClickException(str(error)) from None
        except (TypeError, ValueError, LookupError) as error:
            raise click.ClickException(str(error)) from None

    return wrapper  # type: ignore[return-value]


def _dashboard_options(func: F) -> F:
    func = click.option(
        "--port",
        type=click.IntRange(1, 65535),
        default=8000,
        show_default=True,
        help="Dashboard port.",
    )(func)
    return click.option(
        "--host", default="127.0.0.1", show_default=True, help="Dashboard address."
    )(func)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help=f"Settings file (default: ${CONFIG_ENV}, else ./backburner.toml or ./pyproject.toml).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="Log lines as text, or one JSON object a line (default: the logging.format setting).",
)
@click.version_option(package_name="backburner")
def main(verbose: bool, config_file: str | None, log_format: str | None) -> None:
    """Backburner: durable background jobs."""
    if config_file:
        # Through the environment, so that the app's own Settings() reads the same file.
        os.environ[CONFIG_ENV] = os.path.abspath(config_file)
    if log_format is None:
        try:
            log_format = Settings().logging.format
        except SettingsError:
            log_format = "text"  # the command itself reports the wrong setting
    _logging.configure(log_format, logging.DEBUG if verbose else logging.INFO)
    if not verbose:
        # Each failed attempt of the connection pool, several lines long, while the database
        # is down; Backburner's own messages already say so once, in one line.
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        # aio-pika's driver logs each failed connection at ERROR with its own wording.
        logging.getLogger("aiormq").setLevel(logging.CRITICAL)


@main.command()
@click.option("--app", "app_spec", help=APP_HELP)
@click.option("--queues", "-q", help="Comma-separated queues, highest priority first.")
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=0),
    help="Jobs run at once (0: none, only services, periodic work and task queues).",
)
@click.option(
    "--server-timeout",
    type=click.FloatRange(min=0.1),
    help="Seconds a silent server is presumed alive.",
)
@click.option(
    "--shutdown-timeout",
    type=click.FloatRange(min=0),
    help="Seconds to let running jobs finish on stop.",
)
@click.option("--dashboard", is_flag=True, help="Also serve the dashboard from this process.")
@_dashboard_options
@_friendly
def server(
    app_spec: str | None,
    queues: str | None,
    workers: int | None,
    server_timeout: float | None,
    shutdown_timeout: float | None,
    dashboard: bool,
    host: str,
    port: int,
) -> None:
    """Run a server until SIGINT or SIGTERM (options default to the server.* settings)."""
    settings = Settings()  # read even with --app: see _open()
    spec = app_spec or settings.app
    if not spec:
        raise click.UsageError(
            "the server needs your jobs: pass --app package.module:app "
            "(or set app in backburner.toml, or BACKBURNER_APP)"
        )
    app = load_app(spec)
    flags: Layer = {
        f"server.{key}": (value, Source("flag", f"--{key.replace('_', '-')}"))
        for key, value in (
            ("queues", queues),
            ("workers", workers),
            ("server_timeout", server_timeout),
            ("shutdown_timeout", shutdown_timeout),
        )
        if value is not None
    }
    # Flags override the app's settings, so that a wrong one is reported as a flag.
    app.settings = app.settings.override(flags)
    if dashboard:
        _serve_dashboard(app, host, port, with_server=True)
    else:
        app.run_server()


def _serve_dashboard(app: Backburner, host: str, port: int, *, with_server: bool) -> None:
    try:
        from .web._serve import ServeError, serve
    except ImportError as error:
        raise click.ClickException(
            f"the dashboard needs the dashboard extra: pip install 'backburner[dashboard]' "
            f"({error})"
        ) from None
    try:
        serve(app, host, port, with_server=with_server)
    except ServeError as error:
        raise click.ClickException(str(error)) from None


@main.command("dashboard")
@_app_options
@_dashboard_options
@_friendly
def dashboard_command(app_spec: str | None, url: str | None, host: str, port: int) -> None:
    """Serve the dashboard (pages, JSON API, health, metrics) until SIGINT or SIGTERM.

    Only requests from this machine get in: mount app.dashboard(authorize=...) in your own
    ASGI app to let others in.
    """
    _serve_dashboard(_open(app_spec, url), host, port, with_server=False)


@main.command("config")
@_app_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_friendly
def config(app_spec: str | None, url: str | None, as_json: bool) -> None:
    """Print the settings in effect and where each value came from.

    With an app (--app or the app setting) these are the app's: what its code passes
    overrides the file and the environment.
    """
    if app_spec and url:
        raise click.UsageError("give --app or --url, not both: an app names its own storage")
    settings = Settings()
    flags: Layer = {}
    if app_spec:
        flags["app"] = (app_spec, Source("flag", "--app"))
    if url:
        flags["storage.url"] = (url, Source("flag", "--url"))
    settings = settings.override(flags)
    if settings.app and not url:
        app_source = settings.source_of("app")
        settings = load_app(settings.app).settings.override({"app": (settings.app, app_source)})
    rows = [(key, value, settings.source_of(key)) for key, value in settings.flat().items()]
    if as_json:
        report = {
            key: {"value": _json_value(key, value), "source": source.kind, "where": source.where}
            for key, value, source in rows
        }
        file = str(settings.file) if settings.file else None
        click.echo(json.dumps({"file": file, "settings": report}))
        return
    click.echo(f"# settings file: {settings.file or 'none'}")
    shown = [(key, _text_value(key, value), str(source)) for key, value, source in rows]
    width = max(len(key) for key, _, _ in shown)
    value_width = max(len(value) for _, value, _ in shown)
    for key, value, source in shown:
        click.echo(f"{key:<{width}} = {value:<{value_width}}  ({source})")


def _json_value(key: str, value: Any) -> Any:
    if key == "storage.url":
        return redact(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, tuple):
        return list(value)
    return value


def _text_value(key: str, value: Any) -> str:
    if key.startswith("retention.") and value is None:
        return '"keep"'
    if isinstance(value, dt.timedelta):
        return _duration_text(value)
    return json.dumps(_json_value(key, value)) if value is not None else "none"


def _duration_text(value: dt.timedelta) -> str:
    seconds = value.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f'"{int(seconds // size)}{unit}"'
    return f'"{seconds:g}s"'


@main.command()
@_app_options
@_friendly
def migrate(app_spec: str | None, url: str | None) -> None:
    """Create or upgrade the storage schema."""
    app = _open(app_spec, url)
    app.migrate()
    click.echo(f"storage {app.storage_url} is up to date")


@main.command()
@_app_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_friendly
def stats(app_spec: str | None, url: str | None, as_json: bool) -> None:
    """Count jobs by state, and live servers."""
    counts = _open(app_spec, url).stats().as_dict()
    if as_json:
        click.echo(json.dumps(counts))
        return
    for name, count in counts.items():
        click.echo(f"{name:<11} {count}")


def _parse_value(text: str) -> Any:
    """A CLI argument: JSON when it parses as storable JSON, otherwise the plain string."""
    try:
        value = _serialization.loads(text)
        _serialization.dumps(value)  # NaN, Infinity and 1e999 parse but cannot be stored
    except ValueError:
        return text
    return value


@main.command()
@_app_options
@click.argument("name")
@click.argument("args", nargs=-1)
@click.option(
    "--kwarg",
    "-k",
    "kwargs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A keyword argument (VALUE as JSON or text).",
)
@click.option("--queue", help="Queue to use instead of the job's own.")
@click.option("--delay", type=click.FloatRange(min=0), help="Run after this many seconds.")
@_friendly
def enqueue(
    app_spec: str | None,
    url: str | None,
    name: str,
    args: tuple[str, ...],
    kwargs: tuple[str, ...],
    queue: str | None,
    delay: float | None,
) -> None:
    """Enqueue job NAME with ARGS (each parsed as JSON when it can be, else taken as text)."""
    app = _open(app_spec, url)
    keywords: dict[str, Any] = {}
    for item in kwargs:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--kwarg")
        keywords[key] = _parse_value(value)
    job = app.job_named(name).with_options(queue=queue)
    values = [_parse_value(a) for a in args]
    if delay is not None:
        job_id = job.schedule(delay, *values, **keywords)
    else:
        job_id = job.enqueue(*values, **keywords)
    click.echo(job_id)


@main.group()
def jobs() -> None:
    """List, show, retry and delete jobs."""


def _job_line(job: Job) -> str:
    created = job.created_at.strftime("%Y-%m-%d %H:%M:%S")
    return f"{job.id:>8}  {job.state.value:<10} {job.queue:<10} {created}  {job.name}"


@jobs.command("list")
@_app_options
@click.option("--state", type=click.Choice([s.value for s in JobState]))
@click.option("--queue")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help=f"Jobs to show, at most {MAX_PAGE_SIZE:,}.",
)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@_friendly
def jobs_list(
    app_spec: str | None,
    url: str | None,
    state: str | None,
    queue: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """List jobs, newest first."""
    app = _open(app_spec, url)
    for job in app.jobs.list(state=state, queue=queue, limit=limit, offset=offset):
        click.echo(_job_json(_redacted(app, job)) if as_json else _job_line(job))


def _redacted(app: Backburner, record: R) -> R:
    """``record`` (a job or a recurring job) with the values its registered function's
    ``redact=`` hides replaced, as the dashboard shows it."""
    function = app.registered(record.name)
    if function is None or function.options.redact is None:
        return record
    rule = _redact.Redaction.of(function.options.redact, function.func)
    args, kwargs = rule.arguments(record.args, record.kwargs)
    hidden: dict[str, Any] = {"args": args, "kwargs": kwargs}
    if isinstance(record, Job):
        hidden["result"] = rule.result(record.result)
    return dataclasses.replace(record, **hidden)


def _job_json(job: Job) -> str:
    return _serialization.dumps(dataclasses.asdict(job))


@jobs.command("show")
@_app_options
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_friendly
def jobs_show(app_spec: str | None, url: str | None, job_id: str, as_json: bool) -> None:
    """Show one job with its history and last error (arguments hidden by its ``redact=``)."""
    app = _open(app_spec, url)
    job = app.jobs.get(job_id)
    if job is None:
        raise click.ClickException(f"no job with id {job_id!r}")
    job = _redacted(app, job)
    if as_json:
        click.echo(_job_json(job))
        return
    click.echo(f"job {job.id}: {job.name} on queue {job.queue!r}")
    click.echo(f"  state:    {job.state.value} (attempt {job.attempt})")
    click.echo(f"  args:     {_serialization.dumps(job.args)}")
    click.echo(f"  kwargs:   {_serialization.dumps(job.kwargs)}")
    if job.parent_id:
        click.echo(f"  after:    job {job.parent_id} ({job.continue_on})")
    if job.state is JobState.SUCCEEDED:
        click.echo(f"  result:   {_serialization.dumps(job.result)}")
    click.echo("  history:")
    for change in job.history:
        reason = f"  {change.reason}" if change.reason else ""
        click.echo(
            f"    {change.at.isoformat(timespec='milliseconds')}  {change.state.value:<10}{reason}"
        )
    if job.error is not None:
        click.echo(f"  error:    {job.error.type}: {job.error.message}")
        click.echo(job.error.traceback.rstrip())


@jobs.command("retry")
@_app_options
@click.argument("job_id")
@_friendly
def jobs_retry(app_spec: str | None, url: str | None, job_id: str) -> None:
    """Requeue a finished job."""
    if not _open(app_spec, url).jobs.requeue(job_id):
        raise click.ClickException(f"job {job_id} cannot be requeued (unknown, or not finished)")
    click.echo(f"job {job_id} requeued")


@jobs.command("delete")
@_app_options
@click.argument("job_id")
@_friendly
def jobs_delete(app_spec: str | None, url: str | None, job_id: str) -> None:
    """Delete a job; a running one is asked to stop."""
    if not _open(app_spec, url).jobs.delete(job_id):
        raise click.ClickException(f"job {job_id} cannot be deleted (unknown, or deleted already)")
    click.echo(f"job {job_id} deleted")


@main.group(invoke_without_command=True)
@_app_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.pass_context
@_friendly
def queues(ctx: click.Context, app_spec: str | None, url: str | None, as_json: bool) -> None:
    """List queues (waiting, processing, scheduled, oldest waiting, paused); pause, resume."""
    ctx.obj = {"app_spec": app_spec, "url": url}
    if ctx.invoked_subcommand is not None:
        return
    listed = _open(app_spec, url).queues()
    if as_json:
        for q in listed:
            click.echo(json.dumps(q.as_dict()))
        return
    if not listed:
        click.echo("no queue holds jobs, and none is paused")
        return
    width = max(len("queue"), *(len(q.name) for q in listed))
    click.echo(
        f"{'queue':<{width}}  {'waiting':>8}  {'processing':>10}  {'scheduled':>9}  "
        f"{'oldest waiting':>14}  paused"
    )
    for q in listed:
        oldest = "-" if q.oldest_waiting is None else f"{q.oldest_waiting.total_seconds():.1f}s"
        paused = "-" if q.pause is None else f"paused since {_when(q.pause.paused_at)}"
        click.echo(
            f"{q.name:<{width}}  {_cell(q.enqueued):>8}  {_cell(q.processing):>10}  "
            f"{_cell(q.scheduled):>9}  {oldest:>14}  {paused}"
        )


def _cell(cell: CountCell) -> str:
    return f"{'' if cell.exact else '~'}{cell.count}"


def _when(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _queue_app(ctx: click.Context, app_spec: str | None, url: str | None) -> Backburner:
    """The app of the subcommand's options, else of those given to ``queues`` itself."""
    given = ctx.obj or {}
    return _open(app_spec or given.get("app_spec"), url or given.get("url"))


@queues.command("pause")
@_app_options
@click.argument("name")
@click.pass_context
@_friendly
def queues_pause(ctx: click.Context, app_spec: str | None, url: str | None, name: str) -> None:
    """Stop servers from claiming a queue's jobs (it still takes new ones); survives restarts."""
    app = _queue_app(ctx, app_spec, url)
    if app.queues.pause(name, reason="paused from the command line"):
        click.echo(f"queue {name} paused: servers take none of its jobs until it is resumed")
        return
    pause = next(p for p in app.queues.paused() if p.queue == name)
    click.echo(f"queue {name} was paused already, since {_when(pause.paused_at)} ({pause.reason})")


@queues.command("resume")
@_app_options
@click.argument("name")
@click.pass_context
@_friendly
def queues_resume(ctx: click.Context, app_spec: str | None, url: str | None, name: str) -> None:
    """Let servers claim a paused queue's jobs again."""
    app = _queue_app(ctx, app_spec, url)
    if app.queues.resume(name, reason="resumed from the command line"):
        click.echo(f"queue {name} resumed")
    else:
        click.echo(f"queue {name} was not paused")


@main.group()
def recurring() -> None:
    """List, trigger, pause, resume and remove recurring jobs."""


@recurring.command("list")
@_app_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@_friendly
def recurring_list(app_spec: str | None, url: str | None, as_json: bool) -> None:
    """Every recurring job with its schedule and next run."""
    app = _open(app_spec, url)
    for item in app.recurring.list():
        if as_json:
            click.echo(_serialization.dumps(dataclasses.asdict(_redacted(app, item))))
            continue
        next_run = item.next_run.isoformat(timespec="seconds") if item.next_run else "-"
        state = "paused" if item.paused else f"next {next_run}"
        click.echo(
            f"{item.id:<20} {item.cron:<16} {item.timezone:<16} {state:<32} "
            f"{item.name}  ({item.description})"
        )


def _recurring_action(
    name: str, done: str, help_text: str, act: Callable[[Backburner, str], bool]
) -> click.Command:
    @_app_options
    @click.argument("recurring_id")
    @_friendly
    def command(app_spec: str | None, url: str | None, recurring_id: str) -> None:
        if not act(_open(app_spec, url), recurring_id):
            raise click.ClickException(f"no recurring job with id {recurring_id!r}")
        click.echo(f"recurring job {recurring_id} {done}")

    return click.command(name, help=help_text)(command)


recurring.add_command(
    _recurring_action(
        "pause", "paused", "Pause a recurring job.", lambda a, r: a.recurring.pause(r)
    )
)
recurring.add_command(
    _recurring_action(
        "resume",
        "resumed",
        "Resume a recurring job from its next instant after now.",
        lambda a, r: a.recurring.resume(r),
    )
)
recurring.add_command(
    _recurring_action(
        "remove", "removed", "Remove a recurring job.", lambda a, r: a.recurring.remove(r)
    )
)


@recurring.command("trigger")
@_app_options
@click.argument("recurring_id")
@_friendly
def recurring_trigger(app_spec: str | None, url: str | None, recurring_id: str) -> None:
    """Enqueue a run now (the schedule is unchanged); prints the job id."""
    click.echo(_open(app_spec, url).recurring.trigger(recurring_id))


# --- RabbitMQ -----------------------------------------------------------------------------

BROKER_HELP = "Broker URL (default: the app's rabbitmq.url setting, $BACKBURNER__RABBITMQ__URL)."


@main.group()
def rabbitmq() -> None:
    """RabbitMQ consumers: their dead-letter queues."""


@rabbitmq.group()
def dead() -> None:
    """Read a consumer's dead-letter queue (QUEUE.dead), or send its messages back."""


def _broker(app_spec: str | None, broker: str | None) -> str:
    if broker:
        return broker
    settings = load_app(app_spec).settings if app_spec else Settings()
    return settings.rabbitmq.url


def _broker_call(call: Callable[[], Any]) -> Any:
    """Run a broker call; its errors as one line."""
    import asyncio

    from .rabbitmq import _driver

    try:
        _driver.require()
    except ImportError as error:
        raise click.ClickException(str(error)) from None
    from .rabbitmq._dead import BrokerError

    try:
        return asyncio.run(call())
    except BrokerError as error:
        raise click.ClickException(str(error)) from None


def _broker_options(func: F) -> F:
    func = click.option("--broker", help=BROKER_HELP)(func)
    return click.option("--app", "app_spec", help=APP_HELP)(func)


@dead.command("list")
@_broker_options
@click.argument("queue")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@_friendly
def dead_list(
    app_spec: str | None, broker: str | None, queue: str, limit: int, as_json: bool
) -> None:
    """The messages of QUEUE.dead, oldest first, and why each is there; they stay there."""
    from .rabbitmq._dead import dead_list as read

    url = _broker(app_spec, broker)
    total, found = _broker_call(lambda: read(url, queue, limit))
    for message in found:
        body = message.body.decode("utf-8", "replace")
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "message_id": message.message_id,
                        "queue": message.queue,
                        "reason": message.reason,
                        "error_type": message.error_type,
                        "error": message.error,
                        "deliveries": message.deliveries,
                        "failed_at": message.failed_at.isoformat() if message.failed_at else None,
                        "body": body,
                    }
                )
            )
            continue
        failed = message.failed_at.isoformat(timespec="seconds") if message.failed_at else "-"
        error = f"{message.error_type}: {message.error}" if message.error_type else message.error
        click.echo(
            f"{message.message_id or '-'}  {message.reason or '-'}  {failed}  "
            f"deliveries={message.deliveries}  {error or ''}\n    {body[:200]}"
        )
    if not as_json:
        click.echo(f"{total} message(s) in {queue}.dead", err=True)


@dead.command("requeue")
@_broker_options
@click.argument("queue")
@click.option("--limit", type=click.IntRange(min=1), help="Move at most this many.")
@_friendly
def dead_requeue(app_spec: str | None, broker: str | None, queue: str, limit: int | None) -> None:
    """Move the messages of QUEUE.dead back to the queue they came from, with a fresh
    delivery count."""
    from .rabbitmq._dead import dead_requeue as move

    url = _broker(app_spec, broker)
    moved = _broker_call(lambda: move(url, queue, limit))
    click.echo(f"{moved} message(s) moved from {queue}.dead back to {queue}")
