"""Logging set-up: JSON or console lines carrying request, event and delivery ids, and never customer text.

- ``LOG_FORMAT=json`` writes one JSON object a line (``time``, ``level``, ``logger``, ``message``, the ids of
  :mod:`stories.log_context` that are set, ``exception``); ``console`` writes the same as plain text.
- Our code logs ids, counts and kinds, never what a customer wrote (tests/test_log_privacy.py runs a comment with
  personal data through every way in at DEBUG and looks). Libraries that log whole request and response bodies at
  DEBUG (bolt, slack_sdk, botbuilder, the OpenAI client, HTTP clients) stay at INFO even when ``LOG_LEVEL=DEBUG``:
  their bodies carry comments as sent.
- SQLAlchemy's ``hide_parameters`` keeps bound values out of its messages, but the database's own message can
  still carry a row (PostgreSQL: ``DETAIL: Failing row contains (...)``). :class:`DatabaseDetailFilter` keeps the
  traceback and replaces such an exception's text with its type and SQLSTATE.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Literal

from sqlalchemy.exc import DBAPIError

from stories.log_context import current

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s%(ids)s"
LogFormat = Literal["json", "console"]
# Loggers that write request or response bodies (comments as sent) at DEBUG: never below INFO.
BODY_LOGGERS = ("slack_bolt", "slack_sdk", "botbuilder", "msrest", "openai", "httpx", "httpcore", "urllib3", "aiohttp")


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


class ContextFilter(logging.Filter):
    """Puts the ids of :mod:`stories.log_context` on the record (``record.context``, and ``record.ids`` as text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = current()
        record.context = ids
        record.ids = "".join(f" {name}={value}" for name, value in ids.items())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "context", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


_OURS = "_cxbot_handler"


def configure(level: str, *, fmt: LogFormat = "console", stream: IO[str] | None = None) -> logging.Handler:
    """Root logging for the cxbot process: one handler (replacing the one an earlier call installed) with the ids
    and the database filter. Returns the handler (tests remove it)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _OURS, True)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(FORMAT))
    handler.addFilter(ContextFilter())
    handler.addFilter(DatabaseDetailFilter())
    root.addHandler(handler)
    root.setLevel(level)
    if level != "DEBUG":  # APScheduler's "Added job ..." per job at start: most of the start-up log otherwise
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    quietest = max(logging.INFO, logging.getLevelName(level))
    for name in BODY_LOGGERS:
        logging.getLogger(name).setLevel(quietest)
    return handler
