"""Reactions on story cards (messageReaction activities) are recorded, Teams types mapped to emoji names."""

from __future__ import annotations

from sqlalchemy import select

from handlers.teams.reactions import reaction_name
from storage.models import Reaction
from tests.fakes.bf_connector import FakeConnector
from tests.teams.world import DANA, FINANCE, Server, World, posted_story


def _reactions(cx: Server) -> set[tuple[int, str, str, str]]:
    with cx.app.engine.connect() as conn:
        return {(r.story_id, r.platform, r.user_id, r.emoji) for r in conn.execute(select(Reaction)).all()}


def _on(world: World, name: str, card_id: str, **changes: object) -> dict:
    activity = world.load(name, replyToId=card_id, **changes)
    activity["conversation"]["id"] = f"{FINANCE};messageid={card_id}"
    return activity


async def test_reactions_added_and_removed_on_a_story_card(cx: Server, world: World, connector: FakeConnector) -> None:
    story_id, card_id = await posted_story(world, cx)
    assert (await cx.post(_on(world, "message_reaction_added", card_id)))[0] == 200
    assert _reactions(cx) == {(story_id, "teams", DANA, "thumbsup"), (story_id, "teams", DANA, "eyes")}

    assert (await cx.post(_on(world, "message_reaction_removed", card_id)))[0] == 200
    assert _reactions(cx) == {(story_id, "teams", DANA, "eyes")}


async def test_a_reaction_delivered_twice_is_recorded_once_and_other_messages_are_ignored(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    story_id, card_id = await posted_story(world, cx)
    added = _on(world, "message_reaction_added", card_id)
    removed = _on(world, "message_reaction_removed", card_id)
    assert (await cx.post(added))[0] == 200
    assert (await cx.post(removed))[0] == 200
    assert (await cx.post(added))[0] == 200  # Teams retrying the first: must not bring the like back
    assert _reactions(cx) == {(story_id, "teams", DANA, "eyes")}

    elsewhere = _on(world, "message_reaction_added", "1700000000777", id="f:other")
    assert (await cx.post(elsewhere))[0] == 200
    assert len(_reactions(cx)) == 1
    assert connector.posts()[-1].conversation_id == FINANCE  # no answer to reactions: the last post is the card


def test_teams_reaction_types_map_to_emoji_names() -> None:
    assert [reaction_name(t) for t in ("like", "heart", "laugh", "surprised", "sad", "angry")] == [
        "thumbsup",
        "heart",
        "laughing",
        "open_mouth",
        "cry",
        "angry",
    ]
    assert reaction_name("1f440_eyes") == "eyes"
    assert reaction_name("1f44d-1f3fd_thumbsup") == "thumbsup"
