"""Bad input at the API: a clear TypeError, ValueError or LookupError, and nothing stored."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import pytest

from backburner import Backburner, StorageError
from backburner._names import MAX_NAME_LENGTH
from backburner._serialization import MAX_DEPTH
from backburner.server.server import ServerOptions
from backburner.storage import open_storage
from backburner.storage._rows import int_id
from backburner.storage._url import redact, scrub
from backburner.storage.postgres._connections import conninfo


@pytest.fixture
def app() -> Iterator[Backburner]:
    app = Backburner("memory://")
    try:
        yield app
    finally:
        app.close()


def _stored(app: Backburner) -> int:
    return sum(app.stats().as_dict()[state] for state in ("enqueued", "scheduled"))


UNFIT_NAMES = [
    ("", "cannot be empty"),
    ("a\x00b", r"cannot hold control characters .*'\\x00' at position 1"),
    ("tab\there", "cannot hold control characters"),
    ("caf\udce9", "cannot hold control characters or lone surrogates"),
    ("q" * (MAX_NAME_LENGTH + 1), f"is at most {MAX_NAME_LENGTH} characters, not 201"),
]


@pytest.mark.parametrize(("name", "why"), UNFIT_NAMES, ids=repr)
def test_unfit_job_and_queue_names_are_refused_before_anything_is_stored(
    app: Backburner, name: str, why: str
) -> None:
    @app.job
    def work() -> None: ...

    with pytest.raises(ValueError, match=f"a job name {why}"):
        app.enqueue(name)
    with pytest.raises(ValueError, match=f"a job name {why}"):
        app.job(name=name)(lambda: None)
    with pytest.raises(ValueError, match=f"a queue name for job '.*work' {why}"):
        work.with_options(queue=name).schedule(1)
    with pytest.raises(ValueError, match=f"a queue name for job 'other' {why}"):
        app.job(name="other", queue=name)(lambda: None)
    with pytest.raises(ValueError, match=f"a recurring job id {why}"):
        app.recurring.add_or_update(name, work, "0 6 * * *")
    with pytest.raises(ValueError, match=f"a queue name for recurring job 'r' {why}"):
        app.recurring.add_or_update("r", work, "0 6 * * *", queue=name)
    with pytest.raises(ValueError, match=f"a queue name {why}"):
        ServerOptions(queues=("default", name))
    assert _stored(app) == 0
    assert app.recurring.list() == []


def test_names_at_the_bound_and_in_any_script_are_stored(app: Backburner) -> None:
    longest = "n" * MAX_NAME_LENGTH
    job_id = app.enqueue("работа.📨")
    assert app.jobs.get(job_id).name == "работа.📨"  # type: ignore[union-attr]
    job_id = app._client.enqueue(app._resolve(longest), [], {})
    assert app.jobs.get(job_id).name == longest  # type: ignore[union-attr]


def test_a_name_that_is_not_a_str_is_a_type_error(app: Backburner) -> None:
    with pytest.raises(TypeError, match="a queue name must be a str, not int"):
        ServerOptions(queues=(1,))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a recurring job id must be a str, not NoneType"):
        app.recurring.add_or_update(None, "x", "0 6 * * *")  # type: ignore[arg-type]


def test_lookups_of_names_no_storage_can_hold_find_nothing(app: Backburner) -> None:
    assert app.jobs.list(queue="q\x00") == []
    assert app.recurring.get("r\x00") is None
    assert app.recurring.pause("r\udce9") is False
    assert app.recurring.resume("r\x00") is False
    assert app.recurring.remove("r\x00") is False
    with pytest.raises(LookupError, match="no recurring job"):
        app.recurring.trigger("r\x00")


@pytest.mark.parametrize(
    ("when", "why"),
    [
        (math.inf, "finite delay in seconds, not inf"),
        (-math.inf, "finite delay in seconds, not -inf"),
        (math.nan, "finite delay in seconds, not nan"),
        (1e20, "outside the years 1 to 9999"),
        (10**400, "outside the years 1 to 9999"),
        (dt.timedelta.max, "outside the years 1 to 9999"),
        (dt.timedelta.min, "outside the years 1 to 9999"),
        (dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), "once in UTC"),
        (dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=2))), "in UTC"),
    ],
    ids=repr,
)
def test_a_run_time_out_of_range_is_a_value_error(app: Backburner, when: Any, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        app.schedule("work", when)
    assert _stored(app) == 0


def test_run_times_at_the_edges_of_the_calendar_are_stored(app: Backburner) -> None:
    first = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    last = dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC)
    for when in (first, last):
        assert app.jobs.get(app.schedule("work", when)).run_at == when  # type: ignore[union-attr]


def test_arguments_no_storage_can_hold_are_refused_naming_them(app: Backburner) -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(TypeError, match=r"argument 0 of job 'work'.*dict keys must be strings"):
        app.enqueue("work", {1: "a", "1": "b"})
    with pytest.raises(TypeError, match=r"argument 'x' of job 'work'.*lone surrogate"):
        app.enqueue("work", x="caf\udce9")
    with pytest.raises(TypeError, match=rf"argument 0 of job 'work'.*more than {MAX_DEPTH} deep"):
        app.enqueue("work", deep)
    work = app.job(name="work")(lambda *args: None)
    with pytest.raises(TypeError, match=r"call 1 of enqueue_many\(\): argument 0 .*dict keys"):
        work.enqueue_many([(1,), ({2: 3},)])
    with pytest.raises(TypeError, match=r"keyword argument names of job 'work' must be strings"):
        app.recurring.add_or_update("r", "work", "0 6 * * *", kwargs={1: "a"})  # type: ignore[dict-item]
    assert _stored(app) == 0
    assert app.recurring.list() == []


@pytest.mark.parametrize(
    "job_id", ["\u0661", "1_0", " 1", "1 ", "+1", "-1", "0", "1.0", "", "9" * 30]
)
def test_only_plain_ascii_digits_name_a_job(app: Backburner, job_id: str) -> None:
    ids = [app.enqueue("work") for _ in range(10)]
    assert ids[0] == "1"
    assert int_id(job_id) is None
    assert app.jobs.get(job_id) is None
    assert app.jobs.delete(job_id) is False


def test_plain_ids_still_name_their_jobs(app: Backburner) -> None:
    job_id = app.enqueue("work")
    assert int_id(job_id) == 1
    assert app.jobs.get(job_id) is not None
    assert app.jobs.get(1) is not None  # type: ignore[arg-type]


def test_a_page_of_jobs_is_bounded(app: Backburner) -> None:
    with pytest.raises(
        ValueError, match="limit must be from 0 to 10000, not 1180591620717411303424"
    ):
        app.jobs.list(limit=2**70)
    with pytest.raises(ValueError, match="offset must be from 0 to"):
        app.jobs.list(offset=2**64)
    with pytest.raises(ValueError, match="limit must be from 0 to 10000, not -1"):
        app.jobs.list(limit=-1)
    with pytest.raises(TypeError, match="limit must be an int, not str"):
        app.jobs.list(limit="5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"state= takes one of enqueued, .*, not 'bogus'"):
        app.jobs.list(state="bogus")
    assert app.jobs.list(limit=10_000) == []


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"cron": None}, "cron= takes a cron expression .*not NoneType"),
        ({"cron": 5}, "cron= takes a cron expression .*not int"),
        ({"cron": "0 6 * * *", "timezone": 1}, "timezone= takes an IANA name .*not int"),
        ({"cron": "0 6 * * *", "args": "ab"}, "args= takes a list or tuple, not str"),
        ({"cron": "0 6 * * *", "kwargs": [1]}, "kwargs= takes a dict, not list"),
    ],
    ids=repr,
)
def test_recurring_arguments_of_the_wrong_type(
    app: Backburner, options: dict[str, Any], why: str
) -> None:
    with pytest.raises(TypeError, match=why):
        app.recurring.add_or_update("r", "work", **options)
    assert app.recurring.list() == []


def test_a_schedule_declared_on_a_job_is_checked_at_once(app: Backburner) -> None:
    with pytest.raises(TypeError, match="timezone= takes an IANA name"):
        app.job(name="nightly", cron="0 3 * * *", timezone=2)(lambda: None)  # type: ignore[call-overload]


# --- storage URLs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:s3cret@db:5432/jobs", "postgresql://app:***@db:5432/jobs"),
        ("postgresql://app@db/jobs?password=s3cret", "postgresql://app@db/jobs?password=***"),
        (
            "postgresql://db/jobs?user=app&PASSWORD=s3cret&sslpassword=s3cret&schema=ws",
            "postgresql://db/jobs?user=app&PASSWORD=***&sslpassword=***&schema=ws",
        ),
        ("postgresql://db/jobs?pass%77ord=s3cret", "postgresql://db/jobs?pass%77ord=***"),
        ("postgresql://app:s3c@ret@db/jobs", "postgresql://app:***@db/jobs"),
        ("postgresql://app:s3?cret@db/jobs", "postgresql://app:***@db/jobs"),
        (
            "postgresql://db/jobs?oauth_client_secret=s3cret",
            "postgresql://db/jobs?oauth_client_secret=***",
        ),
        ("host=db password='s3 cret' user=app", "host=db password=*** user=app"),
        ("postgresql://app@db/jobs?schema=ws", "postgresql://app@db/jobs?schema=ws"),
        ("sqlite:///jobs.db", "sqlite:///jobs.db"),
        ("memory://", "memory://"),
    ],
)
def test_redact_hides_every_secret_of_a_url(url: str, shown: str) -> None:
    assert redact(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:s3%20cret@db/jobs",
        "postgresql://db/jobs?password=s3%20cret",
        "postgresql://db/jobs?sslpassword=s3 cret",
        "host=db password='s3 cret'",
    ],
)
def test_scrub_masks_the_secrets_of_a_url_in_any_message(url: str) -> None:
    assert scrub("bad token 's3 cret' near password=x", url) == (
        "bad token '***' near password=***"
    )


def test_repr_and_errors_never_show_a_password() -> None:
    app = Backburner("postgresql://app@db/jobs?password=s3cret&bogus=1")
    assert repr(app) == "Backburner('postgresql://app@db/jobs?password=***&bogus=1')"
    with pytest.raises(StorageError) as raised:
        app.stats()
    assert "s3cret" not in str(raised.value)
    with pytest.raises(StorageError) as raised:
        open_storage("postgresql://app:s3cret@db/jobs?password=s3cret&foo=bar")
    assert "s3cret" not in str(raised.value)
    # Nothing listens on port 1: the pool gives up and says where it could not connect.
    app = Backburner(
        "postgresql://app:s3cret@127.0.0.1:1/jobs?sslpassword=s3cret&pool_timeout=0.5",
        connect_timeout=1,
    )
    with pytest.raises(
        StorageError, match=r"no connection to PostgreSQL at postgresql://app:\*\*\*@"
    ) as raised:
        app.stats()
    assert "s3cret" not in str(raised.value)


def test_an_unknown_url_parameter_is_named_with_the_known_ones() -> None:
    with pytest.raises(StorageError) as raised:
        conninfo("postgresql://db/jobs?foo=bar", connect_timeout=1, application_name="x")
    message = str(raised.value)
    assert message.startswith(
        "unknown parameter ?foo= in PostgreSQL URL 'postgresql://db/jobs?foo=bar'"
    )
    assert (
        "Backburner takes notifications, pool_max_size, pool_min_size, pool_timeout, schema"
        in message
    )
    assert "libpq takes " in message
    assert "sslmode" in message
    assert "\n" not in message


def test_known_url_parameters_pass() -> None:
    info = conninfo(
        "postgresql://db/jobs?sslmode=disable&schema=ws&pool_timeout=2",
        connect_timeout=1,
        application_name="x",
    )
    assert "sslmode=disable" in info
    assert "schema" not in info


@pytest.mark.parametrize(
    ("url", "options"),
    [("postgresql://db/jobs?schema=", {}), ("postgresql://db/jobs", {"schema": ""})],
)
def test_an_empty_schema_name_is_refused(url: str, options: dict[str, Any]) -> None:
    with pytest.raises(StorageError, match="an empty schema name in 'postgresql://db/jobs"):
        open_storage(url, **options)


def test_a_result_no_storage_can_hold_fails_its_job(app: Backburner) -> None:
    @app.job
    def deep() -> Any:
        value: Any = []
        for _ in range(100_000):
            value = [value]
        return value

    @app.job
    def surrogate() -> str:
        return "caf\udce9"

    @app.job
    def int_keys() -> dict[int, str]:
        return {1: "a", 2: "b"}

    ids = [deep.enqueue(), surrogate.enqueue(), int_keys.enqueue()]
    with app.start_server(workers=2, server_timeout=1.5):
        jobs = [app.jobs.wait(job_id, timeout=5) for job_id in ids]
    messages = [job.error.message if job.error else None for job in jobs]
    assert messages == [
        f"the result of job '{deep.name}' cannot be stored: it nests lists or dicts more than "
        f"{MAX_DEPTH} deep",
        f"the result of job '{surrogate.name}' cannot be stored: it holds a lone surrogate "
        "'\\udce9', which is not text",
        f"the result of job '{int_keys.name}' cannot be stored: dict keys must be strings, "
        "not int (1)",
    ]
    assert [job.state.value for job in jobs] == ["failed"] * 3
