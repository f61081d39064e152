"""The words every surface shares: periods, context lines, counts and clean customer text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from stories.presentation import (
    clean_text,
    context_line,
    digest_summary,
    hidden_count,
    more_stories_line,
    period_label,
    stats_facts,
    stats_heading,
    web_link,
)
from stories.views import StatsView
from tests.render_examples import finance_digest, refund_story


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 10, tzinfo=UTC), "3–9 Mar 2025"),
        (datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 4, tzinfo=UTC), "3 Mar 2025"),
        (datetime(2025, 3, 3, 9, tzinfo=UTC), datetime(2025, 3, 4, 9, tzinfo=UTC), "3–4 Mar 2025"),
        (datetime(2025, 2, 24, tzinfo=UTC), datetime(2025, 3, 3, tzinfo=UTC), "24 Feb – 2 Mar 2025"),
        (datetime(2024, 12, 30, tzinfo=UTC), datetime(2025, 1, 6, tzinfo=UTC), "30 Dec 2024 – 5 Jan 2025"),
    ],
)
def test_period_label_reads_the_end_as_exclusive(start: datetime, end: datetime, label: str) -> None:
    assert period_label(start, end) == label


def test_clean_text_keeps_lines_and_scripts_but_drops_controls() -> None:
    assert clean_text("a\r\nb\rc\u2028d\u2029e") == "a\nb\nc\nd\ne"
    assert clean_text("tab\there\x00\x1b[31m\x9b\x7f") == "tab\there[31m"
    assert clean_text("\u202eשלום\u2066 مرحبا\u2069 👩\u200d💻") == "שלום مرحبا 👩\u200d💻"


def test_context_line_names_each_known_fact_once() -> None:
    assert context_line(replace(refund_story(), csat=4)) == (
        "Story #4211 · NPS 2 (detractor), CSAT 4/5 · Sentiment: negative · Source: nps-survey · Segment: Enterprise"
        " · Received 4 Mar 2025 · Sent to: Finance, Support"
    )


def test_context_line_shows_the_customers_own_date_when_it_is_another_day() -> None:
    story = refund_story()  # received 4 Mar 2025
    same_day = replace(story, original_at=story.received_at.replace(hour=1))
    assert "Received 4 Mar 2025 ·" in context_line(same_day) and "Written" not in context_line(same_day)
    old = replace(story, original_at=datetime(2019, 3, 14, 10, tzinfo=UTC))
    assert " · Written 14 Mar 2019 · Received 4 Mar 2025 · " in context_line(old)


def test_counts_read_in_singular_and_plural() -> None:
    one = replace(finance_digest(), total_in_period=1, open_commitments=1)
    assert digest_summary(one) == "1 new story · 1 open commitment"
    assert more_stories_line(1) == "and 1 more story"
    assert hidden_count(finance_digest(), shown=2) == 5


def test_only_web_addresses_are_links() -> None:
    assert web_link("https://acme.slack.com/archives/C1/p1") == "https://acme.slack.com/archives/C1/p1"
    for url in (None, "", "javascript:alert(1)", "ftp://x", "https://a b", "https://a\x00b", "https://" + "a" * 600):
        assert web_link(url) is None


def test_stats_read_the_same_on_every_surface() -> None:
    view = StatsView(
        department="Finance & Billing", days=30, nps=-12.5, csat=80.0, stories_delivered=14, reactions=3,
        commitments_opened=2, commitments_closed=1, median_days_to_close=None, nps_responses=1, csat_responses=5,
    )  # fmt: skip
    assert stats_heading(view) == "Finance & Billing: last 30 days"
    assert stats_facts(view) == [
        ("NPS", "-12.5 (1 response)"),
        ("CSAT", "80% (5 responses)"),
        ("Stories delivered", "14"),
        ("Reactions", "3"),
        ("Follow-ups opened", "2"),
        ("Follow-ups closed", "1"),
        ("Median days to close", "–"),
    ]
    assert stats_heading(replace(view, department=None)) == "All departments: last 30 days"
