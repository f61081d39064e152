"""The loop told back on Teams, and emoji that act: ✅ (or the configured emoji) on a commitment's reply closes it
for those who may; the people who raised the story hear it in the intake message's thread or by direct message,
and the CX team's channel gets a line. 👀 on a story card shows on the card. Over the fake Bot Framework connector."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from handlers.teams.reactions import reaction_name
from storage.models import CommentOrigin, Commitment, Story
from stories.config import EmojiActions
from tests.fakes.bf_connector import Call, FakeConnector
from tests.teams.world import CONFIG, DANA, DANA_BF, FINANCE, INTAKE, TEAM, Server, World

LOOP_CONFIG = CONFIG.model_copy(update={"emoji_actions": EmojiActions(looking=("eyes",), done=("white_check_mark",))})
INTAKE_MESSAGE = "1700000000200"  # message_intake.json
FIONA_ACCOUNT = {
    "id": "29:1fIoNa0ZpQx3N0aW8s7Yq2Lk5Jh4Gf3Ds2Az1Qw0Er9Ty8Ui7Op6AsDfGhJkLzXcVbNm",
    "name": "Fiona Walsh",
    "aadObjectId": "f10a7e5d-3c2b-4a19-8f6e-5d4c3b2a1908",
}
DANA_ACCOUNT = {"id": DANA_BF, "name": "Dana Scully", "aadObjectId": DANA}
DANA_CHAT = "a:1Dana_personal-chat-with-dana"


async def _linked(world: World, cx: Server) -> None:
    """Finance's channel and the CX team's channel (the General channel of the team) linked by `cx link`."""
    assert (await cx.post(world.load("message_cx_link")))[0] == 200
    cx_link = world.load("message_cx_link", id="1700000000052", text="<at>cxbot</at> cx link cx team\n")
    cx_link["conversation"]["id"] = f"{TEAM};messageid=1700000000052"
    assert (await cx.post(cx_link))[0] == 200


def _story_id(cx: Server) -> int:
    with cx.app.engine.connect() as conn:
        return int(conn.scalar(select(Story.id).order_by(Story.id.desc())) or 0)


async def _card(cx: Server, connector: FakeConnector) -> str:
    before = len(connector.posts())
    await cx.deliver()
    [card] = [c for c in connector.posts()[before:] if c.kind == "send" and c.conversation_id == FINANCE]
    return str(card.response["id"])


async def _commit(world: World, cx: Server, connector: FakeConnector, story_id: int, card_id: str) -> str:
    """Fiona commits in the card's thread; the id of the "will follow up" reply."""
    submit = world.load(
        "message_submit_commit",
        replyToId=card_id,
        value={
            "cx_action": "commit",
            "story_id": story_id,
            "department": "Finance & Billing",
            "what": "Refund the customer today",
            "owner": "",
            "due": "2026-03-06",
        },
    )
    submit["conversation"]["id"] = f"{FINANCE};messageid={card_id}"
    assert (await cx.post(submit))[0] == 200
    before = len(connector.posts())
    await cx.deliver()
    [reply] = [c for c in connector.posts()[before:] if c.thread == card_id and "will follow up" in c.payload_text()]
    return str(reply.response["id"])


def _reaction(
    world: World, *, on: str, card_id: str, teams_type: str, account: dict[str, Any], activity_id: str
) -> dict[str, Any]:
    activity = world.load(
        "message_reaction_added",
        replyToId=on,
        reactionsAdded=[{"type": teams_type}],
        id=activity_id,
        **{"from": account},
    )
    activity["conversation"]["id"] = f"{FINANCE};messageid={card_id}"
    return activity


def _state(cx: Server) -> str:
    with cx.app.engine.connect() as conn:
        return str(conn.scalar(select(Commitment.state)))


def _told(calls: list[Call]) -> list[Call]:
    return [c for c in calls if "story #" in c.payload_text()]


async def test_done_by_check_mark_is_told_in_the_intake_thread_and_the_cx_channel(
    world: World, connector: FakeConnector
) -> None:
    cx = await world.start(config=LOOP_CONFIG)
    await _linked(world, cx)
    assert (await cx.post(world.load("message_intake")))[0] == 200
    story_id = _story_id(cx)
    card_id = await _card(cx, connector)
    reply_id = await _commit(world, cx, connector, story_id, card_id)
    with cx.app.engine.connect() as conn:
        [origin] = conn.execute(select(CommentOrigin)).all()
    assert (origin.via, origin.channel, origin.thread, origin.sender) == ("channel", INTAKE, INTAKE_MESSAGE, DANA)
    assert origin.workspace == "72f988bf-86f1-41af-91ab-2d7cd011db47"  # the tenant

    before = len(connector.posts())
    dana = _reaction(
        world,
        on=reply_id,
        card_id=card_id,
        teams_type="2705_whiteheavycheckmark",
        account=DANA_ACCOUNT,
        activity_id="f:done-dana",
    )
    assert (await cx.post(dana))[0] == 200  # Dana neither owns it nor manages Finance: nothing happens
    await cx.deliver()
    assert _state(cx) == "open" and _told(connector.posts()[before:]) == []

    fiona = _reaction(
        world,
        on=reply_id,
        card_id=card_id,
        teams_type="2705_whiteheavycheckmark",
        account=FIONA_ACCOUNT,
        activity_id="f:done-fiona",
    )
    assert (await cx.post(fiona))[0] == 200
    await cx.deliver()
    assert _state(cx) == "done"
    told = _told(connector.posts()[before:])
    [in_thread] = [c for c in told if c.channel == INTAKE]
    assert in_thread.thread == INTAKE_MESSAGE  # under the intake message, not a new post
    assert "Update on the customer comment you passed on" in in_thread.payload_text()
    assert "Refund the customer today" in in_thread.payload_text()
    [cx_line] = [c for c in told if c.channel == TEAM]
    assert cx_line.thread is None and "Loop closed on" in cx_line.payload_text()
    assert "Told 1 intake thread." in cx_line.payload_text()

    assert (await cx.post(fiona))[0] == 200  # Teams delivering the reaction again: nobody is told twice
    after = len(connector.posts())
    await cx.deliver()
    assert _told(connector.posts()[after:]) == []


async def test_cx_story_in_a_personal_chat_is_answered_by_direct_message_when_done(
    world: World, connector: FakeConnector
) -> None:
    cx = await world.start(config=LOOP_CONFIG)
    await _linked(world, cx)
    story = world.load(
        "message_cx_stats_personal",
        id="1700000000091",
        text="cx story The customer says her invoice was wrong twice this year",
        **{"from": DANA_ACCOUNT},
    )
    story["conversation"]["id"] = DANA_CHAT
    assert (await cx.post(story))[0] == 200
    story_id = _story_id(cx)
    card_id = await _card(cx, connector)
    reply_id = await _commit(world, cx, connector, story_id, card_id)

    before = len(connector.posts())
    fiona = _reaction(
        world,
        on=reply_id,
        card_id=card_id,
        teams_type="2705_whiteheavycheckmark",
        account=FIONA_ACCOUNT,
        activity_id="f:done-story",
    )
    assert (await cx.post(fiona))[0] == 200
    await cx.deliver()
    told = _told(connector.posts()[before:])
    [direct] = [c for c in told if c.conversation_id == DANA_CHAT]
    assert "Update on the customer comment you passed on" in direct.payload_text()
    assert f"(story #{story_id})" in direct.payload_text()
    [cx_line] = [c for c in told if c.channel == TEAM]
    assert "Told 1 person who sent it in." in cx_line.payload_text()


async def test_eyes_on_a_story_card_shows_on_the_card(world: World, connector: FakeConnector) -> None:
    cx = await world.start(config=LOOP_CONFIG)
    await _linked(world, cx)
    assert (await cx.post(world.load("message_intake")))[0] == 200
    card_id = await _card(cx, connector)
    eyes = _reaction(
        world, on=card_id, card_id=card_id, teams_type="1f440_eyes", account=DANA_ACCOUNT, activity_id="f:eyes"
    )
    assert (await cx.post(eyes))[0] == 200
    await cx.deliver()
    [update] = [c for c in connector.calls_of("update") if c.activity_id == card_id]
    assert "1 person is looking into it" in update.payload_text()


def test_teams_check_marks_and_eyes_arrive_under_the_names_emoji_actions_use() -> None:
    assert reaction_name("2705_whiteheavycheckmark") == "white_check_mark"
    assert reaction_name("2714_heavycheckmark") == "heavy_check_mark"
    assert reaction_name("1f440_eyes") == "eyes"
    assert LOOP_CONFIG.emoji_actions.action_for(reaction_name("2705_whiteheavycheckmark")) == "done"
    assert LOOP_CONFIG.emoji_actions.action_for(reaction_name("like")) is None
