"""Neutral actions (stories/actions.py): each rule once, in the core, with the real SQL store and outbox.

The platform tests (tests/slack/test_followup.py, tests/teams/test_actions.py) prove both connectors reach
these same rules over their fakes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select

from storage.models import Commitment, Correction, Reaction
from stories.actions import Action, Actions, FollowUpForm, MessageRef, Reacted, RerouteForm
from stories.actors import Actor
from stories.views import CommitmentItem, Notice
from tests.followup_world import CARLA, CONFIG, DANA, FIONA, LEO, World, make_world

FRIDAY = date(2026, 12, 4)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    w = make_world(database_url)
    yield w
    w.engine.dispose()


def actions(world: World) -> Actions:
    return Actions(
        config=CONFIG,
        store=world.store,
        outbox=world.outbox,
        messages=world.outbox,
        today=lambda _actor: world.clock().date(),
        clock=world.clock,
        redactor=world.pipeline.redactor,
    )


def count(world: World, model: type) -> int:
    with world.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def finance_story(world: World) -> int:
    story = world.story("I was charged twice on my invoice")
    world.posted(story, department="Finance & Billing", channel="C0FIN", message_id="1700.1")
    return story


def act(world: World, kind: str, actor: Actor, **fields: object) -> object:
    fields.setdefault("key", f"{kind}:{actor.user_id}")
    return actions(world).handle(Action(kind=kind, actor=actor, **fields))  # type: ignore[arg-type]


# --- "Not for us" ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (FIONA, True),  # manages Finance & Billing, the department the story leaves
        (CARLA, True),  # the CX team (by user group)
        (LEO, False),  # leads another department
        (DANA, False),  # no role
    ],
    ids=["department-manager", "cx-team", "other-department", "nobody"],
)
def test_only_the_departments_people_and_the_cx_team_may_reroute(world: World, actor: Actor, allowed: bool) -> None:
    story = finance_story(world)
    clicked = MessageRef(channel="C0FIN", message_id="1700.1")
    form = act(world, "not_for_us", actor, story_id=story, message=clicked)
    moved = act(
        world, "reroute", actor, story_id=story, department="Finance & Billing", values={"to": "Logistics & Delivery"}
    )
    if allowed:
        assert form == RerouteForm(
            story_id=story, source="Finance & Billing", targets=("CX Team", "Logistics & Delivery", "Customer Service")
        )
        assert isinstance(moved, Notice) and "moved the story to Logistics & Delivery" in moved.text
        assert count(world, Correction) == 1
    else:
        assert isinstance(form, Notice) and "Only Finance & Billing's managers" in form.text
        assert moved == form  # the submission meets the same rule: a forged form moves nothing
        assert count(world, Correction) == 0
        brief = world.store.story(story)
        assert brief is not None and brief.departments == ("Finance & Billing",)


def test_reroute_without_a_chosen_department_names_the_field(world: World) -> None:
    story = finance_story(world)
    answer = act(world, "reroute", FIONA, story_id=story, department="Finance & Billing", values={"to": " "})
    assert isinstance(answer, Notice) and "pick a department" in answer.text
    assert count(world, Correction) == 0


# --- follow up ------------------------------------------------------------------------------------------------


def test_the_follow_up_form_names_the_clicked_department_and_presets_the_clicker(world: World) -> None:
    story = finance_story(world)
    form = act(world, "follow_up", DANA, story_id=story, message=MessageRef(channel="C0FIN", message_id="1700.1"))
    assert form == FollowUpForm(story_id=story, department="Finance & Billing", owner="UDANA", owner_name="Dana")
    gone = act(world, "follow_up", DANA, story_id=story + 1000)
    assert isinstance(gone, Notice) and "no longer exists" in gone.text


def test_anyone_may_follow_up_themselves_and_a_double_submit_is_one_commitment(world: World) -> None:
    story = finance_story(world)
    values = {"what": "Call the customer back", "due": FRIDAY.isoformat(), "owner": ""}
    first = act(world, "commit", DANA, key="form-1", story_id=story, values=values)
    again = act(
        world, "commit", DANA, key="form-2", story_id=story, values={**values, "what": " call the  customer back"}
    )
    assert isinstance(first, CommitmentItem) and (first.owner, first.owner_name, first.due) == ("UDANA", "Dana", FRIDAY)
    assert again == first
    assert count(world, Commitment) == 1


@pytest.mark.parametrize(("actor", "allowed"), [(FIONA, True), (CARLA, True), (DANA, False), (LEO, False)])
def test_naming_someone_else_as_owner_is_for_the_departments_managers_and_the_cx_team(
    world: World, actor: Actor, allowed: bool
) -> None:
    story = finance_story(world)
    values = {"what": "Refund the fee", "owner": "UOTHER", "owner_name": "Olga"}
    answer = act(world, "commit", actor, story_id=story, department="Finance & Billing", values=values)
    if allowed:
        assert isinstance(answer, CommitmentItem) and (answer.owner, answer.owner_name) == ("UOTHER", "Olga")
        assert answer.created_by == actor.user_id
    else:
        assert isinstance(answer, Notice) and "name someone else" in answer.text
        assert count(world, Commitment) == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [({"what": "Call back", "due": "next week"}, "due date"), ({"what": "  ", "due": ""}, "say what you will do")],
)
def test_a_form_people_can_fix_is_answered_naming_the_field(world: World, values: dict, field: str) -> None:
    story = finance_story(world)
    answer = act(world, "commit", DANA, story_id=story, values=values)
    assert isinstance(answer, Notice) and answer.text.startswith("Not saved:") and field in answer.text
    assert count(world, Commitment) == 0


# --- done, drop -----------------------------------------------------------------------------------------------


def test_done_and_drop_follow_who_may_close(world: World) -> None:
    story = finance_story(world)
    item = act(world, "commit", DANA, story_id=story, values={"what": "Call back"})
    assert isinstance(item, CommitmentItem)
    refused = act(world, "drop", LEO, commitment_id=item.id)
    assert isinstance(refused, Notice) and "Only its owner" in refused.text
    done = act(world, "done", FIONA, commitment_id=item.id)  # Finance's manager
    assert isinstance(done, CommitmentItem) and done.state == "done"
    stale = act(world, "done", FIONA)
    assert isinstance(stale, Notice) and "out of date" in stale.text


# --- reactions ------------------------------------------------------------------------------------------------


def test_a_reaction_on_a_digest_counts_for_each_story_it_carries_once(world: World) -> None:
    first, second = world.story("I was charged twice on my invoice"), world.story("My refund never came")
    for story in (first, second):
        world.posted(story, department="Finance & Billing", channel="C0FIN", message_id="1700.9")
    digest = MessageRef(channel="C0FIN", message_id="1700.9")
    assert act(world, "react", DANA, message=digest, values={"emoji": "eyes"}) == Reacted(2)
    assert act(world, "react", DANA, message=digest, values={"emoji": "eyes"}) == Reacted(0)  # a retry
    assert count(world, Reaction) == 2
    assert act(world, "react", DANA, message=MessageRef("C0FIN", "1700.0"), values={"emoji": "eyes"}) == Reacted(0)
    assert act(world, "react", DANA, message=digest, values={"emoji": " "}) == Reacted(0)  # unusable: ignored
    assert act(world, "unreact", DANA, message=digest, values={"emoji": "eyes"}) == Reacted(2)
    assert count(world, Reaction) == 0
