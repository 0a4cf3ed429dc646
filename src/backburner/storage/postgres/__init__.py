"""The PostgreSQL backend: many processes and hosts share one database."""

from .storage import PostgresStorage

__all__ = ["PostgresStorage"]
