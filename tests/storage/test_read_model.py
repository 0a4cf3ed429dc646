"""The read model every backend shares: search, counts, names and bulk actions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from backburner import Backburner
from backburner._records import CountCell, JobPage
from backburner._states import JobState
from backburner.storage import (
    BulkAction,
    CountQuery,
    JobQuery,
    NamesQuery,
    NewJob,
    Outcome,
    Storage,
)

from .conftest import T0, at, new_job

ERROR = json.dumps({"type": "ValueError", "message": "boom", "traceback": "Traceback..."})


def with_kwargs(job: NewJob, kwargs: Mapping[str, object]) -> NewJob:
    job.kwargs = json.dumps(kwargs)
    return job


def ids(page: JobPage) -> list[str]:
    return [job.id for job in page.jobs]


def everything(storage: Storage, query: JobQuery) -> list[str]:
    """Every matching id, page after page."""
    found: list[str] = []
    while True:
        page = storage.job_search(query)
        found += ids(page)
        if not page.has_more:
            return found
        query = dataclasses.replace(query, cursor=page.next)


def run_and_finish(storage: Storage, queue: str, state: JobState, count: int = 10) -> None:
    """Claim up to ``count`` jobs of ``queue`` and finish them in ``state``."""
    claimed = storage.job_claim("s1", [queue], count, at(1))
    storage.job_finish_many(
        [
            Outcome(
                job_id=c.id,
                server_id="s1",
                attempt=c.attempt,
                state=state,
                at=at(2),
                result="null" if state is JobState.SUCCEEDED else None,
                error=ERROR if state is JobState.FAILED else None,
            )
            for c in claimed
        ]
    )


@pytest.fixture
def mixed(storage: Storage) -> dict[str, list[str]]:
    """Jobs in several queues, names and states."""
    made: dict[str, list[str]] = {}
    made["emails"] = storage.job_insert_many(
        [new_job("emails.welcome", queue="mail", args=f'[{i}, "x"]') for i in range(3)], T0
    )
    made["reports"] = storage.job_insert_many(
        [
            with_kwargs(new_job("reports.daily", queue="reports"), kw)
            for kw in ({"user_id": 42, "tags": ["a", "b"]}, {"user_id": 7}, {})
        ],
        T0,
    )
    made["later"] = storage.job_insert_many(
        [new_job("emails.digest", queue="mail", state=JobState.SCHEDULED, run_at=at(3600))], T0
    )
    run_and_finish(storage, "reports", JobState.FAILED, count=1)  # reports[0] fails
    return made


def test_search_lists_newest_first_with_summaries(
    storage: Storage, mixed: dict[str, list[str]]
) -> None:
    page = storage.job_search(JobQuery())
    every = mixed["emails"] + mixed["reports"] + mixed["later"]
    assert ids(page) == sorted(every, key=int, reverse=True)
    assert not page.has_more
    failed = next(job for job in page.jobs if job.id == mixed["reports"][0])
    assert (failed.state, failed.attempt, failed.server_id) == (JobState.FAILED, 1, "s1")
    assert (failed.error_type, failed.error_message) == ("ValueError", "boom")
    assert failed.kwargs == {"user_id": 42, "tags": ["a", "b"]}
    assert failed.started_at == at(1)
    assert failed.finished_at == at(2)
    first = next(job for job in page.jobs if job.id == mixed["emails"][0])
    assert first.args == [0, "x"]
    assert (first.error_type, first.created_at, first.run_at) == (None, T0, T0)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (JobQuery(states=(JobState.ENQUEUED,)), ["emails", "reports1", "reports2"]),
        (JobQuery(states=(JobState.FAILED, JobState.SCHEDULED)), ["reports0", "later"]),
        (JobQuery(queues=("mail",)), ["emails", "later"]),
        (JobQuery(queues=("mail", "nowhere")), ["emails", "later"]),
        (JobQuery(names=("emails.welcome",)), ["emails"]),
        (JobQuery(names=("emails.*",)), ["emails", "later"]),
        (JobQuery(names=("emails",)), []),
        (JobQuery(names=("reports.daily", "emails.dig*")), ["reports", "later"]),
        (JobQuery(args="[1]"), ["emails1"]),
        (JobQuery(args='["x", 2]'), ["emails2"]),
        (JobQuery(args='["x"]'), ["emails"]),
        (JobQuery(args="[1.0]"), ["emails1"]),
        (JobQuery(args="[true]"), []),
        (JobQuery(kwargs='{"user_id": 42}'), ["reports0"]),
        (JobQuery(kwargs='{"tags": ["b"]}'), ["reports0"]),
        (JobQuery(kwargs='{"tags": "b"}'), []),
        (JobQuery(kwargs="{}"), ["emails", "reports", "later"]),
        (JobQuery(queues=("reports",), states=(JobState.ENQUEUED,)), ["reports1", "reports2"]),
        (JobQuery(names=("reports.*",), kwargs='{"user_id": 7}'), ["reports1"]),
        (JobQuery(states=(JobState.ENQUEUED,), names=("emails.*",), args="[0]"), ["emails0"]),
        (JobQuery(queues=("mail",), states=(JobState.FAILED,)), []),
        (JobQuery(states=tuple(JobState), names=("emails.*",)), ["emails", "later"]),
    ],
)
def test_filters_alone_and_combined(
    storage: Storage, mixed: dict[str, list[str]], query: JobQuery, expected: list[str]
) -> None:
    wanted = []
    for key in expected:
        if key in mixed:
            wanted += mixed[key]
        else:
            wanted.append(mixed[key[:-1]][int(key[-1])])
    assert everything(storage, query) == sorted(wanted, key=int, reverse=True)
    assert everything(storage, dataclasses.replace(query, scan=1)) == sorted(
        wanted, key=int, reverse=True
    )


def test_search_by_ids(storage: Storage, mixed: dict[str, list[str]]) -> None:
    one = mixed["emails"][1]
    assert ids(storage.job_search(JobQuery(ids=(one,)))) == [one]
    assert ids(storage.job_search(JobQuery(ids=(one, "nope", "-3", "99999")))) == [one]
    assert ids(storage.job_search(JobQuery(ids=("nope",)))) == []
    two = (mixed["emails"][0], mixed["reports"][0])
    assert ids(storage.job_search(JobQuery(ids=two, states=(JobState.FAILED,)))) == [two[1]]
    assert ids(storage.job_search(JobQuery(ids=two, queues=("mail",)))) == [two[0]]


def test_keyset_paging_across_inserts_has_no_duplicates_or_gaps(storage: Storage) -> None:
    storage.job_insert_many([new_job("a", queue=f"q{i % 3}") for i in range(25)], T0)
    for query in (JobQuery(limit=4), JobQuery(limit=4, queues=("q0", "q1", "q2"))):
        there = ids(storage.job_search(JobQuery(limit=1000)))
        seen: list[str] = []
        page = storage.job_search(query)
        while True:
            seen += ids(page)
            # New jobs arrive between pages: they are newer, so no page after shows them.
            storage.job_insert_many([new_job("a", queue="q1")], T0)
            if not page.has_more:
                break
            page = storage.job_search(dataclasses.replace(query, cursor=page.next))
        assert seen == there


def test_a_page_with_a_residual_filter_examines_a_bounded_number_of_jobs(
    storage: Storage,
) -> None:
    storage.job_insert_many([new_job("rare")] + [new_job("common") for _ in range(9)], T0)
    page = storage.job_search(JobQuery(names=("rare",), scan=4, limit=1))
    assert page.jobs == []
    assert page.has_more  # nothing among the newest 4; more further on
    assert everything(storage, JobQuery(names=("rare",), scan=4, limit=1)) == ["1"]


def test_bad_queries_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        JobQuery(limit=1001)
    with pytest.raises(ValueError, match="limit"):
        JobQuery(limit=0)
    with pytest.raises(ValueError, match="cursor"):
        JobQuery(cursor="garbage")
    with pytest.raises(ValueError, match="threshold"):
        CountQuery(threshold=-1)
    with pytest.raises(ValueError, match="at least 1"):
        NamesQuery(limit=0)


def test_counts_are_exact_up_to_the_threshold_then_estimated(storage: Storage) -> None:
    storage.job_insert_many([new_job("a", queue="big") for _ in range(30)], T0)
    storage.job_insert_many([new_job("a", queue="small") for _ in range(3)], T0)
    run_and_finish(storage, "small", JobState.SUCCEEDED, count=1)
    cells = storage.job_count_cells(CountQuery(threshold=10))
    assert cells[("small", JobState.ENQUEUED)] == CountCell(2, exact=True)
    assert cells[("small", JobState.SUCCEEDED)] == CountCell(1, exact=True)
    big = cells[("big", JobState.ENQUEUED)]
    assert not big.exact
    assert big.count > 10
    assert set(cells) == {
        ("small", JobState.ENQUEUED),
        ("small", JobState.SUCCEEDED),
        ("big", JobState.ENQUEUED),
    }
    exact = storage.job_count_cells(CountQuery(threshold=100))
    assert exact[("big", JobState.ENQUEUED)] == CountCell(30, exact=True)
    only = storage.job_count_cells(CountQuery(states=(JobState.SUCCEEDED,), queues=("small",)))
    assert only == {("small", JobState.SUCCEEDED): CountCell(1)}


def test_names_of_queues_and_jobs(storage: Storage, mixed: dict[str, list[str]]) -> None:
    assert storage.queue_names(NamesQuery()) == ["mail", "reports"]
    assert storage.queue_names(NamesQuery(prefix="re")) == ["reports"]
    assert storage.queue_names(NamesQuery(limit=1)) == ["mail"]
    assert storage.job_names(NamesQuery()) == ["emails.digest", "emails.welcome", "reports.daily"]
    assert storage.job_names(NamesQuery(prefix="emails.")) == ["emails.digest", "emails.welcome"]


def test_oldest_enqueued_per_queue(storage: Storage) -> None:
    storage.job_insert_many([new_job("a", queue="q1", run_at=at(5))], at(5))
    storage.job_insert_many([new_job("a", queue="q1", run_at=at(9))], at(9))
    storage.job_insert_many([new_job("a", queue="q2", state=JobState.SCHEDULED, run_at=at(1))], T0)
    assert storage.queue_oldest_enqueued() == {"q1": at(5)}


def test_bulk_requeue_takes_only_finished_or_scheduled_jobs(
    storage: Storage, mixed: dict[str, list[str]]
) -> None:
    action = BulkAction(JobQuery(names=("emails.*", "reports.*")), at(10), "bulk requeue")
    assert storage.job_requeue_many(action) == 2  # the failed report and the scheduled digest
    for job_id in (mixed["reports"][0], mixed["later"][0]):
        job = storage.job_get(job_id)
        assert job is not None
        assert job.state is JobState.ENQUEUED
        assert job.history[-1].reason == "bulk requeue"
        assert job.run_at == at(10)
    assert storage.job_requeue_many(action) == 0


def test_bulk_actions_are_capped_and_go_newest_first(storage: Storage) -> None:
    made = storage.job_insert_many([new_job("a", args=f"[{i}]") for i in range(7)], T0)
    action = BulkAction(JobQuery(limit=3), at(1), "cleanup")
    assert storage.job_delete_many(action) == 3
    deleted = storage.job_search(JobQuery(states=(JobState.DELETED,)))
    assert ids(deleted) == made[-1:-4:-1]
    assert deleted.jobs[0].finished_at == at(1)
    assert storage.job_delete_many(action) == 3
    assert storage.job_delete_many(action) == 1
    assert storage.job_delete_many(action) == 0
    assert storage.job_requeue_many(BulkAction(JobQuery(limit=1000), at(2), "again")) == 7
    one = BulkAction(JobQuery(ids=(made[2],), args="[2]"), at(3), "one")
    assert storage.job_delete_many(one) == 1
    assert (
        storage.job_delete_many(BulkAction(JobQuery(ids=(made[3],), args="[2]"), at(3), "x")) == 0
    )


def test_bulk_actions_look_past_jobs_they_cannot_change(storage: Storage) -> None:
    old = storage.job_insert_many([new_job("a") for _ in range(3)], T0)
    for job_id in old:
        storage.job_delete(job_id, at(1), "old")
    storage.job_insert_many([new_job("a") for _ in range(5)], T0)  # newer, enqueued
    # A few jobs examined per statement: the deleted ones lie past several such pages.
    action = BulkAction(JobQuery(names=("a",), scan=2, limit=2), at(2), "back")
    assert storage.job_requeue_many(action) == 2
    assert storage.job_requeue_many(action) == 1
    assert storage.job_requeue_many(action) == 0


def test_bulk_delete_releases_and_deletes_continuations(storage: Storage) -> None:
    [parent] = storage.job_insert_many([new_job("parent", queue="p")], T0)
    child, after_all = storage.job_insert_many(
        [
            new_job("child", parent_id=parent, state=JobState.AWAITING),
            new_job("cleanup", parent_id=parent, state=JobState.AWAITING, continue_on="finished"),
        ],
        T0,
    )
    [grandchild] = storage.job_insert_many(
        [new_job("grandchild", parent_id=child, state=JobState.AWAITING)], T0
    )
    assert storage.job_delete_many(BulkAction(JobQuery(queues=("p",)), at(5), "gone")) == 1
    states = {j: storage.job_get(j).state for j in (parent, child, after_all, grandchild)}  # type: ignore[union-attr]
    assert states == {
        parent: JobState.DELETED,
        child: JobState.DELETED,
        after_all: JobState.ENQUEUED,
        grandchild: JobState.DELETED,
    }


def test_bulk_delete_skips_deleted_jobs(storage: Storage) -> None:
    made = storage.job_insert_many([new_job("a") for _ in range(3)], T0)
    storage.job_delete(made[0], at(1), "one")
    assert storage.job_delete_many(BulkAction(JobQuery(), at(2), "rest")) == 2
    assert storage.job_delete_many(BulkAction(JobQuery(), at(2), "rest")) == 0
    job = storage.job_get(made[0])
    assert job is not None
    assert job.history[-1].reason == "one"


# --- the Python API ------------------------------------------------------------------


@pytest.fixture
def app(storage: Storage) -> Backburner:
    return Backburner(storage=storage)


def test_app_search_filters_and_pages(app: Backburner) -> None:
    first = app.enqueue("emails.welcome", 1, user_id=42)
    app.enqueue("emails.digest", 2, user_id=7)
    app.enqueue("reports.daily", 3)
    assert [j.id for j in app.jobs.search(name="emails.*", kwargs={"user_id": 42}).jobs] == [first]
    assert [j.name for j in app.jobs.search(args=[3]).jobs] == ["reports.daily"]
    page = app.jobs.search(state="enqueued", queue="default", limit=2)
    assert len(page.jobs) == 2
    assert page.has_more
    rest = app.jobs.search(state=["enqueued"], cursor=page.next)
    assert [j.id for j in rest.jobs] == [first]
    assert not rest.has_more
    assert app.jobs.names("emails.") == ["emails.digest", "emails.welcome"]
    counts = app.jobs.counts()
    assert counts[("default", JobState.ENQUEUED)] == CountCell(3)


def test_app_search_refuses_bad_filters_clearly(app: Backburner) -> None:
    with pytest.raises(ValueError, match="unknown state in 'done'"):
        app.jobs.search(state="done")
    with pytest.raises(TypeError, match="args= takes a list"):
        app.jobs.search(args=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="kwargs= takes a dict"):
        app.jobs.search(kwargs=[1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit must be between 1 and 1000"):
        app.jobs.search(limit=5000)
    with pytest.raises(ValueError, match="is not one a job search returned"):
        app.jobs.search(cursor="abc")


def test_app_bulk_requeue_and_delete(app: Backburner) -> None:
    made = [app.enqueue("a", i) for i in range(4)]
    assert app.jobs.delete_many(ids=made[:3]) == 3
    assert app.jobs.delete_many(ids=made[:3]) == 0
    assert app.jobs.requeue_many(state="deleted", limit=2) == 2
    assert app.jobs.requeue_many(state="deleted") == 1
    states = {app.jobs.get(job_id).state for job_id in made}  # type: ignore[union-attr]
    assert states == {JobState.ENQUEUED}
    job = app.jobs.get(made[0])
    assert job is not None
    assert [c.reason for c in job.history[-2:]] == ["deleted", "requeued"]


def test_one_id_given_as_a_string_is_that_job_not_its_digits(app: Backburner) -> None:
    made = [app.enqueue("a", i) for i in range(12)]
    assert made[10] == "11"
    assert app.jobs.delete_many(ids="11") == 1
    deleted = [j for j in made if app.jobs.get(j).state is JobState.DELETED]  # type: ignore[union-attr]
    assert deleted == ["11"]
    assert [j.id for j in app.jobs.search(ids="11").jobs] == ["11"]


def test_app_queues_describe_each_queue(app: Backburner) -> None:
    app.enqueue("a")
    app.schedule("a", dt.timedelta(hours=1))
    [done] = app.storage.job_insert_many([new_job("b", queue="idle")], dt.datetime.now(dt.UTC))
    app.storage.job_delete(done, dt.datetime.now(dt.UTC), "gone")
    queues = {q.name: q for q in app.queues()}
    assert set(queues) == {"default", "idle"}
    default = queues["default"]
    assert (default.enqueued, default.scheduled, default.processing) == (
        CountCell(1),
        CountCell(1),
        CountCell(0),
    )
    assert default.oldest_waiting is not None
    assert dt.timedelta(0) <= default.oldest_waiting < dt.timedelta(minutes=1)
    assert queues["idle"].oldest_waiting is None
    assert queues["idle"].enqueued == CountCell(0)


def test_sqlite_read_and_prune_walk_the_state_index_without_sorting(tmp_path: Path) -> None:
    from backburner.storage.sqlite import SQLiteStorage
    from backburner.storage.sqlite._read import Q as READ
    from backburner.storage.sqlite.storage import Q

    store = SQLiteStorage(str(tmp_path / "plans.db"))
    store.migrate()
    try:
        conn = store._db.writer()
        for sql, params in [
            (Q["prunable"], ("succeeded", 1.0, 10)),
            (READ["cell_ids"], ("failed", "q", 10**9, 10)),
            (READ["cell_count"], ("failed", "q", 10)),
            (READ["requeue_ids"], (1.0, "again", "[1, 2]")),
        ]:
            uses = "INTEGER PRIMARY KEY" if sql is READ["requeue_ids"] else "bb_jobs_state"
            plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
            assert uses in plan, plan
            assert "TEMP B-TREE" not in plan, plan
    finally:
        store.close()
