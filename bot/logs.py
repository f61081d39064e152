"""Logging set-up: customer text never reaches a log, not even inside a database error.

SQLAlchemy's ``hide_parameters`` keeps bound values out of its messages, but the database's own message can
still carry a row (PostgreSQL: ``DETAIL: Failing row contains (...)``). :class:`DatabaseDetailFilter` keeps the
traceback and replaces such an exception's text with its type and SQLSTATE.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class DatabaseError(Exception):
    """Stands in for a database exception in logs: what failed, without the database's words."""


class DatabaseDetailFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, DBAPIError) and record.exc_info is not None:
            original = exc.orig
            state = getattr(getattr(original, "diag", None), "sqlstate", None) or getattr(original, "sqlstate", None)
            summary = DatabaseError(f"{type(exc).__name__} from {type(original).__name__} (SQLSTATE {state or '?'})")
            record.exc_info = (DatabaseError, summary, record.exc_info[2])
            record.exc_text = None
        return True


def configure(level: str) -> None:
    """Root logging for the cxbot process, with every handler filtering database details."""
    logging.basicConfig(level=level, format=FORMAT)
    if level != "DEBUG":  # APScheduler's "Added job ..." per job at start: most of the start-up log otherwise
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(DatabaseDetailFilter())
