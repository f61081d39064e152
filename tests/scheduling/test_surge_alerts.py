"""Surge alerts end to end: stories in the database, the planner's sweep, the outbox, and the alert as Slack and
Teams post it (over HTTP to the fakes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.dispatch import connect_notifiers
from bot.forget import forget_async
from bot.planning import Planner
from storage.models import Comment, Delivery, Story
from storage.surge import SqlSurgeStories
from stories.surge import Surge, surge_view
from tests.fakes.bf_connector import FakeConnector
from tests.fakes.slack_api import FakeSlackApi
from tests.scheduling.world import add_story, make_app
from tests.teams.world import FINANCE, World

NOW = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)  # a Wednesday afternoon, no digest or report due
TODAY = [
    "I was charged twice on my invoice for May",
    "The invoice charged me twice, please refund one",
    "Refund still missing after the double charge on my invoice",
    "My invoice shows the same order twice",
    "Charged twice again on the latest invoice <!channel>",
    "Invoice total is wrong, call me on [phone]",
]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


def _history(app, days: int = 28) -> None:  # type: ignore[no-untyped-def]
    """One billing story a day for four weeks (the usual), at noon UTC."""
    for n in range(1, days + 1):
        add_story(app, f"Question about invoice number {n}", at=NOW - timedelta(days=n, hours=2), key=f"h{n}")


def _surges(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(key, channel) of every surge alert queued."""
    query = select(Delivery.key, Delivery.channel).where(Delivery.kind == "surge").order_by(Delivery.channel)
    with app.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def test_a_comment_counts_on_the_day_it_was_written(database_url: str) -> None:
    app = make_app(database_url)
    try:
        recent = add_story(app, "invoice wrong", at=NOW - timedelta(hours=1), key="r")
        imported = add_story(app, "invoice wrong again", at=NOW - timedelta(hours=1), key="i")
        with app.engine.begin() as conn:  # an export of last year's survey, imported today
            comment_id = conn.scalar(select(Story.comment_id).where(Story.id == imported))
            conn.execute(update(Comment).where(Comment.id == comment_id).values(original_at=NOW - timedelta(days=400)))
        found = SqlSurgeStories(app.engine).themed_stories(
            department="Finance", since=NOW - timedelta(days=28), until=NOW
        )
    finally:
        app.close()
    assert [(s.story_id, s.themes) for s in found] == [(recent, ("billing",))]


async def test_a_surge_is_posted_once_to_the_department_and_the_cx_team(database_url: str, slack: FakeSlackApi) -> None:
    app = make_app(database_url, slack_url=slack.base_url)
    try:
        _history(app)
        Planner(app).queue(NOW)
        steady = _surges(app)
        for n, text in enumerate(TODAY):
            add_story(app, text, at=NOW - timedelta(minutes=50 - n), key=f"t{n}")
        connect_notifiers(app)
        Planner(app).queue(NOW)
        queued = _surges(app)
        add_story(app, "Another invoice charged twice", at=NOW + timedelta(minutes=1), key="late")
        Planner(app).queue(NOW + timedelta(hours=3))  # later the same day, still surging: no second alert
        again = _surges(app)
        sent = await app.dispatcher.drain()
    finally:
        app.close()
    assert steady == []  # one story a day is the usual: nothing surges
    assert (
        again
        == queued
        == [
            ("surge:Finance:billing:2026-06-10:slack:C0FINANCE1", "C0FINANCE1"),
            ("surge:Finance:billing:2026-06-10:slack:C0OPS00001", "C0OPS00001"),
        ]
    )
    assert sent >= 2
    posts = [c for c in slack.calls_to("chat.postMessage", ok_only=True) if "Surge" in c.payload_text()]
    assert sorted(p.params["channel"] for p in posts) == ["C0FINANCE1", "C0OPS00001"]
    post = posts[0]
    assert post.params["metadata"]["event_payload"]["key"].startswith("surge:Finance:billing:2026-06-10:slack:")
    header = post.blocks[0]
    assert header["type"] == "header" and header["text"]["text"] == "Surge: billing in Finance"
    figures = post.blocks[1]["text"]["text"]
    assert figures.startswith("6 stories today, against 1 on a usual Wednesday (alerting above")
    quotes = [b["text"]["text"] for b in post.blocks if b["type"] == "section" and b["text"]["text"].startswith(">")]
    assert len(quotes) == 3
    text = post.payload_text()
    assert "<!channel>" not in text


async def test_a_surge_alert_in_teams_is_a_card_with_quotes_as_plain_text(database_url: str) -> None:
    surge = Surge(
        department="Finance",
        theme="billing",
        day=NOW.date(),
        count=7,
        usual=1.25,
        spread=1.1,
        threshold=3.45,
        story_ids=(1, 2, 3),
        quotes=("Charged twice <at>Everyone</at> **now**", "Invoice wrong", "Refund missing"),
    )
    async with FakeConnector() as connector:
        world = World(database_url, connector)
        cx = await world.start()
        try:
            assert (await cx.post(world.load("message_cx_link")))[0] == 200
            await cx.teams.notifier.post_surge(channel=FINANCE, surge=surge_view(surge), key="surge:x")
        finally:
            await world.close()
    (send,) = [c for c in connector.calls_of("send") if c.conversation_id == FINANCE and "Surge" in c.payload_text()]
    (card,) = send.cards
    runs = [i["text"] for e in card["body"] if e["type"] == "RichTextBlock" for i in e["inlines"]]
    assert runs[0] == "Surge: billing in Finance"
    assert runs[1] == "7 stories today, against 1.2 on a usual Wednesday (alerting above 3.5)"
    assert len(runs) == 5 and all("<at>" not in r for r in runs)
    assert not [e for e in card["body"] if e["type"] == "TextBlock"]  # nothing is read as Markdown


async def test_forgetting_a_quoted_story_takes_its_quote_out_of_the_alert(database_url: str) -> None:
    app = make_app(database_url, slack_url="http://127.0.0.1:9/api/")  # queued for Slack, never sent here
    try:
        _history(app)
        for n, text in enumerate(TODAY):
            add_story(app, text, at=NOW - timedelta(minutes=50 - n), key=f"t{n}")
        Planner(app).queue(NOW, departments=["Finance"])
        before = _payloads(app)
        gone = before[0]["quoted"][0]
        assert await forget_async(app, identifier=None, story=gone, send=False) == 0
        after = _payloads(app)
    finally:
        app.close()
    assert len(before[0]["quotes"]) == 3
    for payload in after:
        assert gone not in payload["story_ids"] and gone not in payload["quoted"]
        assert payload["quotes"] == before[0]["quotes"][1:] and len(payload["quoted"]) == 2
        assert payload["count"] == 6  # how many there were is no one's personal data


def _payloads(app) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    with app.engine.connect() as conn:
        return [dict(p) for p in conn.scalars(select(Delivery.payload).where(Delivery.kind == "surge"))]
