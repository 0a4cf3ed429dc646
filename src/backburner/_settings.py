"""Settings: one tree of sections, read from defaults, a TOML file, the environment and code.

Each layer overrides the one before it, key by key:

1. the defaults written here;
2. a TOML file: ``$BACKBURNER_CONFIG`` (or ``--config``), else ``backburner.toml`` in the
   working directory, else the ``[tool.backburner]`` table of ``pyproject.toml`` there;
3. environment variables, ``BACKBURNER__SECTION__KEY`` (``BACKBURNER__SERVER__WORKERS=8``),
   with ``BACKBURNER_URL`` and ``BACKBURNER_APP`` standing for ``storage.url`` and ``app``;
4. what code passes (``Settings(server={"workers": 8})``, ``Backburner(url=...)``,
   ``start_server(workers=...)``) and the CLI's flags.

The source of every value is kept, so a wrong value is reported with the key and where it
came from, and ``backburner config`` can show both.

Adding a section (``dashboard``, ``hosting``...): write a ``_Section`` subclass with its keys
and defaults, add it as a field of ``Settings``, and document its keys in docs/settings.md.
Files, environment variables, ``backburner config`` and error messages follow by themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ._states import JobState

DEFAULT_URL = "sqlite:///backburner.db"
CONFIG_ENV = "BACKBURNER_CONFIG"
ENV_PREFIX = "BACKBURNER__"
ALIASES = {"BACKBURNER_URL": "storage.url", "BACKBURNER_APP": "app"}
"""Environment variables kept from the flat style, each standing for one key."""

FILE_NAME = "backburner.toml"
KEEP = "keep"
"""The duration that means "for good", where a file or variable cannot say None."""


class SettingsError(ValueError):
    """A setting has a wrong value or name; the message names the key and where it came from."""


SourceKind = Literal["default", "file", "env", "code", "flag"]


@dataclass(frozen=True)
class Source:
    """Where a setting's value came from: ``kind``, and ``where`` (a path, a variable, a flag)."""

    kind: SourceKind
    where: str = ""

    def __str__(self) -> str:
        if self.kind == "file":
            return f"file {self.where}"
        if self.kind == "env":
            return f"environment variable {self.where}"
        if self.kind == "flag":
            return f"flag {self.where}"
        return self.kind


DEFAULT = Source("default")
CODE = Source("code")


# --- value types ------------------------------------------------------------------------

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")


def _duration(value: Any) -> Any:
    """``"30d"``, ``"1h30m"``, ``"90s"``, a number of seconds, or ``"keep"`` (None)."""
    if value is None:
        return value
    if isinstance(value, dt.timedelta):
        return value if value <= MAX_DURATION else _timedelta(math.inf, value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _timedelta(value, value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text == KEEP:
            return None
        if _DURATION.sub("", text).strip() == "" and text:
            parts = _DURATION.findall(text)
            return _timedelta(sum(float(n) * _UNITS[unit] for n, unit in parts), value)
        try:
            seconds = float(text)
        except ValueError:
            seconds = math.nan
        return _timedelta(seconds, value)
    return value


MAX_DURATION = dt.timedelta(days=365_000)
"""The longest duration: cutoffs (now minus it) stay within the dates Python can hold."""


def _timedelta(seconds: float, value: Any) -> dt.timedelta:
    if math.isnan(seconds):
        raise ValueError(
            f"a duration is like 30d, 12h, 1h30m, 90s or a number of seconds, "
            f"or {KEEP!r} to keep for good; not {value!r}"
        )
    # An infinite or huge number: a ValueError, so that the message names the setting.
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(
            f"a duration of {value!r} is too long (at most {MAX_DURATION.days}d); "
            f"{KEEP!r} keeps jobs for good"
        )
    return dt.timedelta(seconds=seconds)


def _queues(value: Any) -> Any:
    """A list of names, or one string of them comma-separated or as a JSON list."""
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError(f'queues as a JSON list, like ["a", "b"], not {value!r}') from None
    if isinstance(value, str):
        return tuple(q.strip() for q in value.split(",") if q.strip())
    return value


Duration = Annotated[
    Annotated[dt.timedelta, Field(ge=dt.timedelta(0))] | None, BeforeValidator(_duration)
]
Queues = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], BeforeValidator(_queues)]


# --- sections ---------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PostgresSettings(_Section):
    """Options of PostgreSQL storage; None leaves the backend's own default (docs/storage.md)."""

    schema_: str | None = Field(default=None, alias="schema")
    pool_min_size: int | None = Field(default=None, ge=0)
    pool_max_size: int | None = Field(default=None, ge=1)
    pool_timeout: float | None = Field(default=None, gt=0)
    connect_timeout: float | None = Field(default=None, gt=0)
    notifications: bool | None = None
    application_name: str | None = None


class SQLiteSettings(_Section):
    """Options of SQLite storage; None leaves the backend's own default (docs/storage.md)."""

    busy_timeout: float | None = Field(default=None, ge=0)


class StorageSettings(_Section):
    """Which storage, and the options of each backend (only the URL's backend reads its own)."""

    url: str = DEFAULT_URL
    auto_migrate: bool = True
    postgres: PostgresSettings = PostgresSettings()
    sqlite: SQLiteSettings = SQLiteSettings()

    def backend_options(self) -> dict[str, Any]:
        """The options set for the URL's backend, by the names the backend takes."""
        scheme = self.url.split(":", 1)[0].lower()
        section: _Section | None = None
        if scheme in ("postgres", "postgresql"):
            section = self.postgres
        elif scheme == "sqlite":
            section = self.sqlite
        if section is None:
            return {}
        return {k: v for k, v in section.model_dump(by_alias=True).items() if v is not None}


class ServerSettings(_Section):
    """How a server runs (see docs/server.md)."""

    queues: Queues = Field(default=("default",), min_length=1)
    workers: int = Field(default=10, ge=0)
    server_timeout: float = Field(
        default=8.0, gt=0, le=MAX_DURATION.total_seconds(), allow_inf_nan=False
    )
    shutdown_timeout: float = Field(default=15.0, ge=0)
    claim_ahead: int = Field(default=100, ge=0)
    """At most this many jobs claimed beyond the free workers, to start the moment a
    worker frees up; 0 claims only for free workers. The server claims ahead only what it
    would start within about 50 ms at its recent pace, so slow jobs are not held back."""


class RetentionSettings(_Section):
    """How long finished jobs are kept in each final state; None keeps them for good."""

    succeeded: Duration = dt.timedelta(days=1)
    failed: Duration = dt.timedelta(days=30)
    deleted: Duration = dt.timedelta(days=1)

    def by_state(self) -> dict[JobState, dt.timedelta | None]:
        return {
            JobState.SUCCEEDED: self.succeeded,
            JobState.DELETED: self.deleted,
            JobState.FAILED: self.failed,
        }


class HostingSettings(_Section):
    """What runs in a server besides its jobs (see docs/services.md). ``enabled``: the
    master switch of every service and periodic function an app adds; ``disabled``: the
    names of those to leave off."""

    enabled: bool = True
    disabled: Annotated[tuple[str, ...], BeforeValidator(_queues)] = ()
    run_jobs: bool = True
    """Whether a web app's server (``app.lifespan()``) runs durable jobs; false: only its
    services, periodic work and task queues (``backburner server`` runs the jobs)."""


class LoggingSettings(_Section):
    """What Backburner logs (see docs/logging.md). ``format``: ``text`` or ``json`` (one
    object a line, for log shippers) for the CLI; ``job_lines``: at most this many lines a
    second telling each job's start and end at INFO (0: none), the excess counted and left
    out."""

    format: Literal["text", "json"] = "text"
    job_lines: int = Field(default=1000, ge=0)


DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


class RabbitMQSettings(_Section):
    """The broker of the app's RabbitMQ consumers and publishing (see docs/rabbitmq.md):
    ``url``, used where ``@app.consumer`` and ``app.publish`` are given none."""

    url: str = Field(default=DEFAULT_RABBITMQ_URL, min_length=1)


# --- the tree ---------------------------------------------------------------------------

Layer = dict[str, tuple[Any, Source]]
"""Values of one layer by dotted key (``server.workers``), each with its source."""


class Settings(BaseSettings):
    """Every setting of an app, its servers and the CLI, in sections.

    ``Settings()`` reads the defaults, the TOML file and the environment; keyword arguments
    override them, as nested mappings or section models:
    ``Settings(server={"workers": 4}, storage={"url": "memory://"})``. ``config=`` names the
    TOML file instead of ``$BACKBURNER_CONFIG`` or the working directory's.
    A wrong value raises ``SettingsError`` naming the key and where it came from.
    """

    # Layering is done by __init__, which keeps the source of every value.
    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    app: str | None = None
    storage: StorageSettings = StorageSettings()
    server: ServerSettings = ServerSettings()
    retention: RetentionSettings = RetentionSettings()
    hosting: HostingSettings = HostingSettings()
    logging: LoggingSettings = LoggingSettings()
    rabbitmq: RabbitMQSettings = RabbitMQSettings()

    _sources: dict[str, Source] = PrivateAttr(default_factory=dict)
    _file: Path | None = PrivateAttr(default=None)

    def __init__(self, *, config: str | os.PathLike[str] | None = None, **values: Any) -> None:
        file = _config_file(config)
        layers = [
            _read_file(file) if file else {},
            _read_env(os.environ),
            _flatten(values, CODE),
        ]
        self._build(layers, file)

    def _build(self, layers: list[Layer], file: Path | None) -> None:
        merged: Layer = {}
        for layer in layers:
            for key, item in layer.items():
                # A value replaces what it covers: a whole section, or the section it is in.
                covered = [k for k in merged if k.startswith(f"{key}.") or key.startswith(f"{k}.")]
                for old in covered:
                    del merged[old]
                merged[key] = item
        try:
            super().__init__(**_nest({k: v for k, (v, _) in merged.items()}))
        except ValidationError as error:
            raise SettingsError(_describe(error, merged)) from None
        self._sources = {k: s for k, (_, s) in merged.items()}
        self._file = file

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    @property
    def file(self) -> Path | None:
        """The TOML file read, if any."""
        return self._file

    def override(self, layer: Layer) -> Settings:
        """A copy with the values of ``layer`` on top (flags, arguments given in code)."""
        if not layer:
            return self
        base: Layer = {key: (value, self.source_of(key)) for key, value in self.flat().items()}
        base = {k: v for k, v in base.items() if v[1].kind != "default"}
        copy = type(self).__new__(type(self))
        copy._build([base, layer], self._file)
        return copy

    def flat(self) -> dict[str, Any]:
        """Every key by its dotted name, with its value."""
        return dict(_walk(self.model_dump(by_alias=True)))

    def source_of(self, key: str) -> Source:
        """Where the value of a dotted key came from."""
        while key:
            if key in self._sources:
                return self._sources[key]
            key = key.rpartition(".")[0]
        return DEFAULT

    def sources(self) -> dict[str, Source]:
        """The source of every key, by dotted name."""
        return {key: self.source_of(key) for key in self.flat()}


def _walk(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in tree.items():
        if isinstance(value, Mapping):
            yield from _walk(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _flatten(values: Mapping[str, Any], source: Source, prefix: str = "") -> Layer:
    layer: Layer = {}
    for key, value in values.items():
        if isinstance(value, BaseModel):
            value = value.model_dump(by_alias=True, exclude_unset=True)
        if isinstance(value, Mapping):
            layer.update(_flatten(value, source, f"{prefix}{key}."))
        else:
            layer[f"{prefix}{key}"] = (value, source)
    return layer


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


# --- reading the layers -----------------------------------------------------------------


def _config_file(config: str | os.PathLike[str] | None) -> Path | None:
    if config is not None:
        return _must_exist(Path(config), "config=")
    named = os.environ.get(CONFIG_ENV)
    if named:
        return _must_exist(Path(named), CONFIG_ENV)
    local = Path.cwd() / FILE_NAME
    if local.is_file():
        return local
    pyproject = Path.cwd() / "pyproject.toml"
    if pyproject.is_file() and "backburner" in _parse(pyproject).get("tool", {}):
        return pyproject
    return None


def _must_exist(path: Path, named_by: str) -> Path:
    if not path.is_file():
        raise SettingsError(f"{named_by} names {path}, which is not a file")
    return path.absolute()


def _parse(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"cannot read settings from {path}: {error}") from None


def _read_file(path: Path) -> Layer:
    data = _parse(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("backburner", {})
        where = f"{path} [tool.backburner]"
    else:
        where = str(path)
    return _flatten(data, Source("file", where))


def _read_env(environ: Mapping[str, str]) -> Layer:
    layer: Layer = {}
    # The flat aliases first, so that the nested name of the same key wins over them.
    for name, key in ALIASES.items():
        if environ.get(name):
            layer[key] = (environ[name], Source("env", name))
    for name, value in environ.items():
        # An empty variable counts as not set, as `VAR=` in a shell or compose file means.
        if name.upper().startswith(ENV_PREFIX) and value != "":
            key = ".".join(name[len(ENV_PREFIX) :].lower().split("__"))
            layer[key] = (value, Source("env", name))
    return layer


def _describe(error: ValidationError, merged: Layer) -> str:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"] if not isinstance(part, int))
        source = _source_in(merged, key)
        if item["type"] == "extra_forbidden":
            section = key.rpartition(".")[0]
            known = _known_keys(section)
            problems.append(
                f"unknown setting {key} ({source}); {section or 'the top level'} "
                f"takes {', '.join(known)}"
            )
            continue
        message = str(item["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        given = merged[key][0] if key in merged else item["input"]
        problems.append(f"setting {key} = {given!r} ({source}): {message}")
    return "; ".join(problems)


def _source_in(merged: Layer, key: str) -> Source:
    # The key itself, the section it is in, or (for a whole unknown section) a key inside it.
    probe = key
    while probe:
        if probe in merged:
            return merged[probe][1]
        probe = probe.rpartition(".")[0]
    inside = [s for k, (_, s) in merged.items() if k.startswith(f"{key}.")]
    return inside[0] if inside else DEFAULT


def _known_keys(section: str) -> list[str]:
    model: type[BaseModel] = Settings
    for part in filter(None, section.split(".")):
        annotation = model.model_fields[part].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [field.alias or name for name, field in model.model_fields.items()]
