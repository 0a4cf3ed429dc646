"""Driving the real ``backburner`` CLI and real server processes against one storage: a
SQLite file by default, or any storage URL (a PostgreSQL schema)."""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests.support import wait_reading, wait_until

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.acceptance.jobsapp:app"
JOBS = "tests.acceptance.jobsapp"
SERVER_TIMEOUT = "1.5"

T = TypeVar("T")

_STARTED = re.compile(r"server (\S+) started")


def wait_for(check: Callable[[], T | None], timeout: float, what: str, pause: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    return wait_until(check, timeout, what, pause)


@dataclass
class Event:
    """One line of the execution log that ``jobsapp`` writes."""

    event: str
    job_id: str
    pid: int
    attempt: int
    detail: str


@dataclass
class Process:
    """A subprocess whose output goes to a file, so a failing test can show it."""

    name: str
    popen: subprocess.Popen[bytes]
    output: Path
    server_id: str = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    def text(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def send(self, signum: signal.Signals) -> None:
        if self.alive():
            self.popen.send_signal(signum)

    def wait(self, timeout: float) -> int:
        """The exit code; fails the test when the process is still running after ``timeout``."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still running after {timeout}s") from None

    def kill(self) -> None:
        if self.alive():
            self.popen.kill()
        self.popen.wait(10)


@dataclass
class Harness:
    """One storage (a SQLite file unless ``url`` names another), an execution log, and
    every process a test started. Processes find the storage through ``$BACKBURNER_URL``."""

    tmp_path: Path
    processes: list[Process] = field(default_factory=list)
    url: str = field(default="", kw_only=True)

    def __post_init__(self) -> None:
        self.db = self.tmp_path / "jobs.db"
        if not self.url:
            self.url = f"sqlite:///{self.db}"
        self.exec_log = self.tmp_path / "executions.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKBURNER_")}
        env.update(
            BACKBURNER_URL=self.url,
            JOBSAPP_LOG=str(self.exec_log),
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            PYTHONUNBUFFERED="1",
        )
        self.env = env

    # --- processes -------------------------------------------------------------------

    def _env(self, extra: dict[str, str] | None, drop: Iterable[str] = ()) -> dict[str, str]:
        env = dict(self.env)
        for key in drop:
            env.pop(key, None)
        env.update(extra or {})
        return env

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        env: dict[str, str] | None = None,
        drop_env: Iterable[str] = (),
    ) -> Process:
        """Start a process in ``tmp_path`` (so stray files land there) with its output logged."""
        output = self.tmp_path / f"{name}.log"
        with output.open("wb") as sink:
            popen = subprocess.Popen(
                list(argv),
                cwd=self.tmp_path,
                env=self._env(env, drop_env),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        process = Process(name, popen, output)
        self.processes.append(process)
        return process

    def start_server(
        self,
        *args: str,
        name: str | None = None,
        app: str | None = APP,
        env: dict[str, str] | None = None,
        drop_env: Iterable[str] = (),
        server_timeout: str = SERVER_TIMEOUT,
    ) -> Process:
        """Start ``backburner server`` and wait until it has registered itself."""
        name = name or f"server-{len(self.processes) + 1}"
        argv = [sys.executable, "-m", "backburner", "server", "--server-timeout", server_timeout]
        if app is not None:
            argv += ["--app", app]
        server = self.spawn(name, [*argv, *args], env=env, drop_env=drop_env)

        def started() -> str | None:
            if not server.alive():
                raise AssertionError(
                    f"{name} exited with {server.popen.returncode}:\n{server.text()}"
                )
            found = _STARTED.search(server.text())
            return found.group(1) if found else None

        server.server_id = wait_for(started, 20, f"{name} to start")
        return server

    def close(self) -> None:
        """Kill whatever still runs, and print every process's output (shown on failure)."""
        for process in self.processes:
            process.kill()
        for process in self.processes:
            print(f"----- {process.name} (pid {process.pid}) output -----")
            print(process.text())
        if self.exec_log.exists():
            print("----- execution log -----")
            print(self.exec_log.read_text())

    # --- the CLI ---------------------------------------------------------------------

    def cli(
        self,
        *args: str,
        ok: bool | None = True,
        env: dict[str, str] | None = None,
        drop_env: Iterable[str] = (),
        timeout: float = 30,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m backburner ARGS``; ``ok`` True/False asserts success/failure."""
        done = subprocess.run(
            [sys.executable, "-m", "backburner", *args],
            cwd=self.tmp_path,
            env=self._env(env, drop_env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if ok is not None and (done.returncode == 0) != ok:
            raise AssertionError(
                f"backburner {' '.join(args)} exited with {done.returncode}\n"
                f"stdout: {done.stdout}\nstderr: {done.stderr}"
            )
        return done

    def python(self, code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run ``python -c CODE`` as a client process; it must succeed."""
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=self.tmp_path,
            env=self._env(None),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"python -c failed:\n{done.stdout}\n{done.stderr}"
        return done

    def enqueue_many(
        self, count: int, start: int = 0, batch: int = 100, pause: float = 0.0
    ) -> list[str]:
        """Enqueue ``quick(i, pause)`` jobs from a client process, ``batch`` per transaction."""
        code = enqueue_code(count, start, batch, pause)
        ids: list[str] = json.loads(self.python(code).stdout)
        assert len(ids) == count
        return ids

    def enqueue(self, job: str, *args: str) -> str:
        """``backburner enqueue``: the new job's id."""
        out = self.cli("enqueue", job if "." in job else f"{JOBS}.{job}", *args).stdout.strip()
        assert out.isdigit(), out
        return out

    def show(self, job_id: str) -> dict[str, Any]:
        """``backburner jobs show ID --json``."""
        job: dict[str, Any] = json.loads(self.cli("jobs", "show", job_id, "--json").stdout)
        return job

    def list_jobs(self, *args: str) -> list[dict[str, Any]]:
        """``backburner jobs list --json ARGS``."""
        out = self.cli("jobs", "list", "--json", *args).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = json.loads(self.cli("stats", "--json").stdout)
        return counts

    def wait_state(self, job_id: str, *states: str, timeout: float = 15) -> dict[str, Any]:
        """Poll ``jobs show`` until the job is in one of ``states``."""
        return wait_reading(
            lambda: self.show(job_id),
            lambda job: job["state"] in states,
            timeout,
            f"job {job_id} to be {'/'.join(states)}",
            0.1,
        )

    def wait_stats(
        self, check: Callable[[dict[str, int]], bool], timeout: float, what: str
    ) -> None:
        wait_reading(self.stats, check, timeout, what, 0.1)

    # --- what the jobs did -------------------------------------------------------------

    def events(self, event: str | None = None) -> list[Event]:
        if not self.exec_log.exists():
            return []
        found = []
        for line in self.exec_log.read_text().splitlines():
            kind, job_id, pid, attempt, *detail = line.split(" ", 4)
            if event is None or kind == event:
                found.append(Event(kind, job_id, int(pid), int(attempt), " ".join(detail)))
        return found

    def counts(self, event: str) -> collections.Counter[str]:
        """How many times each job id logged ``event``."""
        return collections.Counter(e.job_id for e in self.events(event))

    def wait_event(self, event: str, job_id: str, timeout: float = 15, times: int = 1) -> Event:
        """The ``times``-th ``event`` logged by job ``job_id``."""

        def logged() -> Event | None:
            found = [e for e in self.events(event) if e.job_id == job_id]
            return found[times - 1] if len(found) >= times else None

        return wait_for(logged, timeout, f"job {job_id} to log {event!r} ({times}x)")


def enqueue_code(count: int, start: int = 0, batch: int = 100, pause: float = 0.0) -> str:
    """A client program that enqueues ``quick(i, pause)`` for ``count`` values of ``i`` in
    batches of ``batch`` jobs per transaction, and prints the new ids as JSON."""
    return (
        "import json\n"
        f"from {JOBS} import quick\n"
        "ids = []\n"
        f"for first in range({start}, {start + count}, {batch}):\n"
        f"    last = min(first + {batch}, {start + count})\n"
        f"    ids += quick.enqueue_many([(i, {pause}) for i in range(first, last)])\n"
        "print(json.dumps(ids))\n"
    )


def history(job: dict[str, Any]) -> list[tuple[str, str | None]]:
    """A ``jobs show --json`` history as (state, reason) pairs."""
    return [(entry["state"], entry["reason"]) for entry in job["history"]]
