"""The weekly pattern report as an Adaptive Card 1.5, with its chart inline as a PNG ``data:`` URI.

The wording comes from :mod:`stories.patterns`; quotes are customer text (redacted) and go only into ``TextRun``
elements through :func:`handlers.teams.text.plain`, like every customer string in our cards. Teams refuses bot
messages over about 28 KB: the chart (a few tens of KB of PNG, a third more as base64) is left out of a card it
would push over :data:`CARD_BYTES_LIMIT`, and the card says so.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from handlers.teams.text import plain
from stories.patterns import PROOFS_HEADING, PatternReport, pattern_line, report_summary

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CARD_BYTES_LIMIT = 25_000
QUOTE_LIMIT = 300
LINE_LIMIT = 300

Json = dict[str, Any]


def _run(text: str, *, limit: int = LINE_LIMIT, **style: Any) -> Json:
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": plain(text, limit), **style}]}


def _ours(text: str, **style: Any) -> Json:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def report_card(report: PatternReport, *, chart_png: bytes | None) -> Json:
    body: list[Json] = [_run(f"Weekly patterns: {report.department}", weight="Bolder", size="Large")]
    body.extend(_run(line) for line in report_summary(report))
    for title, patterns in (("Recurring themes", report.themes), ("Similar comments", report.similar)):
        if not patterns:
            continue
        body.append(_ours(title, weight="Bolder", separator=True, spacing="Medium"))
        for pattern in patterns:
            body.append(_run(pattern_line(pattern), weight="Bolder"))
            body.append(_run(f"“{pattern.quote}”", limit=QUOTE_LIMIT, italic=True))
    if not report.patterns:
        body.append(_ours("No theme came up more than once this week.", isSubtle=True))
    if report.proofs:
        body.append(_ours(PROOFS_HEADING, weight="Bolder", separator=True, spacing="Medium"))
        body.extend(_run(line) for line in report.proofs)
    card: Json = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    card["msteams"] = {"width": "Full"}
    if chart_png:
        image = {
            "type": "Image",
            "url": "data:image/png;base64," + base64.b64encode(chart_png).decode("ascii"),
            "altText": plain(f"Chart: patterns, NPS and CSAT for {report.department}", 200),
            "size": "Stretch",
        }
        with_chart = {**card, "body": [*body, image]}
        if len(json.dumps(with_chart, separators=(",", ":")).encode()) <= CARD_BYTES_LIMIT:
            return with_chart
        body.append(_ours("(The chart is too large for a Teams message; it is in the Slack report.)", isSubtle=True))
    return card
