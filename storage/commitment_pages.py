"""`/cx actions` pages: a department's or a person's open commitments, counted, filtered, sorted and cut in SQL.

Each page shape (how many departments or an owner, overdue or not) has its two statements, the count and the
page, built once and kept. On PostgreSQL they are compiled once to SQL text and run on the pooled psycopg
connection's own cursor, tuples out: SQLAlchemy's per-statement execution and result set-up cost the cheapest page
(a person's, 0.2 ms of queries) more than its queries (bench/actions.py measures the page beside the same two
queries through bare psycopg). Listeners of ``before_cursor_execute`` still see both statements. Other databases
(SQLite) run the same statements through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, Select, bindparam, exc, false, func, literal_column, select
from sqlalchemy.engine import Connection

from storage.db import read_retrying
from storage.departments import DepartmentIds
from storage.models import Commitment, Department, Story
from stories.followup import CommitmentPage, commitment_item

_C = Commitment.__table__.c


class Shape(NamedTuple):
    departments: int | None  # how many departments are asked for; None: any department
    by_owner: bool
    overdue: bool


def statements(shape: Shape) -> tuple[Select[Any], Select[Any]]:
    """The count and the page of one shape, with bound ``d0``, ``d1``... (department ids), ``owner``, ``today``,
    ``limit`` and ``offset``.

    ``commitment_order`` (overdue first, then by due date, undated last, then oldest) is ``due_date NULLS LAST,
    id``, since an open commitment is overdue exactly when its due date is before today; the partial indexes
    ix_commitments_open_department and ix_commitments_open_owner give that order, so the page's ids come from the
    index alone and only those rows are read and joined. ``'open'`` is written into the statement, not bound:
    a prepared statement's generic plan can then still use the partial indexes.
    """
    conditions: list[Any] = [_C.state == literal_column("'open'")]
    if shape.departments == 0:  # nobody's departments: nothing (an empty IN would need compiling per call)
        conditions.append(false())
    elif shape.departments is not None:
        conditions.append(_C.department_id.in_([bindparam(f"d{n}") for n in range(shape.departments)]))
    if shape.by_owner:
        conditions.append(_C.owner == bindparam("owner"))
    if shape.overdue:
        conditions.append(_C.due_date < bindparam("today"))
    count = select(func.count()).select_from(Commitment.__table__).where(*conditions)
    ids = (
        select(_C.id, _C.due_date)
        .where(*conditions)
        .order_by(_C.due_date.asc().nulls_last(), _C.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery("p")
    )
    page = (
        select(
            _C.id,
            _C.story_id,
            Story.title,
            Department.name,
            _C.owner,
            _C.owner_name,
            _C.created_by,
            _C.platform,
            _C.what,
            _C.due_date,
            _C.state,
            _C.created_at,
        )
        .select_from(ids)
        .join(Commitment.__table__, _C.id == ids.c.id)
        .outerjoin(Story, Story.id == _C.story_id)
        .outerjoin(Department, Department.id == _C.department_id)
        .order_by(ids.c.due_date.asc().nulls_last(), ids.c.id)
    )
    return count, page


class CommitmentPages:
    """Pages of open commitments; one per store, its statements kept per shape."""

    def __init__(self, engine: Engine, departments: DepartmentIds) -> None:
        # Two reads and no write: outside a transaction they spare BEGIN and ROLLBACK round trips; a total that
        # moves between the two reads is one read a moment later.
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._departments = departments
        self._psycopg = engine.dialect.driver == "psycopg"
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error if self._psycopg else Exception
        self._statements: dict[Shape, tuple[Select[Any], Select[Any]]] = {}
        self._sql: dict[Shape, tuple[str, str]] = {}

    def page(
        self,
        *,
        today: date,
        departments: Sequence[str] | None,
        owner: str | None,
        overdue: bool,
        page: int,
        size: int,
    ) -> CommitmentPage:
        """One page; ``page`` is clamped to 1..pages. A read on a connection the server dropped is tried once more."""
        shape = Shape(None if departments is None else len(departments), owner is not None, overdue)
        params: dict[str, Any] = {"today": today, "owner": owner}
        for n, name in enumerate(departments or ()):
            params[f"d{n}"] = self._departments.id_of(name)

        def read(conn: Connection) -> CommitmentPage:
            run = self._run_psycopg if self._psycopg else self._run_sqlalchemy
            return run(conn, shape, params, page=page, size=size, today=today)

        return read_retrying(self._engine, read)

    def _run_sqlalchemy(
        self, conn: Connection, shape: Shape, params: dict[str, Any], *, page: int, size: int, today: date
    ) -> CommitmentPage:
        if shape not in self._statements:
            self._statements[shape] = statements(shape)
        count, page_of = self._statements[shape]
        total = int(conn.execute(count, params).scalar_one())
        clamped, pages = _clamp(page, total=total, size=size)
        rows = conn.execute(page_of, {**params, "limit": size, "offset": (clamped - 1) * size})
        return CommitmentPage(items=_items(rows, today=today), total=total, page=clamped, pages=pages)

    def _run_psycopg(
        self, conn: Connection, shape: Shape, params: dict[str, Any], *, page: int, size: int, today: date
    ) -> CommitmentPage:
        if shape not in self._sql:
            dialect = self._engine.dialect
            self._sql[shape] = tuple(str(s.compile(dialect=dialect)) for s in statements(shape))  # type: ignore[assignment]
        count_sql, page_sql = self._sql[shape]
        seen = bool(conn.dispatch.before_cursor_execute)  # tests and tracing see the statements as SQLAlchemy's
        driver = conn.connection.driver_connection
        sql, sent = count_sql, params
        try:
            with driver.cursor() as cursor:  # type: ignore[union-attr]
                if seen:
                    conn.dispatch.before_cursor_execute(conn, cursor, sql, sent, None, False)
                total = int(cursor.execute(sql, sent).fetchone()[0])
                clamped, pages = _clamp(page, total=total, size=size)
                sql, sent = page_sql, {**params, "limit": size, "offset": (clamped - 1) * size}
                if seen:
                    conn.dispatch.before_cursor_execute(conn, cursor, sql, sent, None, False)
                rows = cursor.execute(sql, sent).fetchall()
        except self._driver_error as error:
            raise self._as_sqlalchemy_error(conn, error, sql, sent) from error
        return CommitmentPage(items=_items(rows, today=today), total=total, page=clamped, pages=pages)

    def _as_sqlalchemy_error(self, conn: Connection, error: Exception, sql: str, sent: dict[str, Any]) -> Exception:
        """The error SQLAlchemy would have raised: callers catch SQLAlchemyError (a 503), logs hide the database's
        words (bot.logs), parameters stay out of the message, and a dead connection is marked so and not pooled
        again (storage.db.read_retrying then reads once more)."""
        driver = conn.connection.driver_connection
        gone = bool(getattr(driver, "closed", False) or getattr(driver, "broken", False))
        if gone:
            conn.invalidate(error)
        return exc.DBAPIError.instance(
            sql,
            sent,
            error,
            self._driver_error,
            hide_parameters=True,
            connection_invalidated=gone,
            dialect=self._engine.dialect,
        )


def _clamp(page: int, *, total: int, size: int) -> tuple[int, int]:
    pages = max(1, -(-total // size))
    return min(max(page, 1), pages), pages


def _items(rows: Any, *, today: date) -> tuple[Any, ...]:
    return tuple(
        commitment_item(
            id=id_,
            story_id=story_id,
            story_title=title,
            department=department,
            owner=who,
            owner_name=owner_name,
            created_by=created_by,
            platform=platform,
            what=what,
            due=due,
            state=state,
            created_at=_utc(created_at),
            today=today,
        )
        for id_, story_id, title, department, who, owner_name, created_by, platform, what, due, state, created_at in rows
    )


def _utc(value: datetime) -> datetime:
    """As storage.types.UTCDateTime reads it: aware, in UTC (psycopg hands timestamptz in the session's zone)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
