"""Alembic environment: the engine comes from cxbot (``config.attributes['engine']``) or DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, Engine, MetaData, text

from storage.models import Base

config = context.config


def _slack_oauth_metadata() -> MetaData:
    """slack_sdk's OAuth store tables (migration 0003), so ``alembic check`` compares them too."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    metadata = MetaData()
    store = SQLAlchemyInstallationStore
    store.build_installations_table(metadata, store.default_installations_table_name)
    store.build_bots_table(metadata, store.default_bots_table_name)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, SQLAlchemyOAuthStateStore.default_table_name)
    return metadata


target_metadata = [Base.metadata, _slack_oauth_metadata()]


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    from storage.db import make_engine

    return make_engine(os.environ.get("DATABASE_URL", "sqlite:///cxbot.db"))


def _one_at_a_time(connection: Connection) -> None:
    """Several replicas start at once and each runs ``cxbot db upgrade``: the first takes this lock, the others wait
    for its commit, then read the version it wrote and have nothing left to do. Held until the transaction ends.
    PostgreSQL: an advisory lock keyed by the schema (two schemas on one server do not wait for each other);
    SQLite: ``BEGIN IMMEDIATE`` (the database's one write lock, taken before the version is read)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('cxbot db upgrade ' || current_schema()))"))
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def run_migrations_online() -> None:
    engine = _engine()
    with engine.begin() as connection:
        _one_at_a_time(connection)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
