"""A second process that holds a SQLite file's write lock, as a backup tool or a long
transaction of another program would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
print("released", flush=True)
"""


@contextmanager
def write_lock_held(path: Path) -> Iterator[None]:
    """Another process holds ``path``'s write lock (``BEGIN EXCLUSIVE``) for the block."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        line = holder.stdout.readline().strip()
        assert line == "locked", f"the lock holder said {line!r}"
        yield
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "released"
    finally:
        holder.stdin.close()
        if holder.wait(10) is None:  # pragma: no cover - it exits once stdin closes
            holder.kill()
        holder.stdout.close()
