from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.models import Kudos
from stories.followup import InvalidInput
from stories.kudos import find_praise, give_kudos, praise_suggestions
from stories.views import KudosView, Notice
from tests.followup_world import CARLA, CONFIG, DANA, World, make_world


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Maria at the Leeds depot was wonderful.", ["Maria"]),
        ("Huge thanks to Tom for sorting out my refund!", ["Tom"]),
        ("Priya was so helpful.", ["Priya"]),
        ("Thank you Sarah and Ali!", ["Sarah", "Ali"]),
        ("Our driver Tom was brilliant, and Gemma in the call centre was really patient.", ["Tom", "Gemma"]),
        ("I was helped by Jake, who was lovely.", ["Jake"]),
        ("A lovely lady called Sue sorted it all out.", ["Sue"]),
        ("Mr Patel went above and beyond.", ["Mr Patel"]),
        ("Great service from Dave today, he was very knowledgeable.", ["Dave"]),
        ("On Monday Tom was great.", ["Tom"]),
        ("Zoë was fantastic. Zoë is a star!", ["Zoë"]),
    ],
)
def test_praise_naming_an_employee_is_found(text: str, names: list[str]) -> None:
    assert find_praise(text, sentiment="positive") == names


@pytest.mark.parametrize(
    "text",
    [
        "Delivery was great. Everything was perfect!",
        "The Leeds store was wonderful.",
        "Thanks Amazon, arrived on Friday.",
        "Thank you for the quick reply.",
        "Customer Service was excellent.",
        "Thanks to the Leeds store for the help.",
        "DHL was brilliant.",
        "I love it. Great quality. Highly recommend.",
        "Tom was rude but the refund came.",
        "Service from Dave was slow.",  # no praise word in the sentence
    ],
)
def test_capitalised_words_that_are_not_praised_people_are_ignored(text: str) -> None:
    assert find_praise(text, sentiment="positive") == []


@pytest.mark.parametrize("sentiment", ["negative", "neutral", None])
def test_only_positive_comments_are_searched_for_praise(sentiment: str | None) -> None:
    assert find_praise("Priya was so helpful but the product broke twice.", sentiment=sentiment) == []


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    w = make_world(database_url)
    yield w
    w.engine.dispose()


def kudos(world: World, **kw: object) -> KudosView | Notice:
    args: dict[str, object] = {
        "store": world.store,
        "outbox": world.outbox,
        "config": CONFIG,
        "key": "k1",
        "giver": CARLA,
        "receiver": "UDANA",
        "receiver_name": "Dana",
        "why": "for the same-day refund",
        "now": world.clock(),
        "redactor": world.pipeline.redactor,
    }
    args.update(kw)
    return give_kudos(**args)  # type: ignore[arg-type]


def sources(world: World) -> list[tuple[str, int | None]]:
    with world.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(Kudos.source, Kudos.story_id).order_by(Kudos.id))]  # type: ignore[misc]


def test_kudos_to_oneself_or_without_a_reason_are_refused(world: World) -> None:
    assert isinstance(kudos(world, receiver="UCARLA"), Notice)
    with pytest.raises(InvalidInput) as empty:
        kudos(world, why="  ")
    assert empty.value.field == "why"
    with pytest.raises(InvalidInput):
        kudos(world, why="x" * 501)
    assert sources(world) == [] and world.deliveries() == []


def test_a_kudos_reason_keeps_the_names_but_not_the_customers_phone_number(world: World) -> None:
    view = kudos(world, why="for calling Mrs Patel back on +44 20 7946 0958 within the hour")
    assert not isinstance(view, Notice)
    with world.engine.connect() as conn:
        assert conn.scalar(select(Kudos.why)) == "for calling Mrs Patel back on [phone] within the hour"
    payloads = str([d["payload"] for d in world.deliveries()])
    assert "Mrs Patel back on [phone]" in payloads and "7946" not in payloads


def test_kudos_are_refused_to_anyone_outside_the_cx_team(world: World) -> None:
    assert isinstance(kudos(world, giver=DANA, receiver="UCARLA"), Notice)
    assert sources(world) == [] and world.deliveries() == []


def test_kudos_given_in_the_thread_of_praise_come_from_the_customer(world: World) -> None:
    praise = world.story("Dana on the phone was so helpful, thank you!")
    plain = world.story("My invoice was wrong")
    kudos(world, key="a", story_id=praise)
    kudos(world, key="b", story_id=plain)
    kudos(world, key="c")
    assert sources(world) == [("customer_praise", praise), ("cx_team", plain), ("cx_team", None)]
    dm = next(d for d in world.deliveries("dm") if d["story_id"] == praise)
    assert dm["payload"]["text"] == (
        f"Kudos to you from a customer, passed on by Carla: for the same-day refund "
        f"(from story #{praise} “Dana on the phone was so helpful, thank you”)"
    )


def test_suggestions_skip_stories_already_passed_on_and_old_ones(world: World) -> None:
    old = world.story("Priya was so helpful.")
    world.clock.advance(days=20)
    thanked = world.story("Thanks to Tom for the quick refund!")
    open_praise = world.story("Maria at the Leeds depot was wonderful.")
    world.story("Nobody helped me at all, awful.")
    kudos(world, story_id=thanked)
    now = world.clock()
    view = praise_suggestions(store=world.store, since=now - timedelta(days=14), until=now)
    assert [(s.story_id, s.names) for s in view.items] == [(open_praise, ("Maria",))]
    assert old not in [s.story_id for s in view.items]


def test_kudos_received_lists_the_newest_first(world: World) -> None:
    kudos(world, key="a", why="first")
    world.clock.advance(hours=1)
    kudos(world, key="b", why="second", now=world.clock())
    kudos(world, key="c", why="for someone else", receiver="UOTHER")
    received = world.store.kudos_received("UDANA", platform="slack")
    assert [k.why for k in received] == ["second", "first"]
