"""Block Kit for the weekly pattern report: header, the week's facts, each pattern with its quote, the chart.

The wording comes from :mod:`stories.patterns` (``report_summary``, ``pattern_line``); quotes are customer text
(redacted) and go through :func:`handlers.slack.mrkdwn.safe`, like every customer string. The chart is an image
block on a file the app uploaded (``slack_file``), so the report is one message that carries its delivery key.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, ImageBlock, SectionBlock

from handlers.slack.mrkdwn import safe, text_object
from stories.patterns import PROOFS_HEADING, PatternReport, pattern_line, report_summary
from stories.presentation import clean_text, truncate

HEADER_LIMIT = 150
QUOTE_LIMIT = 300
FALLBACK_LIMIT = 300


def report_heading(report: PatternReport) -> str:
    return f"Weekly patterns: {report.department}"


def report_blocks(report: PatternReport, *, chart_file_id: str | None) -> list[dict]:
    summary = report_summary(report)
    blocks: list[Block] = [
        HeaderBlock(text=truncate(clean_text(report_heading(report)), HEADER_LIMIT)),
        SectionBlock(text=text_object("\n".join(safe(line, 500) for line in summary))),
    ]
    for title, patterns in (("Recurring themes", report.themes), ("Similar comments", report.similar)):
        if not patterns:
            continue
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=text_object(f"*{title}*")))
        for pattern in patterns:
            quote = safe(pattern.quote, QUOTE_LIMIT)
            blocks.append(SectionBlock(text=text_object(f"*{safe(pattern_line(pattern), 300)}*\n> {quote}")))
    if not report.patterns:
        blocks.append(ContextBlock(elements=[text_object("No theme came up more than once this week.")]))
    if report.proofs:
        blocks.append(DividerBlock())
        lines = "\n".join(f"• {safe(line, 400)}" for line in report.proofs)
        blocks.append(SectionBlock(text=text_object(f"*{PROOFS_HEADING}*\n{lines}")))
    if chart_file_id is not None:
        blocks.append(
            ImageBlock(
                slack_file={"id": chart_file_id},
                alt_text=truncate(f"Chart: patterns, NPS and CSAT for {report.department}", 200),
            )
        )
    return [block.to_dict() for block in blocks]


def report_fallback(report: PatternReport) -> str:
    return truncate(clean_text(f"{report_heading(report)}: {report_summary(report)[0]}"), FALLBACK_LIMIT)
