"""Kudos people trust (issue 15, point 4), in the core with the real SQL store and outbox: a monthly limit per
giver, opt-out, the board counted by people who said thank you, the weekly praise push, and the "Give kudos"
button's action. tests/slack/test_kudos.py and tests/teams/test_kudos.py drive the same over the fakes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage.models import Kudos, KudosOptOut
from stories.actions import Action, Actions
from stories.actors import Actor
from stories.commands import CommandContext
from stories.config import KudosSettings
from stories.kudos import praise_suggestions
from stories.praise_push import from_payload, plan_praise, praise_keys, praise_slot
from stories.views import KudosBoardView, KudosView, Notice, PraiseView
from tests.followup_world import CARLA, CONFIG, DANA, FIONA, World, make_world

LIMITED = CONFIG.model_copy(update={"kudos": KudosSettings(monthly_limit=2)})
PUSHING = CONFIG.model_copy(update={"kudos": KudosSettings(praise_slack_channel="C0CXPRAISE", praise_hour=9)})
LEAD = Actor(platform="slack", user_id="UCXLEAD", name="Lee")  # CX team by user id
SAM = Actor(platform="slack", user_id="USAM", name="Sam", groups=frozenset({"SCXTEAM"}))  # CX team by group


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    w = make_world(database_url)
    yield w
    w.engine.dispose()


def rows(world: World) -> list[tuple[str, str, int | None, str | None]]:
    with world.engine.connect() as conn:
        found = conn.execute(select(Kudos.giver, Kudos.receiver, Kudos.story_id, Kudos.department).order_by(Kudos.id))
        return [tuple(r) for r in found]  # type: ignore[misc]


def thank(world: World, giver: Actor, who: str, *, request: str, channel: str = "C0FIN", why: str = "for the help"):  # type: ignore[no-untyped-def]
    user = {"dana": "UDANA", "fiona": "UFINMGR", "leo": "ULEO", "carla": "UCARLA"}[who]
    return world.run(giver, f"kudos @{who} {why}", mentions={f"@{who}": user}, request_id=request, channel=channel)


# --- the monthly limit ----------------------------------------------------------------------------------------


def test_the_monthly_limit_refuses_kindly_counts_no_retry_and_renews_next_month(world: World) -> None:
    world.config = LIMITED
    assert isinstance(thank(world, CARLA, "dana", request="r1"), KudosView)
    assert isinstance(thank(world, CARLA, "fiona", request="r2"), KudosView)

    over = thank(world, CARLA, "leo", request="r3")
    assert isinstance(over, Notice)
    assert over.text.startswith("You have given your 2 kudos for December; thank you! They renew on 1 January.")
    retried = thank(world, CARLA, "fiona", request="r2")  # Slack resending the second: not a third kudos
    assert isinstance(retried, KudosView) and retried.receiver == "UFINMGR"
    assert isinstance(thank(world, LEAD, "leo", request="r4"), KudosView)  # the limit is per giver
    assert [r[:2] for r in rows(world)] == [("UCARLA", "UDANA"), ("UCARLA", "UFINMGR"), ("UCXLEAD", "ULEO")]
    assert len(world.deliveries("dm")) == 3

    world.clock.now = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
    assert isinstance(thank(world, CARLA, "leo", request="r5"), KudosView)
    assert rows(world)[-1][:2] == ("UCARLA", "ULEO")


def test_concurrent_kudos_by_one_giver_take_exactly_the_monthly_limit(world: World) -> None:
    """Several replicas answering one person's kudos at the same instant (threads, each its own connection): the
    count and the insert are one step per giver, so exactly the limit get through, whatever the interleaving."""
    world.config = CONFIG.model_copy(update={"kudos": KudosSettings(monthly_limit=3)})
    givers, start = 12, threading.Barrier(12)

    def give(n: int) -> object:
        commands = world.commands()
        start.wait()
        context = CommandContext(
            actor=CARLA, channel="C0FIN", thread_story_id=None, mentions={"@dana": "UDANA"}, request_id=f"c{n}"
        )
        return commands.run(context, "kudos @dana for the help")

    with ThreadPoolExecutor(givers) as pool:
        answers = list(pool.map(give, range(givers)))

    assert sum(isinstance(a, KudosView) for a in answers) == 3
    assert sum(isinstance(a, Notice) and a.text.startswith("You have given your 3 kudos") for a in answers) == 9
    assert len(rows(world)) == 3 and len(world.deliveries("dm")) == 3


# --- opt-out --------------------------------------------------------------------------------------------------


def test_an_opted_out_person_gets_no_public_kudos_and_the_giver_is_told_politely(world: World) -> None:
    answer = world.run(DANA, "kudos optout")
    assert isinstance(answer, Notice) and answer.text.startswith("Done: you will not receive public kudos")
    assert world.run(DANA, "kudos optout").text.startswith("You had already opted out.")
    with world.engine.connect() as conn:
        assert [
            tuple(r) for r in conn.execute(select(KudosOptOut.platform, KudosOptOut.user_id, KudosOptOut.name))
        ] == [("slack", "UDANA", "Dana")]

    refused = thank(world, CARLA, "dana", request="r1")
    assert refused == Notice(
        "Thank you for noticing! dana has asked not to receive public kudos, so nothing was posted. "
        "A word in person or a direct message will still mean a lot."
    )
    assert rows(world) == [] and world.deliveries() == []

    assert world.run(DANA, "kudos optin") == Notice("Welcome back: colleagues can thank you publicly again.")
    assert isinstance(thank(world, CARLA, "dana", request="r2"), KudosView)
    assert [r[:2] for r in rows(world)] == [("UCARLA", "UDANA")]


def test_opted_out_names_are_left_out_of_praise_suggestions(world: World) -> None:
    both = world.story("Dana and Maria at the Leeds depot were wonderful, thank you!")
    only_dana = world.story("Dana was so helpful, thank you!")
    world.run(DANA, "kudos optout")
    now = world.clock()
    view = praise_suggestions(store=world.store, since=now - timedelta(days=14), until=now)
    assert [(s.story_id, s.names) for s in view.items] == [(both, ("Maria",))]
    assert only_dana not in [s.story_id for s in view.items]


def test_an_opted_out_person_is_left_off_the_board(world: World) -> None:
    thank(world, CARLA, "dana", request="r1")
    thank(world, CARLA, "fiona", request="r2")
    world.run(DANA, "kudos optout")
    board = world.run(FIONA, "kudos top")
    assert isinstance(board, KudosBoardView)
    assert [r.receiver for r in board.rows] == ["UFINMGR"]
    assert [(d.department, d.people) for d in board.departments] == [("Finance & Billing", 1)]


# --- the board ------------------------------------------------------------------------------------------------


def test_the_board_ranks_by_different_people_who_said_thanks_not_by_count(world: World) -> None:
    # Leo: three kudos from one giver. Fiona: two givers, two kudos. Dana: two givers, three kudos.
    for n in range(3):
        thank(world, CARLA, "leo", request=f"leo{n}", channel="C0LOG", why=f"for the depot fix {n}")
    thank(world, CARLA, "fiona", request="f1")
    thank(world, LEAD, "fiona", request="f2")
    thank(world, CARLA, "dana", request="d1")
    thank(world, SAM, "dana", request="d2")
    thank(world, SAM, "dana", request="d3", channel="C0SOMEWHERE", why="again")
    world.clock.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # last month's kudos do not count
    thank(world, LEAD, "leo", request="old", channel="C0LOG")
    world.clock.now = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)

    board = world.run(DANA, "kudos top")
    assert isinstance(board, KudosBoardView) and board.month == "December 2026" and board.department is None
    assert [(r.receiver, r.name, r.thanked_by, r.kudos) for r in board.rows] == [
        ("UDANA", "dana", 2, 3),
        ("UFINMGR", "fiona", 2, 2),
        ("ULEO", "leo", 1, 3),
    ]
    assert [(d.department, d.people) for d in board.departments] == [
        ("Finance & Billing", 2),  # Dana and Fiona thanked in Finance's channel (Dana's third elsewhere)
        ("Logistics & Delivery", 1),
    ]
    finance = world.run(DANA, "kudos top fin")
    assert isinstance(finance, KudosBoardView) and finance.department == "Finance & Billing"
    assert [(r.receiver, r.thanked_by, r.kudos) for r in finance.rows] == [("UDANA", 2, 2), ("UFINMGR", 2, 2)]
    assert finance.departments == ()


def test_kudos_top_is_anyones_and_names_an_unknown_department_clearly(world: World) -> None:
    empty = world.run(DANA, "kudos top")
    assert isinstance(empty, KudosBoardView) and empty.rows == ()
    wrong = world.run(DANA, "kudos top nowhere")
    assert (wrong.notice or "").startswith("There is no department “nowhere”; try CX Team")
    assert isinstance(world.run(DANA, "kudos @fiona thanks", mentions={"@fiona": "UFINMGR"}), Notice)  # giving: CX


# --- the weekly praise push -----------------------------------------------------------------------------------


def test_the_praise_push_is_planned_once_a_week_with_the_weeks_praise(world: World) -> None:
    world.clock.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
    maria = world.story("Maria at the Leeds depot was wonderful, thank you!")
    world.story("My parcel never came and nobody answered.")
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert praise_slot(PUSHING, monday + timedelta(hours=3)) == monday
    assert praise_slot(PUSHING, monday - timedelta(minutes=1)) == monday - timedelta(days=7)

    planned = plan_praise(config=PUSHING, store=world.store, now=monday + timedelta(minutes=5), platforms=("slack",))
    assert [(o.key, o.kind, o.platform, o.channel) for o in planned] == [
        ("praise:2026-W49:slack:C0CXPRAISE", "praise", "slack", "C0CXPRAISE")
    ]
    view = from_payload(planned[0].payload)
    assert isinstance(view, PraiseView) and [(s.story_id, s.names) for s in view.items] == [(maria, ("Maria",))]
    assert world.outbox.enqueue(planned) == 1
    again = plan_praise(config=PUSHING, store=world.store, now=monday + timedelta(hours=5), platforms=("slack",))
    assert world.outbox.enqueue(again) == 0  # every sweep that week plans the same key
    queued = world.outbox.states(list(praise_keys(PUSHING, monday, ("slack",)).values()))
    assert plan_praise(config=PUSHING, store=world.store, now=monday, platforms=("slack",), planned=queued) == []
    assert [d["key"] for d in world.deliveries("praise")] == ["praise:2026-W49:slack:C0CXPRAISE"]

    next_week = plan_praise(config=PUSHING, store=world.store, now=monday + timedelta(days=7), platforms=("slack",))
    assert next_week == []  # Maria's praise was last week's; nothing new, nothing posted
    assert plan_praise(config=PUSHING, store=world.store, now=monday, platforms=("teams",)) == []  # no Teams channel


# --- the "Give kudos" button ------------------------------------------------------------------------------------


def actions(world: World, config: object = CONFIG) -> Actions:
    return Actions(
        config=config,  # type: ignore[arg-type]
        store=world.store,
        outbox=world.outbox,
        messages=world.outbox,
        today=lambda _actor: world.clock().date(),
        clock=world.clock,
        redactor=world.pipeline.redactor,
        kudos=world.store,
    )


def click(world: World, actor: Actor, story: int, receiver: str, key: str) -> object:
    values = {"receiver": receiver, "name": "Maria", "receiver_name": "Maria Lopez"}
    return actions(world).handle(Action(kind="give_kudos", actor=actor, key=key, story_id=story, values=values))


def test_give_kudos_on_praise_thanks_the_picked_person_once_linked_to_the_story(world: World) -> None:
    story = world.story("Maria was so helpful with my refund, thank you!")
    given = click(world, CARLA, story, "UMARIA", "click-1")
    assert isinstance(given, KudosView)
    assert (given.receiver, given.story_id, given.story_title) == (
        "UMARIA",
        story,
        "Maria was so helpful with my refund, thank you",
    )
    assert isinstance(click(world, SAM, story, "UMARIA", "click-2"), KudosView)  # a second click, another member
    with world.engine.connect() as conn:
        found = conn.execute(
            select(Kudos.receiver, Kudos.receiver_name, Kudos.story_id, Kudos.source, Kudos.department)
        ).all()
    assert [tuple(r) for r in found] == [("UMARIA", "Maria Lopez", story, "customer_praise", "Finance & Billing")]
    sent = {(d["kind"], d["channel"]): d["payload"]["text"] for d in world.deliveries()}
    reference = f"(from story #{story} “Maria was so helpful with my refund, thank you”)"
    assert sent == {
        (
            "dm",
            "UMARIA",
        ): f"Kudos to you from a customer, passed on by Carla: for what a customer wrote about them {reference}",
        (
            "text",
            "C0KUDOS",
        ): f"Kudos to Maria Lopez from a customer, passed on by Carla: for what a customer wrote about them {reference}",
    }


def test_give_kudos_needs_a_person_picked_and_the_cx_team(world: World) -> None:
    story = world.story("Maria was so helpful, thank you!")
    unpicked = click(world, CARLA, story, "", "k1")
    assert unpicked == Notice("First pick who Maria is, then click “Give kudos”.")
    assert isinstance(click(world, DANA, story, "UMARIA", "k2"), Notice)
    gone = click(world, CARLA, 999_999, "UMARIA", "k3")
    assert gone == Notice("That story no longer exists.")
    assert rows(world) == [] and world.deliveries() == []
