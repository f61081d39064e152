from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from storage.db import SchemaBehind, alembic_config, make_engine, require_current, upgrade
from storage.models import Comment


def test_migrations_match_models(engine: Engine) -> None:
    command.check(alembic_config(engine))  # raises if models and migrations disagree


def test_database_at_head_is_accepted(engine: Engine) -> None:
    require_current(engine)


def test_empty_database_is_refused_with_the_fix(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaBehind, match="cxbot db upgrade"):
        require_current(engine)
    upgrade(engine)
    require_current(engine)


def test_a_failed_write_does_not_quote_the_customers_words(engine: Engine) -> None:
    row = {"dedupe_key": "k", "source": "csv", "received_at": datetime.now(UTC), "redacted_text": "Zebra secret words"}
    with engine.begin() as conn:
        conn.execute(insert(Comment), [row])
    with pytest.raises(IntegrityError) as failed, engine.begin() as conn:
        conn.execute(insert(Comment), [row])  # the same dedupe_key again, without ON CONFLICT
    assert "Zebra" not in str(failed.value)
    assert "parameters hidden" in str(failed.value)
