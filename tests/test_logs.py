from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import text

from bot.logs import DatabaseDetailFilter

SECRET = "-".join(["jane.doe@example.com", "wrote", "this"])  # built, so no source line in a traceback shows it


def test_a_database_error_logs_its_kind_and_traceback_but_not_the_row(engine) -> None:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(DatabaseDetailFilter())
    log = logging.getLogger("cxbot.test.logs")
    log.addHandler(handler)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TEMPORARY TABLE secret (t TEXT CHECK (length(t) < 3))"))
            with pytest.raises(Exception) as failure:
                conn.execute(text("INSERT INTO secret VALUES (:t)"), {"t": SECRET})
            log.error("write failed", exc_info=failure.value)
    finally:
        log.removeHandler(handler)
    output = stream.getvalue()
    assert "write failed" in output and "Traceback" in output
    assert "IntegrityError" in output  # what failed is still said
    assert SECRET not in output and "jane.doe" not in output
