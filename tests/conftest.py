"""Shared fixtures.

Every test that takes ``database_url`` or ``engine`` runs on SQLite and again on PostgreSQL when
CX_TEST_DATABASE_URL is set (.ci/run sets it). Tests never read the host's environment: every cxbot
variable is removed before each test.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text

from storage.db import make_engine, upgrade

PG_URL = os.environ.get("CX_TEST_DATABASE_URL")

# Property tests explore the same examples on every run (a red CI run must be reproducible, and a shared
# 2-core machine must not fail them on timing); HYPOTHESIS_PROFILE=explore searches afresh.
hypothesis_settings.register_profile("repeatable", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.register_profile("explore", deadline=None, max_examples=1000)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
_ENV_PREFIXES = ("CX_", "DB_", "SLACK_", "OPENAI_", "MICROSOFT_", "DATABASE_URL", "PORT", "LOG_LEVEL")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith(_ENV_PREFIXES) and name != "CX_TEST_DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("bot.cli.ENV_FILE", None)  # nor a developer's .env (compose's, in the checkout) read by `cxbot`


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """`cxbot ...` (bot.cli.main) sets up the process's logging: a root handler on the stderr of the moment (a
    test's capture) and the levels. Undone after each test, so no later test writes to a finished capture."""
    from bot.logs import BODY_LOGGERS

    names = ("", "apscheduler", *BODY_LOGGERS)
    levels = {name: logging.getLogger(name or None).level for name in names}
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_cxbot_handler", False)]:
        root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name or None).setLevel(level)


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        return f"PostgreSQL run: on ({PG_URL})"
    return "PostgreSQL run: SKIPPED (CX_TEST_DATABASE_URL is not set; tests run on SQLite only)"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if not PG_URL:
        terminalreporter.write_line(
            "PostgreSQL run skipped: set CX_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1/test) "
            "to run every database test on PostgreSQL too."
        )


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_engine(tmp_path: Path, _sqlite_template: Path) -> Iterator[Engine]:
    """A migrated SQLite database of its own, for tests whose subject does not depend on the database."""
    shutil.copy(_sqlite_template, tmp_path / "cxbot.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'cxbot.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _pg_schema() -> Iterator[str]:
    """One migrated schema per test session; tables are emptied after each test."""
    assert PG_URL
    schema = f"cxtest_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _with_search_path(PG_URL, schema)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database."""
    if request.param == "sqlite":
        path = tmp_path / "cxbot.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL run skipped: CX_TEST_DATABASE_URL is not set")
    url = request.getfixturevalue("_pg_schema")
    yield url
    engine = make_engine(url)
    with engine.begin() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_app(database_url: str):  # type: ignore[no-untyped-def]
    """Build cxbot's App on the test database with explicit settings (never the host's environment)."""
    from bot.app import build
    from bot.settings import Settings

    built = []

    def _make(**settings: object):  # type: ignore[no-untyped-def]
        app = build(Settings(database_url=database_url, **settings))  # type: ignore[arg-type]
        built.append(app)
        return app

    yield _make
    for app in built:
        app.close()


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    return make_app()
