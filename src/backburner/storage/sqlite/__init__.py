"""The embedded SQLite backend (the default)."""

from .storage import SQLiteStorage

__all__ = ["SQLiteStorage"]
