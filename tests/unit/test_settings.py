"""Settings: defaults < file < environment < code and flags, with the source of each value."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backburner import Backburner, JobState, Settings, SettingsError
from backburner._settings import Source
from backburner.server import ServerOptions


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working directory and no BACKBURNER_* variables from the outside."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("BACKBURNER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_defaults_without_file_or_environment(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.file is None
    assert settings.storage.url == "sqlite:///backburner.db"
    assert settings.server.queues == ("default",)
    assert settings.server.workers == 10
    assert settings.retention.failed == dt.timedelta(days=30)
    assert settings.app is None
    assert {source.kind for source in settings.sources().values()} == {"default"}


def test_server_options_defaults_are_the_settings_defaults() -> None:
    defaults = Settings()
    options = ServerOptions()
    assert options.queues == defaults.server.queues
    assert options.workers == defaults.server.workers
    assert options.server_timeout == defaults.server.server_timeout
    assert options.shutdown_timeout == defaults.server.shutdown_timeout
    assert options.retention == defaults.retention.by_state()


def test_file_then_environment_then_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = write(
        tmp_path / "backburner.toml",
        """
        [server]
        workers = 4
        queues = ["critical", "default"]
        shutdown_timeout = 30
        """,
    )
    from_file = Settings()
    assert from_file.server.workers == 4
    assert from_file.source_of("server.workers") == Source("file", str(file))

    monkeypatch.setenv("BACKBURNER__SERVER__WORKERS", "6")
    from_env = Settings()
    assert from_env.server.workers == 6
    assert from_env.source_of("server.workers") == Source("env", "BACKBURNER__SERVER__WORKERS")
    # The rest of the section still comes from the file.
    assert from_env.server.queues == ("critical", "default")
    assert from_env.source_of("server.queues").kind == "file"

    from_code = Settings(server={"workers": 8})
    assert from_code.server.workers == 8
    assert from_code.source_of("server.workers").kind == "code"
    assert from_code.server.shutdown_timeout == 30

    flagged = from_code.override({"server.workers": (2, Source("flag", "--workers"))})
    assert flagged.server.workers == 2
    assert str(flagged.source_of("server.workers")) == "flag --workers"
    assert flagged.server.queues == ("critical", "default")


def test_an_unset_or_empty_variable_never_overrides_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "backburner.toml", 'app = "jobs:app"\n[server]\nworkers = 4\n')
    monkeypatch.setenv("BACKBURNER__SERVER__WORKERS", "")
    monkeypatch.setenv("BACKBURNER_APP", "")
    monkeypatch.setenv("BACKBURNER__SERVER__SERVER_TIMEOUT", "3")
    settings = Settings()
    assert settings.server.workers == 4
    assert settings.app == "jobs:app"
    assert settings.server.server_timeout == 3.0


@pytest.mark.parametrize("text", ["critical, default", '["critical", "default"]'])
def test_queues_from_a_variable(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("BACKBURNER__SERVER__QUEUES", text)
    assert Settings().server.queues == ("critical", "default")


def test_a_section_model_given_in_code_overrides_only_its_keys(tmp_path: Path) -> None:
    from backburner._settings import ServerSettings

    write(tmp_path / "backburner.toml", '[server]\nqueues = "a,b"\n')
    settings = Settings(server=ServerSettings(workers=3))
    assert settings.server.workers == 3
    assert settings.server.queues == ("a", "b")


def test_url_and_app_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKBURNER_URL", "memory://")
    monkeypatch.setenv("BACKBURNER_APP", "myapp.jobs:app")
    settings = Settings()
    assert settings.storage.url == "memory://"
    assert str(settings.source_of("storage.url")) == "environment variable BACKBURNER_URL"
    assert settings.app == "myapp.jobs:app"
    assert settings.source_of("app") == Source("env", "BACKBURNER_APP")

    monkeypatch.setenv("BACKBURNER__STORAGE__URL", "sqlite:///nested.db")
    assert Settings().storage.url == "sqlite:///nested.db"


def test_pyproject_table_and_named_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pyproject = write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n[tool.backburner.server]\nworkers = 5\n',
    )
    settings = Settings()
    assert settings.server.workers == 5
    assert settings.file == pyproject
    assert str(settings.source_of("server.workers")) == f"file {pyproject} [tool.backburner]"

    local = write(tmp_path / "backburner.toml", "[server]\nworkers = 6\n")
    assert Settings().server.workers == 6  # backburner.toml comes before pyproject.toml

    elsewhere = write(tmp_path / "prod.toml", "[server]\nworkers = 7\n")
    monkeypatch.setenv("BACKBURNER_CONFIG", str(elsewhere))
    assert Settings().server.workers == 7
    assert Settings(config=local).server.workers == 6


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        (
            "[server]\nworkers = -1\n",
            {},
            "setting server.workers = -1 (file {file}): Input should be greater than or equal to 0",
        ),
        (
            "[server]\nwokers = 3\n",
            {},
            "unknown setting server.wokers (file {file}); server takes queues, workers, "
            "server_timeout, shutdown_timeout, claim_ahead",
        ),
        (
            "",
            {"BACKBURNER__SERVER__WORKERS": "many"},
            "setting server.workers = 'many' (environment variable BACKBURNER__SERVER__WORKERS)",
        ),
        (
            "",
            {"BACKBURNER__SERVR__WORKERS": "3"},
            "unknown setting servr (environment variable BACKBURNER__SERVR__WORKERS)",
        ),
        (
            '[retention]\nfailed = "a while"\n',
            {},
            "setting retention.failed = 'a while' (file {file}): a duration is like 30d",
        ),
        (
            '[server]\nqueues = " , "\n',
            {},
            "setting server.queues = ' , ' (file {file})",
        ),
    ],
)
def test_a_wrong_value_names_its_key_and_source(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    toml: str,
    env: dict[str, str],
    expected: str,
) -> None:
    file = write(tmp_path / "backburner.toml", toml)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        Settings()
    assert expected.format(file=file) in str(raised.value)


def test_a_wrong_flag_or_argument_is_named_as_such() -> None:
    with pytest.raises(SettingsError, match=r"server\.workers = -1 \(flag --workers\)"):
        Settings().override({"server.workers": (-1, Source("flag", "--workers"))})
    with pytest.raises(SettingsError, match=r"server\.queues = \[\] \(code\)"):
        Backburner("memory://")._server_options([], None, None, None)


def test_file_errors_name_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = write(tmp_path / "backburner.toml", "[server\n")
    with pytest.raises(SettingsError, match=re.escape(f"cannot read settings from {broken}")):
        Settings()
    monkeypatch.setenv("BACKBURNER_CONFIG", str(tmp_path / "missing.toml"))
    missing = r"BACKBURNER_CONFIG names .*missing\.toml, which is not a file"
    with pytest.raises(SettingsError, match=missing):
        Settings()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", dt.timedelta(days=30)),
        ("1h30m", dt.timedelta(minutes=90)),
        ("90s", dt.timedelta(seconds=90)),
        ("2w", dt.timedelta(weeks=2)),
        ("45", dt.timedelta(seconds=45)),
        ("keep", None),
        ("0", dt.timedelta(0)),
    ],
)
def test_durations(monkeypatch: pytest.MonkeyPatch, text: str, expected: dt.timedelta) -> None:
    monkeypatch.setenv("BACKBURNER__RETENTION__SUCCEEDED", text)
    assert Settings().retention.succeeded == expected


@pytest.mark.parametrize(
    "value", ["inf", "1e20", "99999999999d", "365001d", 1e300, float("inf"), dt.timedelta.max]
)
def test_a_duration_too_long_for_a_timedelta_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str | float | dt.timedelta
) -> None:
    retention: dict[str, float | dt.timedelta] = {}
    if isinstance(value, str):
        monkeypatch.setenv("BACKBURNER__RETENTION__SUCCEEDED", value)
    else:
        retention["succeeded"] = value
    with pytest.raises(SettingsError, match=r"retention\.succeeded = .*too long"):
        Settings(retention=retention)


@pytest.mark.parametrize("value", ["inf", "1e12"])
def test_a_server_timeout_too_long_for_a_date_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # Else every reader of the servers' heartbeats (app.stats(), the rescue) overflows.
    monkeypatch.setenv("BACKBURNER__SERVER__SERVER_TIMEOUT", value)
    with pytest.raises(SettingsError, match=r"server\.server_timeout = '.*'.*(finite|less than)"):
        Settings()


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"retention\.deleted = -5 .*greater than or equal"):
        Settings(retention={"deleted": -5})


def test_the_app_reads_its_settings_and_its_arguments_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "backburner.toml",
        """
        [storage]
        url = "memory://"
        auto_migrate = false
        [server]
        workers = 3
        queues = "critical,default"
        [retention]
        failed = "keep"
        succeeded = "1h"
        """,
    )
    app = Backburner()
    assert app.storage_url == "memory://"
    assert app.settings.storage.auto_migrate is False
    assert app.retention[JobState.FAILED] is None
    assert app.retention[JobState.SUCCEEDED] == dt.timedelta(hours=1)
    options = app._server_options(None, None, None, None)
    assert (options.queues, options.workers) == (("critical", "default"), 3)
    assert app._server_options(None, 5, None, None).workers == 5

    monkeypatch.setenv("BACKBURNER_URL", "sqlite:///from-env.db")
    coded = Backburner("memory://", retention={"succeeded": None})
    assert coded.storage_url == "memory://"
    assert coded.settings.source_of("storage.url").kind == "code"
    assert coded.retention[JobState.SUCCEEDED] is None
    assert coded.retention[JobState.FAILED] is None  # the file's, untouched

    with pytest.raises(SettingsError, match=r"unknown setting retention\.enqueued"):
        Backburner("memory://", retention={"enqueued": None})


def test_settings_passed_in_are_kept(tmp_path: Path) -> None:
    settings = Settings(storage={"url": "memory://"}, server={"workers": 2})
    app = Backburner(settings=settings)
    assert app.storage_url == "memory://"
    assert app._server_options(None, None, None, None).workers == 2


def test_backend_options_go_to_the_urls_backend_only(tmp_path: Path) -> None:
    write(
        tmp_path / "backburner.toml",
        """
        [storage.postgres]
        schema = "jobs"
        pool_max_size = 3
        pool_timeout = 2.5
        [storage.sqlite]
        busy_timeout = 4
        """,
    )
    postgres = Backburner("postgresql://app@db/app?pool_max_size=7")
    # The URL's own query is the more specific, so it wins over the settings.
    assert postgres._storage_options == {"schema": "jobs", "pool_timeout": 2.5}
    assert Backburner("postgresql://app@db/app", pool_timeout=1.0)._storage_options == {
        "schema": "jobs",
        "pool_max_size": 3,
        "pool_timeout": 1.0,
    }
    assert Backburner("sqlite:///x.db")._storage_options == {"busy_timeout": 4.0}
    assert Backburner("memory://")._storage_options == {}


def test_a_postgresql_url_without_psycopg_says_which_extra_to_install(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["psycopg"] = None  # as if it were not installed
        from backburner import Backburner, StorageError
        Backburner("sqlite:///ok.db").stats()  # SQLite does not need it
        try:
            Backburner("postgresql://postgres@127.0.0.1/test").stats()
        except StorageError as error:
            print(error)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == (
        "PostgreSQL storage needs psycopg, which is not installed: "
        "pip install 'backburner[postgres]'"
    )


def test_the_hosting_switch_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BACKBURNER__HOSTING__ENABLED", "false")
    monkeypatch.setenv("BACKBURNER__HOSTING__DISABLED", "poll, sweep")
    settings = Settings()
    assert settings.hosting.enabled is False
    assert settings.hosting.disabled == ("poll", "sweep")
    assert settings.source_of("hosting.enabled").where == "BACKBURNER__HOSTING__ENABLED"
