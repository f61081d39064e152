from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_core_threads_default_to_one_and_three_with_a_language_model() -> None:
    assert Settings().core_threads == 1
    assert Settings(openai_model="m", openai_base_url="http://127.0.0.1:9/v1").core_threads == 3
    assert Settings(cx_core_threads=4).core_threads == 4


def test_settings_errors_name_the_variable() -> None:
    with pytest.raises(ValidationError, match="cx_core_threads"):
        Settings(cx_core_threads=0)
    with pytest.raises(ValidationError, match="OPENAI_API_KEY nor OPENAI_BASE_URL"):
        Settings(openai_model="gpt-4o-mini")


def test_teams_emulator_mode_is_asked_for_explicitly_and_never_beside_an_app_id() -> None:
    assert not Settings().teams_enabled
    assert Settings(cx_teams_emulator=True).teams_enabled
    assert Settings(microsoft_app_id="a", microsoft_app_password="p").teams_enabled
    with pytest.raises(ValidationError, match="CX_TEAMS_EMULATOR=true and MICROSOFT_APP_ID are both set"):
        Settings(cx_teams_emulator=True, microsoft_app_id="a")


def test_pool_settings_from_the_environment_reach_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import event

    from bot.cli import _settings
    from storage.db import make_engine, refuse_dead_connection

    for name, value in {"DB_POOL_SIZE": "3", "DB_MAX_OVERFLOW": "2", "DB_POOL_RECYCLE": "600"}.items():
        monkeypatch.setenv(name, value)
    settings = _settings()
    engine = make_engine("postgresql://cx@127.0.0.1:9/cx", pool=settings.pool)  # not connected: only its pool read
    assert (engine.pool.size(), engine.pool._max_overflow, engine.pool._recycle) == (3, 2, 600)  # type: ignore[attr-defined]
    # pre-ping on: psycopg connections are checked at checkout without a query (storage.db.alive_without_a_query)
    assert event.contains(engine, "checkout", refuse_dead_connection)


@pytest.mark.parametrize(
    ("name", "value"),
    [("DB_POOL_SIZE", "0"), ("DB_MAX_OVERFLOW", "-1"), ("DB_POOL_TIMEOUT", "0"), ("DB_POOL_PRE_PING", "maybe")],
)
def test_a_bad_pool_setting_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    from bot.cli import _settings

    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match=f"{name}: "):
        _settings()


def test_the_cli_reads_dot_env_in_the_current_folder_and_the_environment_wins(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import _settings

    (tmp_path / ".env").write_text(
        "# as .env.example writes it\nSLACK_BOT_TOKEN=xoxb-from-dot-env\nSLACK_SIGNING_SECRET=s\nCX_INGEST_TOKEN=from-file\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("bot.cli.ENV_FILE", ".env")  # as cxbot runs (the suite's conftest turns it off)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("CX_INGEST_TOKEN", "from-environment")
    settings = _settings()
    assert settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value() == "xoxb-from-dot-env"
    assert settings.cx_ingest_token is not None and settings.cx_ingest_token.get_secret_value() == "from-environment"


@pytest.mark.parametrize("url", ["mysql://cx:secret@db/cx", "mssql+pyodbc://db/cx", "cxbot.db"])
def test_a_database_cxbot_cannot_run_on_is_refused_naming_the_variable_and_the_two_it_can(url: str) -> None:
    with pytest.raises(ValidationError, match=r"DATABASE_URL must be sqlite:///FILE or postgresql://") as error:
        Settings(database_url=url)
    assert "secret" not in str(error.value).split("input_value")[0]


def test_sqlite_and_postgresql_urls_are_taken() -> None:
    for url in ("sqlite:///cxbot.db", "sqlite://", "postgresql://cx@db/cx", "postgresql+psycopg://cx@db/cx"):
        assert Settings(database_url=url).database_url == url


def test_an_empty_variable_is_an_unset_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # as an admin leaves lines of .env.example uncommented and not yet filled in
    for name in ("CX_INGEST_TOKEN", "CX_HASH_KEY", "CX_CORE_THREADS", "SLACK_BOT_TOKEN", "SLACK_API_URL", "PORT"):
        monkeypatch.setenv(name, "")
    settings = Settings()
    assert settings.cx_ingest_token is None and settings.cx_hash_key is None and settings.slack_bot_token is None
    assert (settings.core_threads, settings.slack_api_url, settings.port) == (1, "https://slack.com/api/", 3000)


def test_a_configuration_path_under_the_home_folder_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CX_CONFIG", "~/cxbot.yaml")  # as written in .env, where no shell expands it
    assert Settings().cx_config == tmp_path / "cxbot.yaml"
