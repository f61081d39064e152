from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from storage.models import Commitment, Correction, Reaction, Route
from stories.actors import Actor
from stories.config import Nudges
from stories.followup import (
    InvalidInput,
    StoryBrief,
    close,
    commit,
    nudge_messages,
    record_reaction,
    reroute,
    reroute_choice,
    story_note,
    weekly_summary,
)
from stories.views import CommitmentItem, Notice
from tests.followup_world import CONFIG, DANA, FIONA, World, make_world

TUESDAY = date(2026, 12, 1)
FRIDAY = date(2026, 12, 4)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    w = make_world(database_url)
    yield w
    w.engine.dispose()


def count(world: World, model: type) -> int:
    with world.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def make_commitment(
    world: World, story_id: int, *, key: str = "act-1", owner: Actor = FIONA, **kw: object
) -> CommitmentItem:
    args: dict[str, object] = {
        "store": world.store,
        "outbox": world.outbox,
        "key": key,
        "story_id": story_id,
        "department": "Finance & Billing",
        "owner": owner.user_id,
        "owner_name": owner.name,
        "created_by": owner.user_id,
        "platform": owner.platform,
        "what": "call the customer back",
        "due": FRIDAY,
        "now": world.clock(),
        "redactor": world.pipeline.redactor,
    }
    args.update(kw)
    return commit(**args)  # type: ignore[arg-type]


def test_a_reaction_is_one_row_however_often_it_arrives_and_removal_deletes_it(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    now = world.clock()
    assert record_reaction(
        store=world.store, story_id=story, platform="slack", user_id="U1", emoji="eyes", added=True, now=now
    )
    assert not record_reaction(
        store=world.store, story_id=story, platform="slack", user_id="U1", emoji="eyes", added=True, now=now
    )
    record_reaction(
        store=world.store, story_id=story, platform="teams", user_id="U1", emoji="like", added=True, now=now
    )
    assert count(world, Reaction) == 2
    assert record_reaction(
        store=world.store, story_id=story, platform="slack", user_id="U1", emoji="eyes", added=False, now=now
    )
    assert not record_reaction(
        store=world.store, story_id=story, platform="slack", user_id="U1", emoji="eyes", added=False, now=now
    )
    assert count(world, Reaction) == 1


def test_a_commitment_replies_in_every_thread_showing_the_story_and_notes_it_on_the_cards(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    world.posted(story, department="Finance & Billing", channel="C0FIN")
    world.posted(story, department="Finance & Billing", channel="19:fin@thread.tacv2", platform="teams")
    world.posted(story, department="CX Team", channel="C0CX")

    item = make_commitment(world, story)

    assert (item.owner, item.department, item.due, item.state, item.overdue) == (
        "UFINMGR",
        "Finance & Billing",
        FRIDAY,
        "open",
        False,
    )
    assert item.due_label == "due Fri 4 Dec"
    replies = world.deliveries("reply")
    assert {(r["platform"], r["channel"]) for r in replies} == {
        ("slack", "C0FIN"),
        ("teams", "19:fin@thread.tacv2"),
        ("slack", "C0CX"),
    }
    assert {r["payload"]["text"] for r in replies} == {"Fiona will follow up: call the customer back (due Fri 4 Dec)."}
    updates = world.deliveries("update")
    assert sorted(u["platform"] for u in updates) == ["slack", "teams"]
    assert updates[0]["payload"] == {"note": "Fiona will follow up: call the customer back (due Fri 4 Dec)"}
    assert all(u["story_id"] == story for u in updates + replies)


def test_a_commitment_quoting_a_phone_number_is_stored_and_posted_redacted(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    world.posted(story, department="Finance & Billing", channel="C0FIN")
    item = make_commitment(world, story, what="call her back on +44 20 7946 0958 today")
    assert item.what == "call her back on [phone] today"
    with world.engine.connect() as conn:
        assert conn.scalar(select(Commitment.what)) == "call her back on [phone] today"
    payloads = str([d["payload"] for d in world.deliveries()])
    assert "[phone]" in payloads and "7946" not in payloads


def test_a_retried_commitment_is_one_row_and_posts_nothing_twice(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    world.posted(story, department="Finance & Billing", channel="C0FIN")
    first = make_commitment(world, story, key="view-123")
    queued = world.deliveries()
    again = make_commitment(world, story, key="view-123", what="something else entirely")
    assert again == first
    assert count(world, Commitment) == 1
    assert world.deliveries() == queued


def test_a_commitment_on_a_story_not_posted_yet_goes_to_the_department_channel_naming_the_story(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    make_commitment(world, story)
    replies = world.deliveries("reply")
    assert [(r["platform"], r["channel"]) for r in replies] == [("slack", "C0FIN")]
    assert replies[0]["payload"]["text"].startswith("Fiona will follow up: call the customer back")
    assert "(Story: " in replies[0]["payload"]["text"]
    assert world.deliveries("update") == []  # no card to update yet


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"what": "   "}, "what"),
        ({"what": "x" * 1001}, "what"),
        ({"due": TUESDAY - timedelta(days=1)}, "due"),
        ({"story_id": 999_999}, "story"),
        ({"department": "Customer Service"}, "department"),
    ],
)
def test_a_commitment_people_can_fix_is_refused_naming_the_field(world: World, changes: dict, field: str) -> None:
    story = world.story("I was charged twice on my invoice")
    changes = dict(changes)  # parameters are shared between the SQLite and PostgreSQL runs
    story = int(changes.pop("story_id", story))
    with pytest.raises(InvalidInput) as refused:
        make_commitment(world, story, **changes)
    assert refused.value.field == field
    assert count(world, Commitment) == 0
    assert world.deliveries() == []


def test_closing_a_commitment_done_closes_the_loop_in_the_threads_and_on_the_cards(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    world.posted(story, department="Finance & Billing", channel="C0FIN")
    item = make_commitment(world, story)
    world.clock.advance(days=2)

    closed = close(
        store=world.store,
        outbox=world.outbox,
        config=CONFIG,
        commitment_id=item.id,
        by=FIONA,
        state="done",
        now=world.clock(),
    )

    assert isinstance(closed, CommitmentItem) and closed.state == "done"
    loop = [r for r in world.deliveries("reply") if r["key"].startswith(f"commitment:{item.id}:closed")]
    assert [r["payload"]["text"] for r in loop] == ["Closed the loop: Fiona followed up — call the customer back."]
    notes = [u["payload"]["note"] for u in world.deliveries("update")]
    assert notes[-1] == "Fiona followed up: call the customer back (done)"
    with world.engine.connect() as conn:
        row = conn.execute(select(Commitment.state, Commitment.closed_by)).one()
    assert tuple(row) == ("done", "UFINMGR")


def test_dropping_a_commitment_is_quiet_but_takes_it_off_the_card(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    world.posted(story, department="Finance & Billing", channel="C0FIN")
    item = make_commitment(world, story)
    replies_before = world.deliveries("reply")
    close(
        store=world.store,
        outbox=world.outbox,
        config=CONFIG,
        commitment_id=item.id,
        by=FIONA,
        state="dropped",
        now=world.clock(),
    )
    assert world.deliveries("reply") == replies_before
    assert world.deliveries("update")[-1]["payload"] == {"note": ""}


def test_closing_twice_posts_once_and_a_contradiction_is_answered(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    world.posted(story, department="Finance & Billing", channel="C0FIN")
    item = make_commitment(world, story)
    kw = {
        "store": world.store,
        "outbox": world.outbox,
        "config": CONFIG,
        "commitment_id": item.id,
        "by": FIONA,
        "now": world.clock(),
    }
    close(state="done", **kw)  # type: ignore[arg-type]
    queued = world.deliveries()
    again = close(state="done", **kw)  # type: ignore[arg-type]
    assert isinstance(again, CommitmentItem) and again.state == "done"
    assert world.deliveries() == queued
    assert close(state="dropped", **kw) == Notice("That commitment is already done.")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (FIONA, True),  # owner (and Finance manager)
        (Actor(platform="slack", user_id="UCXLEAD"), True),  # CX team
        (Actor(platform="slack", user_id="USOMEONE"), False),
        (Actor(platform="teams", user_id="UFINMGR_ON_TEAMS"), False),
        (Actor(platform="slack", user_id="ULEO", groups=frozenset({"SLOGLEADS"})), False),  # another department's lead
    ],
)
def test_only_owner_maker_managers_and_cx_team_close_a_commitment(world: World, actor: Actor, allowed: bool) -> None:
    story = world.story("I was charged twice on my invoice")
    item = make_commitment(world, story, owner=DANA)
    result = close(
        store=world.store,
        outbox=world.outbox,
        config=CONFIG,
        commitment_id=item.id,
        by=actor,
        state="done",
        now=world.clock(),
    )
    if actor is FIONA:  # Fiona manages Finance & Billing though Dana owns it
        assert isinstance(result, CommitmentItem)
    assert isinstance(result, CommitmentItem) is allowed
    state = world.store.commitment(item.id, today=TUESDAY)
    assert state is not None and state.state == ("done" if allowed else "open")


def test_not_for_us_moves_the_story_records_the_correction_and_posts_it_to_the_right_department(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    world.posted(story, department="Finance & Billing", channel="C0FIN")
    kw = {
        "store": world.store,
        "outbox": world.outbox,
        "config": CONFIG,
        "key": "slack:action:A1",
        "story_id": story,
        "from_department": "finance & billing",
        "to_department": "Logistics & Delivery",
        "by": FIONA,
        "now": world.clock(),
    }
    notice = reroute(**kw)  # type: ignore[arg-type]
    again = reroute(**kw)  # type: ignore[arg-type]

    assert "Logistics & Delivery" in notice.text and again == notice
    assert count(world, Correction) == 1
    brief = world.store.story(story)
    assert brief is not None and brief.departments == ("Logistics & Delivery",)
    posts = world.deliveries("story")
    assert [(p["key"], p["channel"]) for p in posts] == [(f"story:{story}:Logistics & Delivery:slack:C0LOG", "C0LOG")]
    assert [r["payload"]["text"] for r in world.deliveries("reply")] == [
        "Fiona sent this story to Logistics & Delivery."
    ]
    with world.engine.connect() as conn:
        assert conn.scalar(select(Route.rule).where(Route.story_id == story)) == "correction"


def test_not_for_us_to_the_same_department_changes_nothing(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    notice = reroute(
        store=world.store, outbox=world.outbox, config=CONFIG, key="k", story_id=story,
        from_department="Finance & Billing", to_department="Finance & Billing", by=FIONA, now=world.clock(),
    )  # fmt: skip
    assert "already with Finance & Billing" in notice.text
    assert count(world, Correction) == 0 and world.deliveries() == []


def test_not_for_us_leaves_the_clicked_department_for_one_the_story_is_not_with() -> None:
    both = StoryBrief(story_id=1, title="t", departments=("Logistics & Delivery", "Finance & Billing"))
    clicked = reroute_choice(CONFIG, both, clicked="Finance & Billing")
    assert clicked.source == "Finance & Billing"
    assert clicked.targets == tuple(n for n in CONFIG.department_names if n not in both.departments)
    assert "Logistics & Delivery" not in clicked.targets and clicked.targets
    assert reroute_choice(CONFIG, both, clicked=None).source == "Logistics & Delivery"  # no message: its first
    nowhere = reroute_choice(CONFIG, StoryBrief(story_id=2, title="t", departments=()), clicked=None)
    assert nowhere.source is None and nowhere.targets == CONFIG.department_names


def test_nudges_go_to_commitments_due_by_tomorrow_or_overdue_once_a_day(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    wednesday = TUESDAY + timedelta(days=1)
    due_tomorrow = make_commitment(world, story, key="a", due=wednesday)
    overdue = make_commitment(world, story, key="b", due=TUESDAY)
    friday = make_commitment(world, story, key="c", due=FRIDAY)  # not yet
    make_commitment(world, story, key="d", due=None)  # nothing to nudge about
    done = make_commitment(world, story, key="e", due=TUESDAY)
    close(
        store=world.store,
        outbox=world.outbox,
        config=CONFIG,
        commitment_id=done.id,
        by=FIONA,
        state="done",
        now=world.clock(),
    )

    today = wednesday  # the scheduler's morning run
    due = world.store.due_for_nudge(today)
    assert sorted(i.id for i in due) == [due_tomorrow.id, overdue.id]
    assert {i.id: i.overdue for i in due} == {due_tomorrow.id: False, overdue.id: True}

    messages = nudge_messages(due, today=today, settings=Nudges())
    assert {(m.kind, m.channel, m.key) for m in messages} == {
        ("dm", "UFINMGR", f"nudge:{due_tomorrow.id}:2026-12-02"),
        ("dm", "UFINMGR", f"nudge:{overdue.id}:2026-12-02"),
    }
    overdue_text = next(m.payload["text"] for m in messages if m.key.startswith(f"nudge:{overdue.id}"))
    assert "overdue since Tue 1 Dec" in overdue_text and "/cx actions" in overdue_text
    assert world.store.mark_nudged([i.id for i in due], today) == 2
    assert world.store.due_for_nudge(today) == []
    thursday = sorted(i.id for i in world.store.due_for_nudge(today + timedelta(days=1)))
    assert thursday == [due_tomorrow.id, overdue.id, friday.id]  # a new day: reminders again, Friday's is due


def test_no_nudges_on_weekends_unless_configured(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    saturday = date(2026, 12, 5)
    make_commitment(world, story, due=FRIDAY)
    due = world.store.due_for_nudge(saturday)
    assert len(due) == 1
    assert nudge_messages(due, today=saturday, settings=Nudges()) == []
    assert len(nudge_messages(due, today=saturday, settings=Nudges(weekends=True))) == 1
    assert nudge_messages(due, today=FRIDAY, settings=Nudges(enabled=False)) == []


def test_the_card_note_lists_open_follow_ups_first_and_leaves_dropped_ones_out(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    first = make_commitment(world, story, key="a", what="refund the second charge")
    make_commitment(world, story, key="b", owner=DANA, what="check the billing run", due=None)
    dropped = make_commitment(world, story, key="c", what="write to the bank")
    close(
        store=world.store,
        outbox=world.outbox,
        config=CONFIG,
        commitment_id=first.id,
        by=FIONA,
        state="done",
        now=world.clock(),
    )
    close(
        store=world.store,
        outbox=world.outbox,
        config=CONFIG,
        commitment_id=dropped.id,
        by=FIONA,
        state="dropped",
        now=world.clock(),
    )
    assert story_note(world.store.story_commitments(story, today=TUESDAY)) == (
        "Dana will follow up: check the billing run (no due date) · Fiona followed up: refund the second charge (done)"
    )


def test_the_weekly_summary_lists_open_commitments_overdue_first(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    make_commitment(world, story, key="a", what="refund the charge", due=FRIDAY)
    make_commitment(world, story, key="b", owner=DANA, what="check the billing run", due=TUESDAY)
    done = make_commitment(world, story, key="c", what="apologise")
    close(
        store=world.store,
        outbox=world.outbox,
        config=CONFIG,
        commitment_id=done.id,
        by=FIONA,
        state="done",
        now=world.clock(),
    )
    world.clock.advance(days=2)
    items = world.store.open_commitments(today=date(2026, 12, 3), departments=["Finance & Billing"])
    assert weekly_summary(department="Finance & Billing", items=items) == (
        "Finance & Billing: 2 open commitments, 1 overdue.\n"
        "- Dana: check the billing run (overdue since Tue 1 Dec)\n"
        "- Fiona: refund the charge (due Fri 4 Dec)"
    )
    assert weekly_summary(department="Finance & Billing", items=items, limit=1).endswith("…and 1 more.")
    assert (
        weekly_summary(department="Customer Service", items=[])
        == "Customer Service: no open follow-up commitments this week."
    )
