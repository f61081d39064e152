"""The loop told back, in the core over a real database (stories.loop via stories.followup.close): who hears a
done commitment, what a drop tells, that `/cx story` records its sender, and that erasure takes the origins."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select

import tests.teams.world as teams_world
from bot.forget import forget_async
from storage.models import CommentOrigin, Story
from stories.config import EmojiActions
from stories.followup import close, commit
from stories.loop import loop_text
from stories.models import IncomingComment, Origin
from stories.views import CommitmentItem, LoopClosed
from tests.fakes.bf_connector import FakeConnector
from tests.followup_world import DANA, FIONA, World, make_world

FRIDAY = date(2026, 12, 4)
TEAM_ID = "T0ACME0001"


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    w = make_world(database_url)
    yield w
    w.engine.dispose()


def _from_intake(world: World, text: str, *, external_id: str, origin: Origin) -> int:
    report = world.pipeline.ingest([IncomingComment(text=text, source="slack", external_id=external_id, origin=origin)])
    [created] = report.created
    return created.story_id


def _commit(world: World, story_id: int, *, key: str, what: str) -> CommitmentItem:
    return commit(
        store=world.store,
        outbox=world.outbox,
        key=key,
        story_id=story_id,
        department="Finance & Billing",
        owner=FIONA.user_id,
        owner_name=FIONA.name,
        created_by=FIONA.user_id,
        platform="slack",
        what=what,
        due=FRIDAY,
        now=world.clock(),
        redactor=world.pipeline.redactor,
    )


def _close(world: World, item: CommitmentItem, state: str) -> object:
    return close(
        store=world.store,
        outbox=world.outbox,
        config=world.config,
        commitment_id=item.id,
        by=FIONA,
        state="done" if state == "done" else "dropped",
        now=world.clock(),
    )


def _loop(world: World) -> list[tuple[str, str, str, str | None]]:
    return [
        (d["kind"], d["platform"], d["channel"], d["payload"].get("thread"))
        for d in world.deliveries()
        if d["key"].startswith("loop:")
    ]


def test_cx_story_records_who_typed_it_and_a_done_commitment_tells_them_by_direct_message(world: World) -> None:
    view = world.run(DANA, "story The invoice total was wrong again", workspace=TEAM_ID)
    story_id = view.story_id
    assert world.store.story_origins(story_id) == [
        Origin(platform="slack", via="command", channel="C0FIN", sender=DANA.user_id, workspace=TEAM_ID)
    ]
    item = _commit(world, story_id, key="c1", what="Fix the invoice template")
    assert _loop(world) == []  # nothing is told back while the commitment is open

    _close(world, item, "done")
    # the DM names the workspace, so a multi-workspace install posts with that workspace's token
    assert _loop(world) == [("dm", "slack", f"{TEAM_ID}/{DANA.user_id}", None), ("text", "slack", "C0CX", None)]
    [dm] = [d for d in world.deliveries("dm") if d["key"].startswith("loop:")]
    assert dm["payload"]["text"] == (
        f"Update on the customer comment you passed on, “{world.store.story(story_id).title}” (story #{story_id}): "  # type: ignore[union-attr]
        "Fiona in Finance & Billing followed up: Fix the invoice template. Thank you for passing it on."
    )


def test_a_drop_is_told_to_the_cx_team_only_when_it_leaves_nobody_following_up(world: World) -> None:
    origin = Origin(platform="slack", via="channel", channel="C0INTAKE", sender="UPOSTER", thread="1700.000100")
    story_id = _from_intake(world, "My refund never came", external_id="C0INTAKE:1700.000100", origin=origin)
    first = _commit(world, story_id, key="c1", what="Call the customer")
    second = _commit(world, story_id, key="c2", what="Refund by card")

    _close(world, first, "dropped")  # another commitment is still open: nobody needs telling
    assert _loop(world) == []

    _close(world, second, "dropped")  # now nobody follows the comment up: the CX team hears, the poster does not
    assert _loop(world) == [("text", "slack", "C0CX", None)]
    [line] = [d["payload"]["text"] for d in world.deliveries("text") if d["key"].startswith("loop:")]
    assert line.startswith("Fiona in Finance & Billing dropped their follow-up on") and "Nobody is following" in line


def test_a_comment_sent_again_by_shortcut_adds_its_sender_once(world: World) -> None:
    posted = Origin(platform="slack", via="channel", channel="C0INTAKE", sender="UPOSTER", thread="1700.000100")
    story_id = _from_intake(world, "My refund never came", external_id="C0INTAKE:1700.000100", origin=posted)
    shortcut = Origin(platform="slack", via="shortcut", channel="C0INTAKE", sender="USAM", thread="1700.000100")
    for _ in range(2):  # the shortcut used twice (or Slack retrying it): one more origin
        report = world.pipeline.ingest(
            [
                IncomingComment(
                    text="My refund never came", source="slack", external_id="C0INTAKE:1700.000100", origin=shortcut
                )
            ]
        )
        assert report.created == [] and report.duplicates == 1
    assert world.store.story_origins(story_id) == [posted, shortcut]

    item = _commit(world, story_id, key="c1", what="Refund by card")
    _close(world, item, "done")
    _close(world, item, "done")  # closed again: the keys hold, nobody is told twice
    assert sorted(_loop(world)) == [
        ("dm", "slack", "USAM", None),
        ("reply", "slack", "C0INTAKE", "1700.000100"),
        ("text", "slack", "C0CX", None),
    ]


def test_the_cx_line_says_when_nobody_in_chat_raised_it() -> None:
    view = LoopClosed(
        story_id=7, story_title="Late parcel", department=None, owner_name=None, what="Rang them", state="done"
    )
    assert loop_text(view, to="cx_team") == (
        "Loop closed on “Late parcel” (story #7): A colleague followed up: Rang them. "
        "It came in with no chat message to answer."
    )


def test_emoji_actions_read_slack_names_with_colons_and_skin_tones() -> None:
    actions = EmojiActions(looking=(":eyes:",), done=("white_check_mark", "+1"))
    assert actions.looking == ("eyes",)
    assert [actions.action_for(e) for e in ("eyes", "+1::skin-tone-3", "heart")] == ["looking", "done", None]


async def test_forgetting_a_comment_forgets_where_it_came_from(database_url: str) -> None:
    async with FakeConnector() as connector:
        world = teams_world.World(database_url, connector)
        cx = await world.start()
        try:
            origin = Origin(platform="teams", via="channel", channel="19:intake@thread.tacv2", sender="aad-poster-0001")
            report = await asyncio.to_thread(
                cx.app.take_in,
                [
                    IncomingComment(
                        text="The refund for invoice 12 is late", source="teams", external_id="m-1", origin=origin
                    )
                ],
            )
            [created] = report.created
            with cx.app.engine.connect() as conn:
                comment_id = conn.scalar(select(Story.comment_id).where(Story.id == created.story_id))
                assert conn.scalar(select(func.count()).select_from(CommentOrigin)) == 1
            assert await forget_async(cx.app, identifier=None, comment=comment_id, send=False) == 0
            with cx.app.engine.connect() as conn:
                assert conn.scalar(select(func.count()).select_from(CommentOrigin)) == 0
        finally:
            await world.close()
