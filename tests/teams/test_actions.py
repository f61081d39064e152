"""The story card's buttons: "I'll follow up" opens a form whose submission records a commitment and
updates the card in place; "Not for us" re-routes the story. Submitted twice, recorded once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from storage.models import Commitment, Correction, Department, Route
from tests.fakes.bf_connector import FakeConnector
from tests.teams.world import DANA, FINANCE, FIONA, LOGISTICS, Server, World, posted_story


def _commitments(cx: Server) -> list[Commitment]:
    with cx.app.engine.connect() as conn:
        return list(conn.execute(select(Commitment)).all())


def _submits(card: dict) -> list[dict]:
    found = []

    def visit(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append(node["data"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(card)
    return found


async def test_follow_up_form_then_commitment_then_card_updated_in_place(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    story_id, card_id = await posted_story(world, cx)

    click = world.load(
        "message_submit_follow_up", replyToId=card_id, value={"cx_action": "follow_up", "story_id": story_id}
    )
    click["conversation"]["id"] = f"{FINANCE};messageid={card_id}"
    assert (await cx.post(click))[0] == 200
    form = connector.posts()[-1]
    assert form.kind == "reply" and form.thread == card_id  # in the story's thread
    [save] = _submits(form.cards[0])
    assert save == {"cx_action": "commit", "story_id": story_id, "department": "Finance & Billing"}

    submit = world.load(
        "message_submit_commit",
        replyToId=form.response["id"],
        value={**save, "what": "Call the customer and refund the fee", "owner": "", "due": "2026-03-06"},
    )
    submit["conversation"]["id"] = f"{FINANCE};messageid={card_id}"
    assert (await cx.post(submit))[0] == 200
    [commitment] = _commitments(cx)
    assert (commitment.story_id, commitment.owner, commitment.owner_name) == (story_id, FIONA, "Fiona Walsh")
    assert commitment.due_date == date(2026, 3, 6)
    [form_update] = connector.calls_of("update")
    assert form_update.activity_id == form.response["id"]  # the form, replaced by what was recorded
    assert "Call the customer and refund the fee" in form_update.payload_text()

    await cx.deliver()  # the outbox: a reply in the thread and the story card re-rendered with the note
    card_updates = [c for c in connector.calls_of("update") if c.activity_id == card_id]
    assert len(card_updates) == 1
    assert "Fiona Walsh will follow up: Call the customer and refund the fee" in card_updates[0].payload_text()
    thread_replies = [c for c in connector.posts() if c.kind == "send" and c.thread == card_id]
    assert thread_replies and "will follow up" in thread_replies[-1].payload_text()


async def test_a_form_submitted_twice_records_one_commitment(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    story_id, _card_id = await posted_story(world, cx)
    value = {
        "cx_action": "commit",
        "story_id": story_id,
        "department": "Finance & Billing",
        "what": "Call back",
        "owner": "",
        "due": "2026-03-06",
    }
    first = world.load("message_submit_commit", value=value, replyToId="1700000009999")
    second = world.load("message_submit_commit", value=value, replyToId="1700000009999", id="1700000000399")
    assert (await cx.post(first))[0] == 200
    assert (await cx.post(first))[0] == 200  # Teams delivering the same activity again
    assert (await cx.post(second))[0] == 200  # a double click: another activity, the same form
    assert len(_commitments(cx)) == 1


async def test_a_bad_form_is_answered_and_nothing_is_recorded(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    story_id, _card_id = await posted_story(world, cx)
    value = {"cx_action": "commit", "story_id": story_id, "what": "  ", "due": "2026-03-06"}
    assert (await cx.post(world.load("message_submit_commit", value=value)))[0] == 200
    assert _commitments(cx) == []
    assert "Not saved" in connector.posts()[-1].payload_text()
    past = {**value, "what": "Call back", "due": "2026-02-01"}
    assert (await cx.post(world.load("message_submit_commit", value=past, id="1700000000398")))[0] == 200
    assert _commitments(cx) == []
    assert "has passed" in connector.posts()[-1].payload_text()


async def test_not_for_us_reroutes_the_story_to_the_chosen_department(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    story_id, card_id = await posted_story(world, cx)
    assert (await cx.post(world.load("installation_update_add", conversation__id=LOGISTICS)))[0] == 200
    click = world.load(
        "message_submit_not_for_us", replyToId=card_id, value={"cx_action": "not_for_us", "story_id": story_id}
    )
    assert (await cx.post(click))[0] == 200
    picker = connector.posts()[-1]
    [send] = _submits(picker.cards[0])
    assert send == {"cx_action": "reroute", "story_id": story_id, "from": "Finance & Billing"}
    choices = [c["value"] for c in picker.cards[0]["body"][1]["choices"]]
    assert choices == ["CX Team", "Logistics & Delivery"]

    chosen = world.load(
        "message_submit_reroute", replyToId=picker.response["id"], value={**send, "department": "Logistics & Delivery"}
    )
    assert (await cx.post(chosen))[0] == 200
    with cx.app.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Correction)) == 1
        routed = conn.scalars(
            select(Department.name).join(Route, Route.department_id == Department.id).where(Route.story_id == story_id)
        ).all()
    assert routed == ["Logistics & Delivery"]  # moved, not copied
    assert "moved the story to Logistics & Delivery" in connector.calls_of("update")[-1].payload_text()
    await cx.deliver()
    assert [c for c in connector.posts() if c.kind == "send" and c.conversation_id == LOGISTICS]


async def test_not_for_us_by_someone_outside_the_department_and_cx_team_is_refused(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    story_id, card_id = await posted_story(world, cx)
    dana = {"id": "29:1dAnA", "name": "Dana Scully", "aadObjectId": DANA}
    click = world.load(
        "message_submit_not_for_us",
        replyToId=card_id,
        value={"cx_action": "not_for_us", "story_id": story_id},
        **{"from": dana},
    )
    assert (await cx.post(click))[0] == 200
    answer = connector.posts()[-1]
    assert _submits(answer.cards[0]) == []  # no department picker
    assert "Only Finance & Billing's managers" in answer.payload_text()

    # The picker's submission, made up by Dana, meets the same rule in the core.
    forged = {"cx_action": "reroute", "story_id": story_id, "from": "Finance & Billing", "department": "CX Team"}
    sent = world.load("message_submit_reroute", id="1700000000377", value=forged, **{"from": dana})
    assert (await cx.post(sent))[0] == 200
    assert "Only Finance & Billing's managers" in connector.posts()[-1].payload_text()
    with cx.app.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Correction)) == 0
        routed = conn.scalars(
            select(Department.name).join(Route, Route.department_id == Department.id).where(Route.story_id == story_id)
        ).all()
    assert routed == ["Finance & Billing"]


async def test_the_owner_picked_in_the_form_is_the_owner(cx: Server, world: World, connector: FakeConnector) -> None:
    story_id, card_id = await posted_story(world, cx)
    click = world.load(
        "message_submit_follow_up", replyToId=card_id, value={"cx_action": "follow_up", "story_id": story_id}
    )
    assert (await cx.post(click))[0] == 200
    form = connector.posts()[-1].cards[0]
    [picker] = [e for e in form["body"] if e.get("id") == "owner"]
    assert picker["value"] == FIONA and picker["choices.data"]["dataset"] == "graph.users"

    [save] = _submits(form)
    value = {**save, "what": "Call the customer", "owner": DANA, "due": "2026-03-06"}  # Fiona picks Dana
    assert (await cx.post(world.load("message_submit_commit", value=value, id="1700000000378")))[0] == 200
    [commitment] = _commitments(cx)
    assert (commitment.owner, commitment.created_by) == (DANA, FIONA)


async def test_a_form_sent_before_the_people_picker_names_its_sender_as_owner(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    story_id, _card_id = await posted_story(world, cx)
    value = {"cx_action": "commit", "story_id": story_id, "what": "Call back", "owner": "Fiona W.", "due": "2026-03-06"}
    assert (await cx.post(world.load("message_submit_commit", value=value)))[0] == 200
    [commitment] = _commitments(cx)
    assert (commitment.owner, commitment.owner_name) == (FIONA, "Fiona W.")


async def test_a_button_for_a_story_that_is_gone_says_so(cx: Server, world: World, connector: FakeConnector) -> None:
    click = world.load("message_submit_follow_up", value={"cx_action": "follow_up", "story_id": 999})
    assert (await cx.post(click))[0] == 200
    assert "no longer exists" in connector.posts()[-1].payload_text()
    odd = world.load("message_submit_follow_up", id="1700000000310", value={"cx_action": "launch_rockets"})
    assert (await cx.post(odd))[0] == 200
    assert "not one I know" in connector.posts()[-1].payload_text()


async def test_done_button_closes_the_commitment_and_a_stranger_cannot(
    cx: Server, world: World, connector: FakeConnector
) -> None:
    story_id, _card_id = await posted_story(world, cx)
    value = {"cx_action": "commit", "story_id": story_id, "what": "Call back", "owner": "", "due": "2026-03-06"}
    assert (await cx.post(world.load("message_submit_commit", value=value)))[0] == 200
    [commitment] = _commitments(cx)

    dana = {"id": "29:1dAnA", "name": "Dana Scully", "aadObjectId": "d4a0b1c2-d3e4-4f56-a789-0b1c2d3e4f50"}
    close = {"cx_action": "close", "commitment_id": commitment.id, "state": "done"}
    refused = world.load("message_submit_follow_up", id="1700000000320", value=close, **{"from": dana})
    assert (await cx.post(refused))[0] == 200
    assert _commitments(cx)[0].state == "open"
    assert "Only its owner" in connector.posts()[-1].payload_text()

    done = world.load("message_submit_follow_up", id="1700000000321", value=close)  # Fiona, the owner
    assert (await cx.post(done))[0] == 200
    assert _commitments(cx)[0].state == "done"


@pytest.mark.parametrize("story_id", [2**31, 10**20, "9" * 5000, -1, True])
async def test_a_button_naming_no_possible_story_is_answered_not_a_500(
    cx: Server, world: World, connector: FakeConnector, story_id: object
) -> None:
    click = world.load("message_submit_follow_up", value={"cx_action": "follow_up", "story_id": story_id})
    assert (await cx.post(click))[0] == 200
    assert "That story no longer exists." in connector.posts()[-1].payload_text()
