from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from stories.followup import close, commit, record_reaction
from stories.stats import PeriodFigures, build_stats
from stories.views import StatsView
from tests.followup_world import CONFIG, FIONA, World, make_world


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    w = make_world(database_url)
    yield w
    w.engine.dispose()


def make_commitment(world: World, story: int, key: str, department: str = "Finance & Billing") -> int:
    return commit(
        store=world.store,
        outbox=world.outbox,
        key=key,
        story_id=story,
        department=department,
        owner=FIONA.user_id,
        owner_name=FIONA.name,
        created_by=FIONA.user_id,
        platform="slack",
        what=f"do {key}",
        due=None,
        now=world.clock(),
        redactor=world.pipeline.redactor,
    ).id


def finish(world: World, commitment_id: int, state: str = "done") -> None:
    close(
        store=world.store,
        outbox=world.outbox,
        config=CONFIG,
        commitment_id=commitment_id,
        by=FIONA,
        state=state,  # type: ignore[arg-type]
        now=world.clock(),
    )


def react(world: World, story: int, user: str, *, added: bool = True) -> None:
    record_reaction(
        store=world.store, story_id=story, platform="slack", user_id=user, emoji="eyes", added=added, now=world.clock()
    )


def test_stats_count_the_last_30_days_for_a_department(world: World) -> None:
    # Before the window: none of this counts, except commitments closed inside it.
    old = world.story("Old news: my invoice was wrong", nps=0, csat=1)
    world.posted(old, department="Finance & Billing", channel="C0FIN")
    react(world, old, "U0")
    opened_before = make_commitment(world, old, "before")
    world.clock.advance(days=35)

    money = world.story("I was charged twice on my invoice", nps=2, csat=2)
    refund = world.story("The refund came quickly, thank you", nps=10, csat=5)
    parcel = world.story("My parcel went to the wrong depot", nps=9, csat=4)
    world.posted(money, department="Finance & Billing", channel="C0FIN")
    world.posted(refund, department=None, channel="C0FIN", message_id="digest-1")
    world.posted(money, department="Finance & Billing", channel="19:fin", platform="teams")  # same story, other place
    world.posted(parcel, department="Logistics & Delivery", channel="C0LOG")
    for user in ("U1", "U2", "U3"):
        react(world, money, user)
    react(world, money, "U3", added=False)  # taken back: gone
    react(world, parcel, "U1")

    quick = make_commitment(world, money, "quick")
    slow = make_commitment(world, refund, "slow")
    dropped = make_commitment(world, money, "dropped")
    make_commitment(world, parcel, "logistics", department="Logistics & Delivery")
    world.clock.advance(days=1)
    finish(world, quick)
    finish(world, dropped, "dropped")
    finish(world, opened_before)  # made 36 days ago, closed now
    world.clock.advance(days=2)
    finish(world, slow)

    finance = build_stats(reader=world.store, department="Finance & Billing", now=world.clock())
    assert finance == StatsView(
        department="Finance & Billing",
        days=30,
        nps=0.0,  # one promoter (10), one detractor (2)
        csat=50.0,
        stories_delivered=1,  # the digest row carries no department; the money story counts once
        reactions=2,
        commitments_opened=3,
        commitments_closed=3,  # quick, slow and the old one closed in the window; the dropped one is not closed
        median_days_to_close=3.0,  # 1, 3 and 36 days
        nps_responses=2,
        csat_responses=2,
    )
    everyone = build_stats(reader=world.store, department=None, now=world.clock())
    assert (everyone.nps, everyone.nps_responses, everyone.csat) == (33.3, 3, 66.7)
    assert (everyone.stories_delivered, everyone.reactions, everyone.commitments_opened) == (3, 3, 4)


def test_a_quiet_department_has_no_scores_rather_than_zero(world: World) -> None:
    view = build_stats(reader=world.store, department="Customer Service", now=world.clock())
    assert (view.nps, view.csat, view.median_days_to_close) == (None, None, None)
    assert (view.stories_delivered, view.reactions, view.commitments_opened, view.commitments_closed) == (0, 0, 0, 0)


class Figures:
    """A StatsReader answering fixed figures, to check the arithmetic on its own."""

    def __init__(self, figures: PeriodFigures) -> None:
        self.figures = figures
        self.asked: list[tuple[str | None, timedelta]] = []

    def period_figures(self, *, department, since, until):  # type: ignore[no-untyped-def]
        self.asked.append((department, until - since))
        return self.figures


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    from datetime import UTC, datetime

    reader = Figures(PeriodFigures((), (), 0, 0, 0, 4, (0.5, 1.0, 2.0, 9.0)))
    view = build_stats(reader=reader, department="Finance & Billing", now=datetime(2026, 12, 1, tzinfo=UTC), days=7)
    assert view.median_days_to_close == 1.5 and view.days == 7
    assert reader.asked == [("Finance & Billing", timedelta(days=7))]
    with pytest.raises(ValueError):
        build_stats(reader=reader, department=None, now=datetime(2026, 12, 1, tzinfo=UTC), days=0)
