"""Kudos people trust on Teams, over the fake Bot Framework connector: the weekly praise push as an Adaptive
Card with a people picker and a "Give kudos" Action.Submit (a submit gives kudos linked to the story, once),
`cx kudos top` and `cx kudos optout`. The rules are tested once in tests/test_kudos_trust.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from storage.models import Kudos
from stories.config import KudosSettings
from tests.fakes.bf_connector import FakeConnector
from tests.teams.world import CARLA, CONFIG, DANA, DANA_BF, FINANCE, Server, World, posted_story

PRAISE = "Maria at the front desk was wonderful and sorted my refund in minutes, thank you!"
PUSHING = CONFIG.model_copy(update={"kudos": KudosSettings(praise_teams_channel=FINANCE)})
CARLA_FROM = {"id": "29:1cArLa", "name": "Carla Ortiz", "aadObjectId": CARLA}


def _find(node: Any, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == kind:
            found.append(node)
        for value in node.values():
            found.extend(_find(value, kind))
    elif isinstance(node, list):
        for value in node:
            found.extend(_find(value, kind))
    return found


def _texts(card: dict[str, Any]) -> str:
    runs = [i["text"] for b in _find(card, "RichTextBlock") for i in b["inlines"]]
    return "\n".join(runs + [b["text"] for b in _find(card, "TextBlock")])


async def test_the_weekly_praise_card_gives_kudos_to_the_picked_person_once_linked_to_the_story(
    world: World, connector: FakeConnector
) -> None:
    cx: Server = await world.start(config=PUSHING)
    story_id, _card = await posted_story(world, cx, text=PRAISE)

    today = datetime.now(UTC)  # stories are stamped with the wall clock
    monday = (today + timedelta(days=7 - today.weekday())).replace(hour=10, minute=0, second=0, microsecond=0)
    year, week, _ = monday.isocalendar()  # the sweep that Monday, and again an hour later: one push
    for at in (monday, monday + timedelta(hours=1)):
        plan = await asyncio.to_thread(cx.app.planner.plan, at)
        await asyncio.to_thread(cx.app.outbox.enqueue, plan.praise)
        await cx.deliver()
    assert [d.key for d in cx.deliveries() if d.kind == "praise"] == [f"praise:{year}-W{week:02d}:teams:{FINANCE}"]
    [push] = [c for c in connector.posts() if "Praise from customers" in c.payload_text()]
    assert push.conversation_id == FINANCE
    card = push.cards[0]
    [picker] = _find(card, "Input.ChoiceSet")
    assert picker["id"] == f"receiver_{story_id}" and picker["label"] == "Who is Maria?"
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": "graph.users"}
    [button] = _find(card, "Action.Submit")
    assert button["title"] == "Give kudos"
    assert button["data"] == {"cx_action": "give_kudos", "story_id": story_id, "name": "Maria"}

    for activity_id in ("1700000000801", "1700000000802"):  # submitted twice (a double click)
        submit = world.load(
            "message_submit_follow_up",
            id=activity_id,
            replyToId=push.response["id"],
            value={**button["data"], f"receiver_{story_id}": DANA},
            **{"from": CARLA_FROM},
        )
        submit["conversation"]["id"] = f"{FINANCE};messageid={push.response['id']}"
        assert (await cx.post(submit))[0] == 200
    with cx.app.engine.connect() as conn:
        rows = conn.execute(select(Kudos.giver, Kudos.receiver, Kudos.story_id, Kudos.source, Kudos.platform)).all()
    assert [tuple(r) for r in rows] == [(CARLA, DANA, story_id, "customer_praise", "teams")]
    answer = connector.posts()[-1]
    assert answer.conversation_id.startswith(FINANCE)
    assert f"From story #{story_id}" in _texts(answer.cards[0])

    await cx.deliver()
    [created] = connector.calls_of("create")
    assert created.json["members"] == [{"id": DANA}]
    [dm] = [c for c in connector.posts() if c.conversation_id == created.response["id"]]
    assert "Kudos to you from a customer, passed on by Carla Ortiz" in dm.payload_text()
    assert f"(from story #{story_id} “" in dm.payload_text()


async def test_kudos_top_and_optout_in_teams(cx: Server, world: World, connector: FakeConnector) -> None:
    optout = world.load("message_hello_personal", id="1700000000901", text="cx kudos optout")
    assert (await cx.post(optout))[0] == 200
    assert "you will not receive public kudos" in _texts(connector.posts()[-1].cards[0])

    connector.add_member(id=DANA_BF, name="Dana Scully", aad_object_id=DANA)
    assert (await cx.post(world.load("conversation_update_personal_install")))[0] == 200
    assert (await cx.post(world.load("message_cx_kudos")))[0] == 200  # Carla thanks Dana
    assert "has asked not to receive public kudos" in _texts(connector.posts()[-1].cards[0])
    with cx.app.engine.connect() as conn:
        assert conn.execute(select(Kudos)).all() == []

    top = world.load("message_hello_personal", id="1700000000902", text="cx kudos top")
    assert (await cx.post(top))[0] == 200
    shown = _texts(connector.posts()[-1].cards[0])
    assert "Kudos, March 2026" in shown and "Nobody thanked yet this month." in shown
    assert not [d for d in cx.deliveries() if d.kind in ("dm", "text")]
