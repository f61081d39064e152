"""Several replicas start at once and each runs ``cxbot db upgrade`` (the image's entry point): one migrates, the
others wait for it and find nothing to do (storage/migrations/env.py takes the lock). Real processes on one fresh
database, all released at the same instant after their imports."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import head_revision, make_engine
from tests.conftest import PG_URL, _with_search_path

REPLICAS = 3

UPGRADE = """
import sys, time
from storage.db import make_engine, upgrade
engine = make_engine(sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
upgrade(engine)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: no tables, no alembic_version."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL run skipped: CX_TEST_DATABASE_URL is not set")
    schema = f"cxup_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield _with_search_path(PG_URL, schema)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_replicas_upgrading_one_fresh_database_at_once_all_succeed_and_migrate_it_once(fresh_url: str) -> None:
    start = time.time() + 4.0  # every process has imported cxbot by then (2 shared cores, a loaded machine)
    root = Path(__file__).resolve().parents[1]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE, fresh_url, str(start)],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(REPLICAS)
    ]
    results = []
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        results.append((proc.returncode, err))
    assert time.time() > start, "the processes were not released together"
    for code, err in results:
        assert code == 0, err[-2000:]
        assert "already exists" not in err and "DuplicateTable" not in err
    engine = make_engine(fresh_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision(engine)]
    engine.dispose()
