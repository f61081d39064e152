"""``INSERT ... ON CONFLICT DO NOTHING`` for whichever engine is in use: one statement, idempotent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, any_, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute
from sqlalchemy.sql.dml import Insert


def insert_ignore(model: type[DeclarativeBase], dialect_name: str, **kw: Any) -> Insert:
    """An insert for ``model`` that skips rows whose unique keys already exist.

    >>> insert_ignore(Comment, "sqlite")  # doctest: +SKIP
    """
    module = postgresql if dialect_name == "postgresql" else sqlite
    return module.insert(model).on_conflict_do_nothing(**kw)  # type: ignore[attr-defined, no-any-return]


def one_of(
    column: ColumnElement[Any] | QueryableAttribute[Any], values: list[Any], dialect_name: str
) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(array)``: one parameter, so the statement text is the
    same for any number of values (psycopg caches it, the server plans it once)."""
    if dialect_name == "postgresql":
        return column == any_(literal(values, postgresql.ARRAY(column.type)))
    return column.in_(values)
