"""Settings read from the environment (``BACKBURNER_*``) and an optional ``.env`` file."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from .storage._url import DEFAULT_URL


class Settings(BaseSettings):
    """Defaults for an app and its servers; arguments given in code always win.

    ``BACKBURNER_URL=postgresql://...`` chooses the storage, ``BACKBURNER_APP=pkg.mod:app``
    the app the CLI loads, and so on for every field.
    """

    model_config = SettingsConfigDict(env_prefix="BACKBURNER_", env_file=".env", extra="ignore")

    url: str = DEFAULT_URL
    app: str | None = None
    queues: str = "default"
    workers: int = 10
    server_timeout: float = 8.0
    shutdown_timeout: float = 15.0
    auto_migrate: bool = True
