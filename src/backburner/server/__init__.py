"""The server: claims jobs, runs them on a worker pool, and keeps storage healthy."""

from ._services import Service, ServiceCrashed, ServiceStatus
from .server import Server, ServerOptions

__all__ = ["Server", "ServerOptions", "Service", "ServiceCrashed", "ServiceStatus"]
