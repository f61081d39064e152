"""The weekly pattern report: grouping similar comments, themes against the previous four weeks, scores, the
most-reacted story, the chart, and the report as Slack and Teams post it (over HTTP to the fakes)."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.charts import report_chart
from handlers.slack.client import web_client
from handlers.slack.notifier import SlackNotifier
from storage.patterns import SqlPatternStories
from stories.config import Department
from stories.patterns import (
    PatternReport,
    PatternStory,
    build_report,
    content_words,
    pattern_line,
    plan_reports,
    report_slot,
    report_summary,
    report_week,
    similar_groups,
)
from stories.stats import PeriodFigures
from tests.fakes.bf_connector import FakeConnector
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackApi
from tests.scheduling.world import add_story, make_app
from tests.teams.world import FINANCE, World

BERLIN = ZoneInfo("Europe/Berlin")
OPS = Department(name="Ops", slack_channel="C0OPS00001", timezone="Europe/Berlin")
MONDAY = datetime(2026, 6, 8, 8, 0, tzinfo=BERLIN).astimezone(UTC)  # a report slot
WEEK = (datetime(2026, 6, 1, tzinfo=BERLIN).astimezone(UTC), datetime(2026, 6, 8, tzinfo=BERLIN).astimezone(UTC))

LATE = [
    "The parcel arrived three days late and nobody told me",
    "My parcel was late again, the courier never came",
    "Late parcel, courier left it at the wrong door",
]
BILLING = ["I was charged twice on my invoice", "The invoice charged me twice for one order"]
ODD = ["Lovely staff in the Leeds store"]


@dataclass
class MemoryPatterns:
    """The report's two ports in memory: stories per department, and scores per story."""

    stories: list[PatternStory] = field(default_factory=list)
    scores: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)
    closed: list[datetime] = field(default_factory=list)

    def add(
        self, text: str, *, at: datetime, themes: tuple[str, ...] = (), nps: int | None = None, reactions: int = 0
    ) -> int:
        story_id = len(self.stories) + 1
        self.stories.append(PatternStory(story_id, text[:40], text, themes, at, reactions))
        self.scores[story_id] = (nps, None)
        return story_id

    def pattern_stories(self, *, department: str, since: datetime, until: datetime) -> list[PatternStory]:
        return [s for s in self.stories if since <= s.created_at < until]

    def period_figures(self, *, department: str | None, since: datetime, until: datetime) -> PeriodFigures:
        inside = [s.story_id for s in self.stories if since <= s.created_at < until]
        nps = tuple(n for i in inside if (n := self.scores[i][0]) is not None)
        return PeriodFigures(nps, (), 0, 0, len(inside), sum(1 for c in self.closed if since <= c < until), ())


def week_of_stories(source: MemoryPatterns, *, start: datetime) -> None:
    for n, text in enumerate([*LATE, *BILLING, *ODD]):
        themes = ("late delivery",) if text in LATE else ("billing",) if text in BILLING else ()
        source.add(text, at=start + timedelta(hours=n + 1), themes=themes, nps=2 if text in LATE else 8)


def test_similar_comments_group_together_and_a_single_one_is_no_pattern() -> None:
    stories = [PatternStory(i, t, t, (), WEEK[0] + timedelta(hours=i)) for i, t in enumerate([*LATE, *BILLING, *ODD])]
    groups = similar_groups(stories)
    sizes = sorted(len(g.members) for g in groups)
    assert sizes == [1, 2, 3]
    late = next(g for g in groups if len(g.members) == 3)
    assert "parcel" in late.label and "late" in late.label
    assert content_words("Email me at [email] about the parcels") == frozenset({"email", "parcel"})


def test_themes_are_counted_against_the_four_weeks_before_with_a_representative_quote() -> None:
    source = MemoryPatterns()
    week_of_stories(source, start=WEEK[0])
    source.add(LATE[0], at=WEEK[0] - timedelta(days=10), themes=("late delivery",), nps=3)  # two weeks before
    source.add(LATE[1], at=WEEK[0] - timedelta(days=20), themes=("late delivery",), nps=4)
    source.add("A great helpful courier", at=WEEK[0] + timedelta(days=2), reactions=4)
    source.closed.append(WEEK[0] + timedelta(days=1))

    report = build_report(department=OPS, since=WEEK[0], until=WEEK[1], stories=source, stats=source)

    late = next(p for p in report.themes if p.label == "late delivery")
    assert (late.count, late.previous, late.change) == (3, 0.5, "+500%")
    assert late.quote in LATE and late.story_id in {s.story_id for s in source.stories if s.text == late.quote}
    billing = next(p for p in report.themes if p.label == "billing")
    assert (billing.count, billing.change) == (2, "new")
    assert pattern_line(billing) == "billing: 2 stories (new)"
    assert [p.count for p in report.similar][:2] == [3, 2]
    assert report.stories == 7 and len(report.weeks) == 5
    assert report.weeks[-1].nps == -50.0  # 3 detractors (NPS 2) and 3 passives (NPS 8)
    assert report.commitments_closed == 1 and report.commitments_opened == 7
    assert report.top_story is not None and report.top_story.reactions == 4


def test_report_survives_the_outbox_as_json() -> None:
    source = MemoryPatterns()
    week_of_stories(source, start=WEEK[0])
    report = build_report(department=OPS, since=WEEK[0], until=WEEK[1], stories=source, stats=source)
    assert PatternReport.from_payload(json.loads(json.dumps(report.to_payload()))) == report
    assert report_summary(report)[0] == "Ops: the week of Mon 01 Jun to Sun 07 Jun 2026, 6 stories"


def test_the_report_week_is_seven_local_days_even_across_a_dst_change() -> None:
    slot = report_slot(OPS, now=datetime(2026, 3, 30, 12, tzinfo=UTC))  # the Monday after clocks went forward
    assert slot is not None and slot.label == "2026-03-30T08:00"
    since, until = report_week(OPS, slot=slot)
    assert until - since == timedelta(hours=167)
    assert since.astimezone(BERLIN) == datetime(2026, 3, 23, tzinfo=BERLIN)
    assert until.astimezone(BERLIN) == datetime(2026, 3, 30, tzinfo=BERLIN)


def test_a_report_is_planned_once_per_platform_and_not_for_an_empty_week() -> None:
    source = MemoryPatterns()
    week_of_stories(source, start=WEEK[0])
    now = MONDAY + timedelta(hours=1)
    plans = plan_reports(
        department=OPS, channels={"slack": "C1", "teams": "19:t"}, stories=source, stats=source, now=now
    )
    assert [p.key for p in plans] == ["report:Ops:slack:2026-06-08T08:00", "report:Ops:teams:2026-06-08T08:00"]
    assert (
        plan_reports(
            department=OPS, channels={"slack": "C1"}, stories=source, stats=source, now=now, planned=[plans[0].key]
        )
        == []
    )
    empty = plan_reports(department=OPS, channels={"slack": "C1"}, stories=MemoryPatterns(), stats=source, now=now)
    assert empty == []


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_chart_is_a_small_png_and_takes_any_label() -> None:
    source = MemoryPatterns()
    week_of_stories(source, start=WEEK[0])
    source.add("Price was $100 more than $80 quoted", at=WEEK[0] + timedelta(hours=30), themes=("pricing $$",))
    report = build_report(department=OPS, since=WEEK[0], until=WEEK[1], stories=source, stats=source)
    png = report_chart(report)
    assert _png_size(png) == (720, 288)
    assert len(png) < 60_000


def test_stories_for_the_report_come_with_their_reactions(database_url: str) -> None:
    app = make_app(database_url)
    try:
        first = add_story(app, "The parcel came late", at=WEEK[0] + timedelta(hours=2), key="a")
        add_story(app, "The parcel came late again", at=WEEK[0] - timedelta(hours=2), key="b")  # the week before
        for user in ("U1", "U2"):
            app.followups.set_reaction(
                story_id=first, platform="slack", user_id=user, emoji="eyes", added=True, now=MONDAY
            )
        found = SqlPatternStories(app.engine).pattern_stories(department="Ops", since=WEEK[0], until=WEEK[1])
    finally:
        app.close()
    assert [(s.story_id, s.reactions, s.text) for s in found] == [(first, 2, "The parcel came late")]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


def a_report() -> PatternReport:
    source = MemoryPatterns()
    week_of_stories(source, start=WEEK[0])
    source.add("Courier <!channel> *bold* <at>Everyone</at> lies", at=WEEK[0] + timedelta(hours=40), themes=("safety",))
    return build_report(department=OPS, since=WEEK[0], until=WEEK[1], stories=source, stats=source)


async def test_slack_report_is_one_message_with_the_uploaded_chart_and_its_delivery_key(slack: FakeSlackApi) -> None:
    notifier = SlackNotifier(client=web_client(base_url=slack.base_url, token=DEFAULT_TOKEN))
    report = a_report()
    chart = report_chart(report)

    posted = await notifier.post_report(channel="C0OPS00001", report=report, chart_png=chart, key="report:Ops:slack:x")

    (complete,) = slack.calls_to("files.completeUploadExternal", ok_only=True)
    file_id = (
        json.loads(complete.params["files"])[0]["id"]
        if isinstance(complete.params["files"], str)
        else complete.params["files"][0]["id"]
    )
    assert slack.uploads[file_id] == chart
    assert not complete.params.get("channel_id")  # not shared on its own: it shows inside the report
    (post,) = slack.calls_to("chat.postMessage", ok_only=True)
    assert posted.message_id == post.response["ts"]
    assert post.params["metadata"]["event_payload"]["key"] == "report:Ops:slack:x"
    images = [b for b in post.blocks if b["type"] == "image"]
    assert images == [
        {"type": "image", "slack_file": {"id": file_id}, "alt_text": "Chart: patterns, NPS and CSAT for Ops"}
    ]
    text = post.payload_text()
    assert "late delivery: 3 stories (new)" in text and "safety: 1 story (new)" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


async def test_teams_report_is_a_card_with_the_chart_inline_and_quotes_as_plain_text(
    database_url: str,
) -> None:
    async with FakeConnector() as connector:
        world = World(database_url, connector)
        cx = await world.start()
        try:
            assert (await cx.post(world.load("message_cx_link")))[0] == 200
            report = a_report()
            chart = report_chart(report)
            await cx.teams.notifier.post_report(channel=FINANCE, report=report, chart_png=chart, key="report:x")
        finally:
            await world.close()
    (send,) = [
        c
        for c in connector.calls_of("send")
        if c.conversation_id == FINANCE and c.cards and "Weekly patterns" in c.payload_text()
    ]
    (card,) = send.cards
    (image,) = [e for e in card["body"] if e["type"] == "Image"]
    assert base64.b64decode(image["url"].removeprefix("data:image/png;base64,")) == chart
    runs = [i["text"] for e in card["body"] if e["type"] == "RichTextBlock" for i in e["inlines"]]
    quotes = [r for r in runs if "Everyone" in r]
    assert quotes and all("<at>" not in q and "<\u2060!channel>" in q for q in quotes)
    assert not [e for e in card["body"] if e["type"] == "TextBlock" and "Everyone" in e["text"]]
    assert len(json.dumps(send.json).encode()) < 28_000  # under Teams' message size limit, chart included


async def test_the_planner_queues_this_weeks_report_and_the_dispatcher_posts_it(
    database_url: str, slack: FakeSlackApi
) -> None:
    app = make_app(database_url, slack_url=slack.base_url)
    try:
        for n, text in enumerate(LATE):
            add_story(app, text, at=WEEK[0] + timedelta(hours=n + 1), key=f"s{n}")
        from bot.dispatch import connect_notifiers

        connect_notifiers(app)
        queued = app.planner.queue(MONDAY + timedelta(minutes=2), departments=["Ops"])
        again = app.planner.queue(MONDAY + timedelta(minutes=7), departments=["Ops"])
        sent = await app.dispatcher.drain()
    finally:
        app.close()
    assert (queued, again, sent) == (1, 0, 1)
    (post,) = slack.calls_to("chat.postMessage", ok_only=True)
    assert post.params["metadata"]["event_payload"]["key"] == "report:Ops:slack:2026-06-08T08:00"
    assert any(b["type"] == "image" for b in post.blocks)
