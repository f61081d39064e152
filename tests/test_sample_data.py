"""The bundled sample comments: a well-formed survey export that exercises every department and redaction."""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from handlers.csv_import import read_csv
from stories.routing import Router

SAMPLE = Path(__file__).resolve().parent.parent / "bot" / "data" / "sample_comments.csv"
COLUMNS = ["Response ID", "Submitted At", "Comment", "NPS", "CSAT", "Segment", "Channel"]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def score(value: str) -> int | None:
    return int(value) if value else None


def test_sample_has_enough_well_formed_rows(rows: list[dict[str, str]]) -> None:
    assert len(rows) >= 220
    assert all(None not in row and all(v is not None for v in row.values()) for row in rows)  # no ragged rows
    assert len({row["Response ID"] for row in rows}) == len(rows)
    assert len({row["Comment"] for row in rows}) == len(rows)
    assert all(row["Comment"].strip() for row in rows)


def test_dates_are_iso_8601_over_the_last_six_weeks(rows: list[dict[str, str]]) -> None:
    dates = [datetime.fromisoformat(row["Submitted At"].replace("Z", "+00:00")) for row in rows]
    assert all(d.tzinfo is not None for d in dates)
    assert min(dates) >= datetime(2026, 10, 14, tzinfo=UTC)
    assert max(dates) <= datetime(2026, 11, 28, tzinfo=UTC)
    assert (max(dates) - min(dates)).days >= 35


def test_scores_are_in_range_and_some_are_missing(rows: list[dict[str, str]]) -> None:
    nps = [score(row["NPS"]) for row in rows]
    csat = [score(row["CSAT"]) for row in rows]
    assert all(0 <= n <= 10 for n in nps if n is not None)
    assert all(1 <= c <= 5 for c in csat if c is not None)
    assert nps.count(None) >= 5 and csat.count(None) >= 5
    promoters = sum(1 for n in nps if n is not None and n >= 9)
    assert 0.2 <= promoters / len(rows) <= 0.4


def test_quoting_keeps_commas_quotes_and_line_breaks_inside_comments(rows: list[dict[str, str]]) -> None:
    comments = [row["Comment"] for row in rows]
    assert any("," in c and '"' in c for c in comments)
    assert any("\n" in c for c in comments)


def test_sample_carries_personal_data_to_show_redaction(rows: list[dict[str, str]]) -> None:
    text = "\n".join(row["Comment"] for row in rows)
    assert re.search(r"[\w.]+@example\.com", text)
    for prefix in ("+44 ", "+1 ", "+49 "):
        assert prefix in text
    assert "4111 1111 1111 1111" in text
    assert "DE89 3704 0044 0532 0130 00" in text


def test_sample_carries_markup_and_instructions_as_plain_data(rows: list[dict[str, str]]) -> None:
    comments = [row["Comment"] for row in rows]
    assert any("<!channel>" in c for c in comments)
    assert any("ignore previous instructions" in c.casefold() for c in comments)


def test_every_department_gets_at_least_ten_comments_by_its_rules(rows: list[dict[str, str]]) -> None:
    config = load_config()
    router = Router(config)
    by_rule: Counter[str] = Counter()
    for row in rows:
        routing = router.route(
            text=row["Comment"],
            nps=score(row["NPS"]),
            csat=score(row["CSAT"]),
            sentiment=None,
            source="survey",
            segment=row["Segment"],
            fields={},
        )
        by_rule.update(r.department for r in routing.routes if r.rule != "default")
    short = {d: by_rule[d] for d in config.department_names if by_rule[d] < 10}
    assert not short, f"departments with fewer than 10 sample comments: {short}"


def test_the_csv_importer_reads_every_row(rows: list[dict[str, str]]) -> None:
    parsed = read_csv(SAMPLE.read_bytes(), name=SAMPLE.name, source="survey")
    assert parsed.errors == []
    assert [c.external_id for c in parsed.comments()] == [row["Response ID"] for row in rows]
