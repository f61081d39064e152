"""Installs: the conversation reference is stored; `cx link` makes a channel a department's; proactive posts
use the stored reference, also after a restart."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from handlers.teams.activities import reference_from
from storage.models import ConversationRef, Department, StoryMessage
from stories.models import IncomingComment
from tests.fakes.bf_connector import FakeConnector
from tests.teams.world import FINANCE, TEAM, Server, World


def _refs(cx: Server) -> dict[str, ConversationRef]:
    with cx.app.engine.connect() as conn:
        return {row.conversation_id: row for row in conn.execute(select(ConversationRef)).all()}


def _teams_channel(cx: Server, department: str) -> str | None:
    with cx.app.engine.connect() as conn:
        return conn.scalar(select(Department.teams_channel).where(Department.name == department))


async def test_bot_added_to_a_team_stores_the_reference_and_says_hello(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    status, _ = await cx.post(world.load("conversation_update_bot_added"))
    assert status == 200
    ref = _refs(cx)[TEAM]
    assert ref.scope == "channel"
    assert ref.team_id == TEAM
    assert ref.reference["serviceUrl"] == connector.service_url
    assert reference_from(ref.reference).conversation.tenant_id == "72f988bf-86f1-41af-91ab-2d7cd011db47"
    [hello] = connector.posts()
    assert hello.channel == TEAM
    assert "cx link" in hello.payload_text()


async def test_installation_update_and_personal_install_store_references(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    assert (await cx.post(world.load("installation_update_add")))[0] == 200
    assert (await cx.post(world.load("conversation_update_personal_install")))[0] == 200
    refs = _refs(cx)
    assert refs[TEAM].scope == "channel"
    personal = refs["a:1Qw3rTy_personal-chat-with-fiona"]
    assert personal.scope == "personal"
    assert personal.user_id == "f10a7e5d-3c2b-4a19-8f6e-5d4c3b2a1908"


async def test_cx_link_by_the_cx_team_makes_the_channel_the_departments(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    status, _ = await cx.post(world.load("message_cx_link"))
    assert status == 200
    assert _teams_channel(cx, "Finance & Billing") == FINANCE
    assert FINANCE in _refs(cx)  # the channel's reference, without the thread suffix
    [answer] = connector.posts()
    assert answer.kind == "reply" and answer.thread == "1700000000050"
    assert "now receives Finance & Billing" in answer.payload_text()


async def test_cx_link_by_someone_outside_the_cx_team_changes_nothing(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    fiona = {"id": "29:1fIoNa", "name": "Fiona Walsh", "aadObjectId": "f10a7e5d-3c2b-4a19-8f6e-5d4c3b2a1908"}
    status, _ = await cx.post(world.load("message_cx_link", **{"from": fiona}))
    assert status == 200
    assert _teams_channel(cx, "Finance & Billing") is None
    assert "Only an admin or the CX team" in connector.posts()[0].payload_text()


async def test_stories_reach_a_linked_channel_proactively_after_a_restart(
    world: World, connector: FakeConnector
) -> None:
    first = await world.start()
    assert (await first.post(world.load("message_cx_link")))[0] == 200
    await first.close()
    world.servers.remove(first)
    connector.calls.clear()

    second = await world.start()  # a new process: nothing in memory, the reference comes from the database
    comment = IncomingComment(
        text="I was charged twice on my invoice and want a refund.", source="webhook", external_id="w-1"
    )
    report = await asyncio.to_thread(second.app.take_in, [comment])
    assert report.created[0].departments == ("Finance & Billing",)
    assert await second.deliver() == 1

    [post] = connector.posts()
    assert post.kind == "send" and post.conversation_id == FINANCE  # a new thread in the channel
    assert post.cards[0]["type"] == "AdaptiveCard"
    assert post.json["summary"]
    with second.app.engine.connect() as conn:
        placed = conn.execute(select(StoryMessage.channel, StoryMessage.message_id)).one()
    assert placed == (FINANCE, post.response["id"])  # reactions and buttons on it will find the story
