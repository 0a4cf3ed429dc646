"""Recurring (cron) jobs run by real server processes sharing one SQLite file.

The recurring jobs here enqueue ``jobsapp.tick``, which logs the instant its run was due
at (``current_job().due_at``) and when it started; the job rows give each run's instant
(``run_at``), when it was enqueued (its first history entry) and by what.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import statistics
import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.acceptance.harness import JOBS, Harness, Process, history, wait_for

pytestmark = pytest.mark.slow

EVERY_SECOND = "* * * * * *"
ONE = dt.timedelta(seconds=1)
UTC = dt.UTC


@dataclass(frozen=True)
class Tick:
    """One run of ``jobsapp.tick``, as it logged itself."""

    job_id: str
    pid: int
    recurring_id: str
    due: dt.datetime
    started: dt.datetime


def ticks(bb: Harness) -> list[Tick]:
    found = []
    for event in bb.events("tick"):
        recurring_id, due, started = event.detail.split()
        found.append(
            Tick(
                event.job_id,
                event.pid,
                recurring_id,
                dt.datetime.fromisoformat(due),
                dt.datetime.fromtimestamp(float(started), UTC),
            )
        )
    return found


def when(value: dict[str, str]) -> dt.datetime:
    """A datetime as ``--json`` output writes it."""
    assert value["__bb__"] == "datetime"
    return dt.datetime.fromisoformat(value["v"])


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def seconds(first: dt.datetime, before: dt.datetime) -> list[dt.datetime]:
    """Every whole-second instant from ``first`` up to, not including, ``before``."""
    found = []
    instant = first
    while instant < before:
        found.append(instant)
        instant += ONE
    return found


def add_recurring(bb: Harness, *definitions: tuple[str, str, str]) -> None:
    """``app.recurring.add_or_update(ID, tick, CRON, misfire=MISFIRE)`` from a client process."""
    lines = [f"from {JOBS} import app, tick"]
    lines += [
        f"app.recurring.add_or_update({rid!r}, tick, {cron!r}, misfire={misfire!r})"
        for rid, cron, misfire in definitions
    ]
    bb.python("\n".join(lines))


def schedules(bb: Harness) -> dict[str, dict[str, Any]]:
    """``backburner recurring list --json``, by id."""
    out = bb.cli("recurring", "list", "--json").stdout
    items = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {item["id"]: item for item in items}


def runs(bb: Harness, recurring_id: str | None = None) -> list[dict[str, Any]]:
    """The jobs recurring jobs enqueued (of ``recurring_id`` only, when given), oldest first."""
    rows = reversed(bb.list_jobs("--limit", "2000"))
    return [
        row
        for row in rows
        if row["recurring_id"] is not None
        and (recurring_id is None or row["recurring_id"] == recurring_id)
    ]


def stop(*servers: Process) -> None:
    for server in servers:
        server.send(signal.SIGTERM)
    for server in servers:
        assert server.wait(20) == 0, server.text()


def due_reason(recurring_id: str, instant: dt.datetime) -> tuple[str, str]:
    return ("enqueued", f"recurring {recurring_id} due at {instant.isoformat()}")


def test_two_servers_enqueue_and_run_exactly_one_job_per_due_instant(bb: Harness) -> None:
    a = bb.start_server(name="server-a")
    b = bb.start_server(name="server-b")
    add_recurring(bb, ("every-second", EVERY_SECOND, "relaxed"))
    added = now()
    time.sleep(5.5)
    bb.cli("recurring", "pause", "every-second")
    paused = now()
    # A run found due just as it was paused may still be enqueued: let every run finish.
    bb.wait_stats(lambda s: s["enqueued"] == s["processing"] == 0, 20, "the last runs to finish")
    stop(a, b)

    rows = runs(bb, "every-second")
    instants = [when(row["run_at"]) for row in rows]
    assert len(set(instants)) == len(instants), "an instant was enqueued twice"
    assert sorted(instants) == seconds(min(instants), max(instants) + ONE), "an instant is missing"
    assert min(instants) <= added + ONE  # the first instant after it was added
    assert max(instants) >= paused - 2 * ONE  # ... and every instant on until it was paused
    assert len(instants) >= 5
    for row in rows:
        assert (row["state"], row["attempt"]) == ("succeeded", 1)
        assert row["result"] == when(row["run_at"]).isoformat()
        assert history(row)[0] == due_reason("every-second", when(row["run_at"]))

    done = ticks(bb)
    assert sorted(t.job_id for t in done) == sorted(row["id"] for row in rows)  # each ran once
    due_of = {row["id"]: when(row["run_at"]) for row in rows}
    assert all(t.due == due_of[t.job_id] for t in done)  # each run knows its instant
    assert {t.pid for t in done} <= {a.pid, b.pid}
    assert {t.recurring_id for t in done} == {"every-second"}

    # "A due run is enqueued within one second of its time": never early, on time typically,
    # with slack for a busy machine in the worst case.
    enqueued_lag = [
        (when(row["history"][0]["at"]) - due_of[row["id"]]).total_seconds() for row in rows
    ]
    started_lag = [(t.started - t.due).total_seconds() for t in done]
    assert min(enqueued_lag) >= 0
    assert min(started_lag) >= 0
    assert statistics.median(enqueued_lag) < 1.0, enqueued_lag
    assert statistics.median(started_lag) < 1.0, started_lag
    assert max(started_lag) < 5.0, started_lag

    schedule = schedules(bb)["every-second"]
    assert schedule["paused"] is True
    last = max(rows, key=lambda row: when(row["run_at"]))
    assert (schedule["last_job_id"], when(schedule["last_run"])) == (
        last["id"],
        when(last["run_at"]),
    )


MODES = ("relaxed", "strict", "ignore")
LONG_OUTAGE = 75  # seconds: longer than the 60 s a misfire="ignore" run still counts as on time


def test_misfire_modes_when_every_server_was_down(bb: Harness) -> None:
    a = bb.start_server(name="server-a")
    add_recurring(bb, *[(mode, EVERY_SECOND, mode) for mode in MODES])
    wait_for(lambda: {t.recurring_id for t in ticks(bb)} == set(MODES), 15, "a run of each on time")
    stop(a)  # every server is down from here on

    # A real outage of a few seconds for the first three. The "-long" ones stand for an
    # outage longer than the grace of misfire="ignore": they are added now, and their next
    # run is put LONG_OUTAGE seconds back, which is what storage would hold had every server
    # been down that long since they were added (waiting over a minute would be too slow).
    bb.python(
        "import datetime as dt\n"
        f"from {JOBS} import app, tick\n"
        f"cron, back = {EVERY_SECOND!r}, dt.timedelta(seconds={LONG_OUTAGE})\n"
        f"for mode in {MODES!r}:\n"
        "    r = app.recurring.add_or_update(mode + '-long', tick, cron, misfire=mode)\n"
        "    app.storage.recurring_set_paused(r.id, False, r.next_run - back)\n"
    )
    first_missed = {rid: when(item["next_run"]) for rid, item in schedules(bb).items()}
    assert set(first_missed) == {*MODES, *(f"{mode}-long" for mode in MODES)}
    for mode in MODES:
        assert first_missed[f"{mode}-long"] < now() - dt.timedelta(seconds=LONG_OUTAGE - 5)
    pause = (first_missed["strict"] + 3.3 * ONE - now()).total_seconds()
    time.sleep(max(0.0, pause))  # at least three instants go by with no server
    down_until = now()
    b = bb.start_server(name="server-b")

    expected = {
        "relaxed": [first_missed["relaxed"]],  # one catch-up run, for the first missed instant
        "strict": seconds(first_missed["strict"], down_until),  # one per missed instant
        "ignore": [first_missed["ignore"]],  # found within 60 s of its time: still on time
        "relaxed-long": [first_missed["relaxed-long"]],
        "strict-long": seconds(first_missed["strict-long"], down_until),
        "ignore-long": [],  # found too late: skipped
    }
    assert len(expected["strict"]) >= 3
    assert LONG_OUTAGE <= len(expected["strict-long"]) < 100  # under the catch-up cap

    def caught_up() -> dict[str, list[dict[str, Any]]] | None:
        """Every run of the outage is done, and each schedule has gone on after it."""
        rows = runs(bb)
        by_id = {rid: [r for r in rows if r["recurring_id"] == rid] for rid in expected}
        for found in by_id.values():
            missed = [r for r in found if when(r["run_at"]) < down_until]
            later = [r for r in found if when(r["run_at"]) >= down_until + ONE]
            if any(r["state"] != "succeeded" for r in missed) or not any(
                r["state"] == "succeeded" for r in later
            ):
                return None
        return by_id

    by_id = wait_for(caught_up, 30, "the catch-up runs and a later run of each")
    stop(b)
    done = {t.job_id: t for t in ticks(bb)}

    for rid, want in expected.items():
        rows = by_id[rid]
        missed = [r for r in rows if first_missed[rid] <= when(r["run_at"]) < down_until]
        assert [when(r["run_at"]) for r in missed] == want, rid
        for row in missed:
            instant = when(row["run_at"])
            assert when(row["created_at"]) >= down_until  # enqueued once a server was back
            assert history(row)[0] == due_reason(rid, instant)
            assert row["result"] == instant.isoformat()
            assert (done[row["id"]].due, done[row["id"]].pid) == (instant, b.pid)
        # Nothing ran twice, and the schedule went on at the instants after the outage.
        instants = [when(r["run_at"]) for r in rows]
        assert len(set(instants)) == len(instants), rid
        assert [t for t in done.values() if t.recurring_id == rid and t.due >= down_until + ONE]

    # misfire="strict" loses no instant, across the outage or after it.
    for rid in ("strict", "strict-long"):
        instants = sorted(when(r["run_at"]) for r in by_id[rid])
        assert instants == seconds(instants[0], instants[-1] + ONE), rid
    skipped = first_missed["ignore-long"].isoformat()
    assert f"recurring job 'ignore-long': run due at {skipped} missed, skipped" in b.text()
    assert "'ignore': run due at" not in b.text()


YEARLY = "0 0 1 1 *"


def ticked(bb: Harness, recurring_id: str, after: dt.datetime | None = None) -> list[Tick]:
    """The runs of ``recurring_id`` (due after ``after``, when given) that have started."""
    return [
        t for t in ticks(bb) if t.recurring_id == recurring_id and (after is None or t.due > after)
    ]


def test_the_recurring_commands(bb: Harness) -> None:
    server = bb.start_server()
    add_recurring(
        bb,
        ("new-year", YEARLY, "relaxed"),
        ("ticker", EVERY_SECOND, "relaxed"),
        ("doomed", EVERY_SECOND, "relaxed"),
    )
    next_year = dt.datetime(now().year + 1, 1, 1, tzinfo=UTC)

    # list: each schedule with its next run and its description.
    lines = bb.cli("recurring", "list").stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["doomed", "new-year", "ticker"]
    new_year, ticker = lines[1:]
    assert f" {YEARLY} " in new_year
    assert " UTC " in new_year
    assert f" next {next_year.isoformat()} " in new_year
    assert new_year.endswith(f"{JOBS}.tick  (At 00:00, on day 1 of the month, only in January)")
    assert " next 20" in ticker
    assert ticker.endswith(f"{JOBS}.tick  (Every second)")
    before = schedules(bb)["new-year"]
    assert when(before["next_run"]) == next_year

    # trigger: a run now, which the server runs; the next scheduled run is unchanged.
    job_id = bb.cli("recurring", "trigger", "new-year").stdout.strip()
    assert job_id.isdigit()
    assert bb.wait_event("tick", job_id).detail.startswith("new-year ")
    job = bb.wait_state(job_id, "succeeded")
    assert job["recurring_id"] == "new-year"
    assert history(job) == [
        ("enqueued", "recurring new-year triggered by hand"),
        ("processing", f"claimed by {server.server_id}"),
        ("succeeded", None),
    ]
    after = schedules(bb)
    assert after["new-year"]["next_run"] == before["next_run"]
    assert after["new-year"]["last_job_id"] == job_id

    # pause one ticker and remove the other: neither runs any more.
    wait_for(lambda: len(ticked(bb, "ticker")) >= 2, 10, "the ticker to run")
    assert bb.cli("recurring", "pause", "ticker").stdout == "recurring job ticker paused\n"
    paused_at = now()
    assert bb.cli("recurring", "remove", "doomed").stdout == "recurring job doomed removed\n"
    removed_at = now()
    lines = bb.cli("recurring", "list").stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["new-year", "ticker"]
    assert " paused " in lines[1]
    time.sleep(2.0)
    # Only a run found due at the very moment of the pause may still have been enqueued.
    assert ticked(bb, "ticker", after=paused_at) == []
    assert ticked(bb, "doomed", after=removed_at) == []

    # resume: runs again from the next instant; those missed while paused are skipped.
    resumed_at = now()
    assert bb.cli("recurring", "resume", "ticker").stdout == "recurring job ticker resumed\n"
    wait_for(lambda: ticked(bb, "ticker", after=resumed_at), 10, "the ticker to run again")

    for command in ("remove", "trigger"):
        failed = bb.cli("recurring", command, "doomed", ok=False)
        assert failed.stderr == "Error: no recurring job with id 'doomed'\n"
    assert " next 20" in bb.cli("recurring", "list").stdout.splitlines()[1]

    rows = runs(bb)
    ticker_instants = [when(r["run_at"]) for r in rows if r["recurring_id"] == "ticker"]
    assert not [i for i in ticker_instants if paused_at < i <= resumed_at]
    assert any(i > resumed_at for i in ticker_instants)
    doomed = [r for r in rows if r["recurring_id"] == "doomed"]
    assert len(doomed) >= 2  # the jobs a removed recurring job enqueued stay
    assert all(when(r["run_at"]) <= removed_at for r in doomed)
    assert {r["id"] for r in doomed} == {t.job_id for t in ticked(bb, "doomed")}
    assert server.alive()


OLD_APP = "tests.acceptance.oldjobsapp"


def test_a_recurring_job_whose_function_is_gone_fails_each_run_and_the_rest_go_on(
    bb: Harness,
) -> None:
    server = bb.start_server()
    # "legacy" is defined by an older deploy; the servers run jobsapp, which has no such job.
    bb.python(
        f"from {OLD_APP} import app as old_app, legacy_report\n"
        f"from {JOBS} import app, tick\n"
        f"old_app.recurring.add_or_update('legacy', legacy_report, {EVERY_SECOND!r})\n"
        f"app.recurring.add_or_update('healthy', tick, {EVERY_SECOND!r})\n"
    )
    name = f"{OLD_APP}.legacy_report"
    message = f"no job named {name!r} is registered"
    wait_for(
        lambda: server.text().count(message) >= 4 and len(ticked(bb, "healthy")) >= 3,
        20,
        "failed runs of the lost job, and runs of the healthy one",
    )
    stop(server)

    legacy = runs(bb, "legacy")
    failed = [r for r in legacy if r["state"] == "failed"]
    assert len(failed) >= 4
    assert {r["state"] for r in legacy} <= {"failed", "enqueued"}  # the last may not have run
    for row in failed:
        assert row["name"] == name
        assert row["attempt"] == 1  # an unknown job is not retried
        assert row["error"]["type"] == "backburner.server.runner.UnknownJobError"
        assert row["error"]["message"] == message
        assert history(row) == [
            due_reason("legacy", when(row["run_at"])),
            ("processing", f"claimed by {server.server_id}"),
            ("failed", "UnknownJobError, not retried"),
        ]
    # Every instant of the failing schedule was enqueued: failing runs do not stop it.
    instants = sorted(when(r["run_at"]) for r in legacy)
    assert instants == seconds(instants[0], instants[-1] + ONE)
    assert ticked(bb, "legacy") == []

    # The healthy schedule ran at every instant, alongside the failures.
    healthy = runs(bb, "healthy")
    healthy_instants = sorted(when(r["run_at"]) for r in healthy)
    assert healthy_instants == seconds(healthy_instants[0], healthy_instants[-1] + ONE)
    failed_instants = sorted(when(r["run_at"]) for r in failed)
    assert healthy_instants[0] <= failed_instants[0] + ONE  # added just after the lost one
    assert healthy_instants[-1] >= failed_instants[-1]
    ran = {t.due for t in ticked(bb, "healthy")}
    assert {i for i in healthy_instants if i <= failed_instants[-1]} <= ran

    # The failures show where the docs say they do.
    listed = bb.cli("jobs", "list", "--state", "failed", "--limit", "100").stdout.splitlines()
    assert sorted(line.split()[0] for line in listed) == sorted(r["id"] for r in failed)
    assert all(line.split()[-1] == name for line in listed)
    shown = bb.cli("jobs", "show", failed[0]["id"]).stdout
    assert f"error:    backburner.server.runner.UnknownJobError: {message}" in shown
