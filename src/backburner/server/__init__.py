"""The server: claims jobs, runs them on a worker pool, and keeps storage healthy."""

from .server import Server, ServerOptions

__all__ = ["Server", "ServerOptions"]
