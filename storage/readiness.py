"""Whether this replica can do its work against the database it is connected to (``GET /readyz``).

Liveness (``/healthz``) only asks whether the process answers and the database takes a ``SELECT 1``. Readiness asks
what a request needs: the schema at the code's migration head, and the department rows this process loaded at
start (their ids are cached) still there, as the configuration names them. A database recreated under a running
replica passes the first check and fails every ``/ingest``; it fails this one, naming the cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from storage.db import MIGRATIONS, current_revision
from storage.departments import DepartmentIds
from storage.models import Department
from stories.config import CxConfig


@dataclass(frozen=True, slots=True)
class Readiness:
    """``ok`` and, when not, ``check`` (database | schema | departments) and ``reason`` (says what fixes it)."""

    ok: bool
    check: str = ""
    reason: str = ""
    revision: str | None = None


@cache
def code_head() -> str | None:
    """The newest migration the code has (read once: probes come every few seconds)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def readiness(engine: Engine, *, config: CxConfig, departments: DepartmentIds) -> Readiness:
    """The first failing check, or ok. Never raises for a database problem (that is the answer)."""
    head = code_head()
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        return Readiness(False, "database", f"the database is unreachable ({type(exc).__name__}); check DATABASE_URL")
    try:
        revision = current_revision(engine)
    except SQLAlchemyError as exc:
        return Readiness(False, "schema", f"the migration version cannot be read ({type(exc).__name__})")
    if revision != head:
        state = "has no cxbot tables" if revision is None else f"is at revision {revision}"
        return Readiness(
            False,
            "schema",
            f"the database {state}, the code needs {head}; run `cxbot db upgrade` and restart this replica",
            revision,
        )
    try:
        with engine.connect() as conn:
            rows = {
                name.casefold(): (did, slack)
                for did, name, slack in conn.execute(select(Department.id, Department.name, Department.slack_channel))
            }
    except SQLAlchemyError as exc:
        return Readiness(False, "departments", f"the departments cannot be read ({type(exc).__name__})", revision)
    for department in config.departments:
        row = rows.get(department.name.casefold())
        expected = departments.id_of(department.name)
        if row is None:
            return Readiness(
                False,
                "departments",
                f"department {department.name!r} from the configuration has no row (was the database recreated?); "
                "restart this replica to recreate it",
                revision,
            )
        if row[0] != expected:
            return Readiness(
                False,
                "departments",
                f"department {department.name!r} has id {row[0]} in the database, this replica loaded {expected} "
                "(was the database recreated?); restart this replica",
                revision,
            )
        if row[1] != department.slack_channel:
            return Readiness(
                False,
                "departments",
                f"department {department.name!r} has Slack channel {row[1]!r} in the database, the configuration "
                f"says {department.slack_channel!r} (another replica runs another configuration?); give every "
                "replica the same CX_CONFIG",
                revision,
            )
    return Readiness(True, revision=revision)
