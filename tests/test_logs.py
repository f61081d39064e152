from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import text

from bot.cli import main
from bot.logs import DatabaseDetailFilter, configure
from stories.log_context import bound

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


def test_console_lines_carry_the_ids_that_are_set() -> None:
    stream = io.StringIO()
    handler = configure("INFO", fmt="console", stream=stream)
    try:
        with bound(request_id="r-1", event_id="slack:event:Ev1"):
            logging.getLogger("cxbot.test.console").info("handled")
        logging.getLogger("cxbot.test.console").info("outside")
    finally:
        logging.getLogger().removeHandler(handler)  # the levels: tests/conftest.py
    inside, outside = stream.getvalue().splitlines()
    assert inside.endswith("handled request_id=r-1 event_id=slack:event:Ev1")
    assert outside.endswith("outside")


def test_json_lines_are_one_object_each_with_the_ids_and_the_traceback() -> None:
    stream = io.StringIO()
    handler = configure("INFO", fmt="json", stream=stream)
    try:
        with bound(delivery_id="42"):
            try:
                raise ValueError("boom")
            except ValueError:
                logging.getLogger("cxbot.test.json").exception("delivery failed")
    finally:
        logging.getLogger().removeHandler(handler)  # the levels: tests/conftest.py
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"], entry["delivery_id"]) == (
        "ERROR",
        "cxbot.test.json",
        "delivery failed",
        "42",
    )
    assert "ValueError: boom" in entry["exception"] and "request_id" not in entry


def test_an_unknown_log_format_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(SystemExit) as stopped:
        main(["db", "current"])
    assert "LOG_FORMAT" in str(stopped.value) and "'json' or 'console'" in str(stopped.value)
