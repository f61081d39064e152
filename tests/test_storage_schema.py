from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine

from storage.db import SchemaBehind, alembic_config, make_engine, require_current, upgrade


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
