"""Issue 13.1: every source goes through the one intake, so an imported survey posts what is due at once,
and an old export is kept out of the news (backfill) unless asked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.importer import import_csv
from bot.settings import Settings
from storage.models import Delivery, Story
from stories.digest import build_digest
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import CONFIG, SlackServer, running

TOKEN = "one-way-in-token"
# Finance and Support take stories as they arrive (CONFIG); Product gets digests. An urgent keyword too.
URGENT_CONFIG: dict[str, Any] = {
    **CONFIG,
    "rules": [*CONFIG["rules"], {"id": "product", "department": "Product", "keywords": ["dashboard"]}],
    "urgent": {"nps_max": 1, "keywords": ["lawyer"]},
}


def write_csv(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    lines = ["id,date,comment,nps", *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def today(days_ago: int = 0) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def posted_to(server: SlackServer) -> list[tuple[str, str]]:
    """(channel, first words of the story) of every story posted."""
    return sorted(
        (call.params["channel"], call.payload_text()) for call in server.api.calls_to("chat.postMessage", ok_only=True)
    )


async def test_imported_stories_for_immediate_departments_and_urgent_ones_are_posted_at_once(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    rows = [
        ("R1", today(), "I was charged twice on my invoice", "5"),  # Finance, immediate
        ("R2", today(), "The new dashboard layout is confusing", "6"),  # Product, digest: not posted now
        ("R3", today(), "Speaking to my lawyer about the dashboard", "7"),  # urgent: Product and the CX team
    ]
    async with running(slack_settings(), slack_api, config=URGENT_CONFIG) as server:
        status = await asyncio.to_thread(import_csv, server.app, write_csv(tmp_path / "survey.csv", rows))
        assert status == 0
        await server.settle()
        posts = server.api.calls_to("chat.postMessage", ok_only=True)
        by_channel = sorted((p.params["channel"], "lawyer" in p.payload_text()) for p in posts)
    assert by_channel == [
        ("C0FINANCE1", False),  # the immediate department's story
        ("C0PRODUCT1", True),  # urgent: its department, though Product takes digests
        ("C0SUPPORT1", True),  # urgent: and the CX team (the default department)
    ]


async def test_an_old_export_is_stored_for_patterns_but_not_posted_nor_in_digests(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    old = [(f"O{i}", "2019-03-14T10:00:00Z", f"Refund {i} on my invoice took weeks", "2") for i in range(5)]
    fresh = [("N1", today(2), "Invoice charged twice", "3")]
    async with running(slack_settings(), slack_api, config=URGENT_CONFIG) as server:
        app = server.app
        await asyncio.to_thread(import_csv, app, write_csv(tmp_path / "export-2019.csv", old + fresh))
        await server.settle()
        with app.engine.connect() as conn:
            stories = conn.execute(select(Story.id, Story.backfill).order_by(Story.id)).all()
            queued = conn.scalars(select(Delivery.story_id)).all()
        now = datetime.now(UTC)
        digest = build_digest(
            reader=app.stories, department="Finance", since=now - timedelta(days=1), until=now + timedelta(minutes=1)
        )
        planned = app.planner.digests_now(now + timedelta(minutes=1), departments=["Finance"])
    assert sorted(backfill for _, backfill in stories) == [False] + [True] * 5
    [fresh_id] = [story_id for story_id, backfill in stories if not backfill]
    assert set(queued) == {fresh_id}  # only the recent comment was posted (Finance takes stories at once)
    assert digest.total_in_period == 1 and [s.story_id for s in digest.stories] == [fresh_id]
    assert all("5 new" not in str(item.payload) and "6 new" not in str(item.payload) for item in planned)
    [post] = server.api.calls_to("chat.postMessage", ok_only=True)
    assert post.params["channel"] == "C0FINANCE1"


async def test_post_old_posts_an_old_export_as_news(
    slack_api: FakeSlackApi, slack_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    old = [("O1", "2019-03-14T10:00:00Z", "Refund on my invoice took weeks", "6")]
    async with running(slack_settings(cx_ingest_token=TOKEN), slack_api, config=URGENT_CONFIG) as server:
        await asyncio.to_thread(import_csv, server.app, write_csv(tmp_path / "old.csv", old), post_old=True)
        body = [{"text": "Invoice wrong again", "id": "W1", "date": "2019-03-14T10:00:00Z", "nps": 6}]
        for query in ("", "?post_old=true"):
            async with server.session.post(
                f"{server.url}/ingest{query}",
                json=body if not query else [{**body[0], "id": "W2"}],
                headers={"Authorization": f"Bearer {TOKEN}"},
            ) as response:
                assert response.status == 200
        async with server.session.post(
            f"{server.url}/ingest?post_old=maybe", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as response:
            assert response.status == 400
            assert "post_old" in (await response.json())["error"]
        await server.settle()
        with server.app.engine.connect() as conn:
            stories = dict(conn.execute(select(Story.id, Story.backfill)).all())
        posts = server.api.calls_to("chat.postMessage", ok_only=True)
    assert sorted(stories.values()) == [False, False, True]  # W1 without the flag is backfill
    assert len(posts) == 2 and all(p.params["channel"] == "C0FINANCE1" for p in posts)
