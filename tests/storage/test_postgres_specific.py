"""What only the PostgreSQL backend has: schemas, migrations, reconnecting, NOTIFY."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import psycopg
import pytest

from backburner import _serialization
from backburner._records import ServerInfo
from backburner._states import JobState, continuation_release
from backburner.storage import NamesQuery, NewJob, Outcome, open_storage
from backburner.storage._ports import ThreadedPort
from backburner.storage._sql import load_migrations
from backburner.storage._url import StorageError
from backburner.storage.postgres import PostgresStorage
from backburner.storage.postgres import storage as postgres_storage_module
from tests.support import POSTGRES_URL, drop_schema, fresh_schema, postgres_storage, wait_until

from .conftest import T0, at, new_job

pytestmark = pytest.mark.postgres

PACKAGE = "backburner.storage.postgres"


@pytest.fixture
def store() -> Iterator[PostgresStorage]:
    with postgres_storage() as storage:
        yield storage


@pytest.fixture
def schema() -> Iterator[str]:
    """A schema name that nothing uses yet, dropped afterwards."""
    name = fresh_schema()
    yield name
    drop_schema(name)


def admin_query(sql: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def schema_objects(schema: str) -> list[tuple[object, ...]]:
    """Tables, indexes and sequences with their definitions: the shape of a schema."""
    return admin_query(
        """
        SELECT c.relname, c.relkind, c.reloptions::text,
               pg_get_indexdef(c.oid),
               (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                  || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                                  ', ' ORDER BY a.attnum)
                FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                  AND NOT a.attisdropped)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s ORDER BY c.relname
        """,
        schema,
    )


# --- schemas and migrations --------------------------------------------------------------


def test_migrate_creates_the_schema_and_records_every_migration_in_order(schema: str) -> None:
    store = PostgresStorage(POSTGRES_URL, schema=schema)
    try:
        store.migrate()
        files = [(version, name) for version, name, _ in load_migrations(PACKAGE)]
        assert [name for _, name in files][:2] == ["0001_initial.sql", "0002_recurring.sql"]
        assert store.applied_migrations() == files
        tables = {row[0] for row in schema_objects(schema) if row[1] == "r"}
        assert tables == {
            "bb_jobs",
            "bb_servers",
            "bb_leases",
            "bb_recurring",
            "bb_migrations",
            "bb_throughput",
            "bb_queue_pauses",
        }
    finally:
        store.close()


def test_migrating_again_changes_nothing(store: PostgresStorage) -> None:
    # A fresh schema is built by applying every migration in order, so "migrations equal a
    # fresh schema" holds by construction; what can go wrong is a second run.
    before = schema_objects(store.schema)
    applied = store.applied_migrations()
    store.migrate()
    assert schema_objects(store.schema) == before
    assert store.applied_migrations() == applied


def test_an_upgraded_schema_equals_a_fresh_one(schema: str) -> None:
    """A schema that lived at each older version, with jobs in it, ends up like a new one."""
    migrations = load_migrations(PACKAGE)
    with postgres_storage() as fresh:
        expected = normalized_objects(fresh.schema)
    # Play an older release: only the first migration, recorded the way migrate() does.
    version, name, script = migrations[0]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(
            "CREATE TABLE bb_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(script.encode())
        conn.execute("INSERT INTO bb_migrations (version, name) VALUES (%s, %s)", (version, name))
    store = PostgresStorage(POSTGRES_URL, schema=schema)
    try:
        [job_id] = store.job_insert_many([new_job(args='[1, "kept"]')], T0)
        store.migrate()
        assert normalized_objects(schema) == expected
        assert store.applied_migrations() == [(v, n) for v, n, _ in migrations]
        job = store.job_get(job_id)
        assert job is not None
        assert job.state is JobState.ENQUEUED
    finally:
        store.close()


def normalized_objects(schema: str) -> list[tuple[object, ...]]:
    """``schema_objects`` with the schema's own name taken out, to compare two schemas."""
    return [
        tuple(
            value.replace(schema, "<schema>") if isinstance(value, str) else value for value in row
        )
        for row in schema_objects(schema)
    ]


def test_many_storages_may_migrate_at_once(schema: str) -> None:
    stores = [PostgresStorage(POSTGRES_URL, schema=schema) for _ in range(6)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(stores))

    def migrate(store: PostgresStorage) -> None:
        barrier.wait()
        try:
            store.migrate()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        versions = admin_query(f'SELECT version FROM "{schema}".bb_migrations ORDER BY version')
        assert [v for (v,) in versions] == [v for v, _, _ in load_migrations(PACKAGE)]
    finally:
        for store in stores:
            store.close()


def test_two_schemas_in_one_database_never_see_each_other(schema: str) -> None:
    with postgres_storage() as first:
        second = PostgresStorage(POSTGRES_URL, schema=schema)
        try:
            second.migrate()
            [mine] = first.job_insert_many([new_job("first.task")], T0)
            [theirs] = second.job_insert_many([new_job("second.task")], T0)
            assert [j.name for j in first.job_list()] == ["first.task"]
            assert [j.name for j in second.job_list()] == ["second.task"]
            # Ids are per schema, so the same number may name a different job in each.
            assert mine == theirs
            assert second.job_get(mine).name == "second.task"  # type: ignore[union-attr]
            assert [c.name for c in second.job_claim("s", ["default"], 10, at(1))] == [
                "second.task"
            ]
            assert first.job_get(mine).state is JobState.ENQUEUED  # type: ignore[union-attr]
            first.lease_acquire("maintenance", "a", until=at(60), now=T0)
            assert second.lease_acquire("maintenance", "b", until=at(60), now=T0)
        finally:
            second.close()


def test_open_storage_takes_the_schema_from_the_url(schema: str) -> None:
    store = open_storage(f"{POSTGRES_URL}?schema={schema}")
    try:
        assert isinstance(store, PostgresStorage)
        assert store.schema == schema
        store.migrate()
        store.job_insert_many([new_job()], T0)
        assert admin_query(f'SELECT count(*) FROM "{schema}".bb_jobs') == [(1,)]
    finally:
        store.close()


def test_schema_names_are_checked() -> None:
    with pytest.raises(ValueError, match="schema name"):
        PostgresStorage(POSTGRES_URL, schema='jobs"; DROP TABLE x; --')


def test_a_long_schema_name_still_gets_a_valid_channel(schema: str) -> None:
    long_name = schema + "_" + "x" * (63 - len(schema) - 1)
    store = PostgresStorage(POSTGRES_URL, schema=long_name)
    try:
        assert len(store.channel) <= 63
        store.migrate()
        store.job_insert_many([new_job()], T0)  # NOTIFY rejects names over 63 bytes
    finally:
        store.close()
        drop_schema(long_name)


# --- data round trips ------------------------------------------------------------------


def test_arguments_come_back_as_the_exact_json_text_stored(store: PostgresStorage) -> None:
    # Stored as text, not jsonb: jsonb would turn 1e16 into an int and refuse \u0000.
    value = [1e16, 0.1, "nul \x00 here", {"__bb__": "uuid", "v": str(uuid.UUID(int=7))}]
    args = _serialization.dumps(value)
    [job_id] = store.job_insert_many([new_job(args=args)], T0)
    job = store.job_get(job_id)
    assert job is not None
    assert job.args == _serialization.loads(args)
    assert isinstance(job.args[0], float)
    [claimed] = store.job_claim("s1", ["default"], 1, at(1))
    assert claimed.args == args


def test_a_big_batch_keeps_its_order_and_mixed_columns(store: PostgresStorage) -> None:
    jobs = [
        new_job(
            f"task{i % 3}",
            queue=f"q{i % 2}",
            args=f"[{i}]",
            run_at=at(i % 5),
            state=JobState.SCHEDULED if i % 7 == 0 else JobState.ENQUEUED,
            reason="r" if i % 11 == 0 else None,
            unique_key=f"k{i}" if i % 13 == 0 else None,
        )
        for i in range(3000)
    ]
    ids = store.job_insert_many(jobs, T0)
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)
    for job_id, job in zip(ids[::97], jobs[::97], strict=True):
        stored = store.job_get(job_id)
        assert stored is not None
        assert (stored.name, stored.queue, stored.run_at, stored.state) == (
            job.name,
            job.queue,
            job.run_at,
            job.state,
        )
        assert stored.args == json.loads(job.args)
        assert stored.history[0].reason == job.reason


def test_repeated_unique_keys_in_one_batch_share_one_job(store: PostgresStorage) -> None:
    [older] = store.job_insert_many([new_job(unique_key="old")], T0)
    ids = store.job_insert_many(
        [
            new_job(unique_key="new"),
            new_job(),
            new_job(unique_key="new"),
            new_job(unique_key="old"),
        ],
        T0,
    )
    assert ids[0] == ids[2]
    assert ids[3] == older
    assert len(set(ids)) == 3
    assert len(store.job_list()) == 3


def test_concurrent_inserts_of_one_unique_key_make_one_job(store: PostgresStorage) -> None:
    results: list[str] = []
    barrier = threading.Barrier(8)

    def insert() -> None:
        barrier.wait()
        [job_id] = store.job_insert_many([new_job(unique_key="once")], T0)
        results.append(job_id)

    threads = [threading.Thread(target=insert) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len(set(results)) == 1
    assert len(store.job_list()) == 1


@pytest.mark.parametrize("parent_state", [JobState.SUCCEEDED, JobState.FAILED, JobState.DELETED])
@pytest.mark.parametrize("on", ["succeeded", "finished"])
def test_release_in_sql_follows_the_state_rules(
    store: PostgresStorage, parent_state: JobState, on: str
) -> None:
    # release_children spells continuation_release in SQL; this keeps the two in step.
    [parent] = store.job_insert_many([new_job()], T0)
    [child] = store.job_insert_many(
        [new_job(state=JobState.AWAITING, parent_id=parent, continue_on=on)], T0
    )
    if parent_state is JobState.DELETED:
        store.job_delete(parent, at(1), "by hand")
    else:
        store.job_claim("s1", ["default"], 1, at(1))
        outcome = Outcome(parent, "s1", 1, parent_state, at(1), result="null", error=None)
        assert store.job_finish_many([outcome]) == [parent]
    expected = continuation_release(parent_state, on) or JobState.AWAITING  # type: ignore[arg-type]
    job = store.job_get(child)
    assert job is not None
    assert job.state is expected
    if expected is not JobState.AWAITING:
        assert job.history[-1].reason == f"parent {parent} {parent_state.value}"


def test_continuations_added_while_parents_finish_are_never_stranded(
    store: PostgresStorage,
) -> None:
    # An insert reads its parent's state and a finish releases the parent's awaiting
    # children: whichever commits first, the child must not be left AWAITING.
    parents = store.job_insert_many([new_job() for _ in range(300)], T0)
    children: list[str] = []

    def finish_all() -> None:
        while batch := store.job_claim("s1", ["default"], 7, at(1)):
            store.job_finish_many(
                [Outcome(c.id, "s1", c.attempt, JobState.SUCCEEDED, at(2)) for c in batch]
            )

    def add_children() -> None:
        for parent in parents:
            children.extend(
                store.job_insert_many(
                    [new_job("child", queue="children", state=JobState.AWAITING, parent_id=parent)],
                    at(1),
                )
            )

    threads = [threading.Thread(target=finish_all), threading.Thread(target=add_children)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(children) == len(parents)
    assert store.job_counts()[JobState.AWAITING] == 0
    assert store.queue_counts()["children"] == len(parents)


def test_pipelined_statements_commit_together(store: PostgresStorage) -> None:
    # job_delete, job_finish_many and server_remove rely on this: statements pipelined
    # without a sync between them form one transaction.
    store._q["fail"] = "SELECT 1 / 0"
    info = ServerInfo("s1", "host", 1, ("default",), 1, T0, T0)
    heartbeat = {
        "id": info.id,
        "hostname": info.hostname,
        "pid": info.pid,
        "queues": list(info.queues),
        "workers": info.workers,
        "started_at": info.started_at,
        "heartbeat_at": info.heartbeat_at,
        "busy": info.busy,
        "hosting": "{}",
    }
    with pytest.raises(psycopg.errors.DivisionByZero):
        store._atomic(("heartbeat", heartbeat), ("fail", {}))
    assert store.server_list() == []
    store._atomic(("heartbeat", heartbeat))
    assert store.server_list() == [info]


def test_claim_with_a_queue_named_twice(store: PostgresStorage) -> None:
    ids = store.job_insert_many([new_job() for _ in range(3)], T0)
    claimed = store.job_claim("s1", ["default", "default"], 10, at(1))
    assert [c.id for c in claimed] == ids


# --- notifications ---------------------------------------------------------------------


def test_listen_hears_jobs_enqueued_by_another_storage(store: PostgresStorage) -> None:
    heard = threading.Event()
    stop = store.listen(heard.set)
    try:
        other = PostgresStorage(POSTGRES_URL, schema=store.schema)
        try:
            # The listener connects in the background; notify until it has heard one.
            wait_until(
                lambda: other.job_insert_many([new_job()], T0) and heard.wait(0.2),
                what="a notification",
            )
        finally:
            other.close()
    finally:
        stop()


def test_notifications_can_be_turned_off(store: PostgresStorage) -> None:
    quiet = PostgresStorage(POSTGRES_URL, schema=store.schema, notifications=False)
    try:
        assert quiet.capabilities.poll_interval < store.capabilities.poll_interval
        stop = quiet.listen(lambda: None)
        stop()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'LISTEN "{store.channel}"')
            quiet.job_insert_many([new_job()], T0)
            [job_id] = quiet.job_insert_many([new_job(queue="other")], T0)
            quiet.job_requeue(job_id, at(1), "again")
            assert list(conn.notifies(timeout=0.3)) == []
            store.job_insert_many([new_job()], T0)
            assert [n.payload for n in conn.notifies(timeout=2, stop_after=1)] == ["default"]
    finally:
        quiet.close()


def test_one_notification_per_queue_per_transaction(store: PostgresStorage) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'LISTEN "{store.channel}"')
        store.job_insert_many(
            [
                new_job(queue="a"),
                new_job(queue="b"),
                new_job(queue="a"),
                new_job(queue="c", state=JobState.SCHEDULED, run_at=at(9)),
            ],
            T0,
        )
        payloads = sorted(n.payload for n in conn.notifies(timeout=0.5))
    assert payloads == ["a", "b"]


# --- connections -----------------------------------------------------------------------


def _backends(application_name: str) -> int:
    [(count,)] = admin_query(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", application_name
    )
    assert isinstance(count, int)
    return count


def test_calls_work_again_after_the_backends_are_terminated(schema: str) -> None:
    name = f"bb-test-{uuid.uuid4().hex[:8]}"
    store = PostgresStorage(POSTGRES_URL, schema=schema, application_name=name, pool_min_size=3)
    calls = threading.Event()
    try:
        store.migrate()
        [job_id] = store.job_insert_many([new_job()], T0)
        stop = store.listen(calls.set)
        wait_until(lambda: _backends(name) >= 2, what="pool and listener connections")
        # What a server restart does to every connection, without restarting the server
        # other tests are using.
        killed = [
            pid
            for (pid,) in admin_query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", name
            )
        ]
        admin_query("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", killed)
        assert len(killed) >= 2
        wait_until(
            lambda: not admin_query("SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s)", killed),
            what="the terminated backends to exit",
        )
        assert store.job_get(job_id) is not None
        assert [c.id for c in store.job_claim("s1", ["default"], 5, at(1))] == [job_id]
        assert store.job_finish_many([Outcome(job_id, "s1", 1, JobState.SUCCEEDED, at(2))]) == [
            job_id
        ]
        # The listener reconnects too, and says it may have missed something.
        wait_until(calls.is_set, what="the listener to reconnect")
        calls.clear()
        store.job_insert_many([new_job()], T0)
        wait_until(calls.is_set, what="a notification after reconnecting")
        stop()
    finally:
        store.close()


def test_an_unreachable_server_raises_storage_error_quickly() -> None:
    url = "postgresql://postgres:secret@127.0.0.1:1/test"
    store = PostgresStorage(url, schema="unreachable", pool_timeout=1.0, connect_timeout=1.0)
    try:
        started = time.monotonic()
        with pytest.raises(StorageError, match=r"127\.0\.0\.1:1") as raised:
            store.job_get("1")
        assert time.monotonic() - started < 5
        assert "secret" not in str(raised.value)
    finally:
        store.close()


def test_an_exhausted_pool_says_so(schema: str) -> None:
    store = PostgresStorage(POSTGRES_URL, schema=schema, pool_max_size=1, pool_timeout=0.3)
    try:
        store.migrate()
        with store._db.connection(), pytest.raises(StorageError, match="stayed busy"):
            store.job_get("1")
        assert store.job_get("1") is None
    finally:
        store.close()


def test_the_pool_is_sized_from_the_url(schema: str) -> None:
    store = open_storage(f"{POSTGRES_URL}?schema={schema}&pool_max_size=1&pool_timeout=0.3")
    assert isinstance(store, PostgresStorage)
    try:
        store.migrate()
        with store._db.connection(), pytest.raises(StorageError, match=r"within 0\.3s"):
            store.job_get("1")
    finally:
        store.close()
    with pytest.raises(StorageError, match="pool_timeout= takes a number"):
        open_storage(f"{POSTGRES_URL}?pool_timeout=soon")


def test_a_closed_storage_says_so(store: PostgresStorage) -> None:
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.job_get("1")
    with pytest.raises(RuntimeError, match="closed"):
        store.listen(lambda: None)


def test_close_stops_listeners(schema: str) -> None:
    name = f"bb-test-{uuid.uuid4().hex[:8]}"
    store = PostgresStorage(POSTGRES_URL, schema=schema, application_name=name)
    store.migrate()
    store.listen(lambda: None)
    wait_until(lambda: _backends(name) >= 2, what="the listener to connect")
    store.close()
    wait_until(lambda: _backends(name) == 0 or None, what="every connection to close")


def test_new_jobs_are_visible_to_other_processes_at_once(store: PostgresStorage) -> None:
    other = PostgresStorage(POSTGRES_URL, schema=store.schema)
    try:
        assert other.capabilities.shared_across_processes
        ids = store.job_insert_many([new_job(), new_job()], T0)
        claims = other.job_claim("s2", ["default"], 10, at(1))
        assert [c.id for c in claims] == ids
        assert store.job_lost("s2", claims) == []
    finally:
        other.close()


def test_insert_rolls_back_entirely_when_a_parent_is_unknown(store: PostgresStorage) -> None:
    [parent] = store.job_insert_many([new_job()], T0)
    with pytest.raises(LookupError):
        store.job_insert_many(
            [
                new_job(state=JobState.AWAITING, parent_id=parent),
                new_job(state=JobState.AWAITING, parent_id="not-a-number"),
            ],
            T0,
        )
    assert len(store.job_list()) == 1


def test_new_job_defaults_round_trip(store: PostgresStorage) -> None:
    job = NewJob(
        name="n",
        queue="q",
        args="[]",
        kwargs='{"a":1}',
        state=JobState.SCHEDULED,
        run_at=at(30),
        recurring_id="r",
        due_at=at(30),
    )
    [job_id] = store.job_insert_many([job], T0)
    stored = store.job_get(job_id)
    assert stored is not None
    assert (stored.kwargs, stored.recurring_id, stored.run_at) == ({"a": 1}, "r", at(30))
    assert store.job_next_due() == at(30)


def test_a_claims_commit_mode_stays_with_the_claim(schema: str) -> None:
    # Claims commit without waiting for the disk; the connection they ran on must go back
    # to the pool waiting for it, or the enqueues made on it next could be lost in a crash.
    store = PostgresStorage(POSTGRES_URL, schema=schema, pool_min_size=1, pool_max_size=1)
    try:
        store.migrate()
        store.job_insert_many([new_job()], T0)
        assert len(store.job_claim("s1", ["default"], 1, at(1))) == 1
        mode = store._work(lambda conn: conn.execute("SHOW synchronous_commit").fetchone())
        assert mode == ("on",)
    finally:
        store.close()


def test_the_claim_port_claims_and_records_like_the_pooled_calls(store: PostgresStorage) -> None:
    [first, second, third] = store.job_insert_many([new_job(args=f"[{i}]") for i in range(3)], T0)
    [child] = store.job_insert_many(
        [new_job(state=JobState.AWAITING, parent_id=first, continue_on="succeeded")], T0
    )
    writer = store.claim_port()

    async def server_side() -> tuple[list[str], list[str]]:
        try:
            claimed = await writer.job_claim("s1", ["default", "default"], 2, at(1))
            recorded = await writer.job_finish_many(
                [
                    Outcome(first, "s1", 1, JobState.SUCCEEDED, at(2), result="7"),
                    Outcome(second, "s1", 2, JobState.SUCCEEDED, at(2)),  # a stale attempt
                ]
            )
            return [job.id for job in claimed], recorded
        finally:
            await writer.close()

    assert asyncio.run(server_side()) == ([first, second], [first])
    states = {job_id: store.job_get(job_id) for job_id in (first, second, third, child)}
    assert {job_id: job.state for job_id, job in states.items() if job} == {
        first: JobState.SUCCEEDED,
        second: JobState.PROCESSING,
        third: JobState.ENQUEUED,
        child: JobState.ENQUEUED,  # released in the same round trip as its parent's outcome
    }
    done = states[first]
    assert done is not None
    assert done.result == 7
    with pytest.raises(ValueError, match="cannot move a job to processing"):
        asyncio.run(writer.job_finish_many([Outcome(third, "s1", 1, JobState.PROCESSING, at(3))]))


def test_the_claim_port_connects_again_after_its_connections_are_terminated(
    schema: str,
) -> None:
    name = f"bb-test-{uuid.uuid4().hex[:8]}"
    store = PostgresStorage(POSTGRES_URL, schema=schema, application_name=name)
    try:
        store.migrate()
        [job_id] = store.job_insert_many([new_job()], T0)
        writer = store.claim_port()

        async def server_side() -> list[str]:
            try:
                assert await writer.job_claim("s1", ["default"], 1, at(1)) != []
                admin_query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    name,
                )
                await asyncio.sleep(0.2)  # the terminated backend's goodbye arrives
                # The goodbye is noticed before the next call, which goes out on a new
                # connection instead of failing.
                assert await writer.job_claim("s1", ["default"], 1, at(1)) == []
                return await writer.job_finish_many(
                    [Outcome(job_id, "s1", 1, JobState.SUCCEEDED, at(2))]
                )
            finally:
                await writer.close()

        assert asyncio.run(server_side()) == [job_id]
    finally:
        store.close()


def test_names_are_found_and_sorted_by_code_point_under_a_linguistic_collation(
    store: PostgresStorage,
) -> None:
    # A database created with a locale such as en_US sorts "b0" between "B" and "B1": the
    # names starting with a prefix are then not one range of the index.
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(
            f'ALTER TABLE "{store.schema}".bb_jobs'
            ' ALTER COLUMN queue TYPE text COLLATE "en-x-icu",'
            ' ALTER COLUMN name TYPE text COLLATE "en-x-icu"'
        )
    jobs = [new_job(name, queue=queue) for name, queue in (("b.x", "b0"), ("B.y", "B1"))]
    store.job_insert_many([*jobs, new_job(queue="B2")], T0)
    assert store.queue_names(NamesQuery(prefix="B")) == ["B1", "B2"]
    assert store.queue_names(NamesQuery()) == ["B1", "B2", "b0"]  # as sorted() has them
    assert store.job_names(NamesQuery()) == ["B.y", "b.x", "task"]


def test_where_asyncio_cannot_drive_psycopg_the_claim_port_uses_threads(
    store: PostgresStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres_storage_module, "sys", SimpleNamespace(platform="win32"))
    [job_id] = store.job_insert_many([new_job()], T0)
    port = store.claim_port()
    assert isinstance(port, ThreadedPort)

    async def server_side() -> list[str]:
        try:
            [claimed] = await port.job_claim("s1", ["default"], 5, at(1))
            return await port.job_finish_many(
                [Outcome(claimed.id, "s1", 1, JobState.SUCCEEDED, at(2))]
            )
        finally:
            await port.close()

    assert asyncio.run(server_side()) == [job_id]
