from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models import Comment, Commitment, Department, Kudos
from stories.actors import Actor
from stories.commands import COMMANDS, CommandContext
from stories.followup import commit
from stories.views import (
    ActionsView,
    HelpView,
    KudosView,
    Notice,
    PraiseView,
    StatsView,
    StoryRouted,
)
from tests.followup_world import CARLA, DANA, FIONA, LEO, World, make_world

TUESDAY = date(2026, 12, 1)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    w = make_world(database_url)
    yield w
    w.engine.dispose()


def count(world: World, model: type) -> int:
    with world.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def add_commitment(world: World, story: int, *, owner: Actor, due: date | None, key: str, department: str) -> int:
    return commit(
        store=world.store,
        outbox=world.outbox,
        key=key,
        story_id=story,
        department=department,
        owner=owner.user_id,
        owner_name=owner.name,
        created_by=owner.user_id,
        platform=owner.platform,
        what=f"follow up {key}",
        due=due,
        now=world.clock(),
        redactor=world.pipeline.redactor,
    ).id


# --- help and bad input ---------------------------------------------------------------------------------------


def test_help_is_generated_from_the_command_table_per_platform(world: World) -> None:
    slack = world.run(DANA, "help")
    teams = world.run(Actor(platform="teams", user_id="aad-1"), "")
    assert isinstance(slack, HelpView) and isinstance(teams, HelpView)
    assert [c.name for c in slack.commands] == [s.name for s in COMMANDS if "slack" in s.platforms]
    assert "link" not in [c.name for c in slack.commands]
    assert [c.name for c in teams.commands] == [s.name for s in COMMANDS]
    assert slack.notice is None
    kudos = next(c for c in slack.commands if c.name == "kudos")
    assert (kudos.usage, kudos.who) == ("kudos @person <why>", "cx_team")


def test_an_unknown_sub_command_answers_with_help_and_says_why(world: World) -> None:
    view = world.run(DANA, "acitons overdue")
    assert isinstance(view, HelpView)
    assert view.notice == "There is no “acitons” command."
    assert len(view.commands) == len([s for s in COMMANDS if "slack" in s.platforms])


def test_a_leading_cx_is_tolerated(world: World) -> None:
    assert isinstance(world.run(DANA, "cx stats"), StatsView)
    assert isinstance(world.run(DANA, "/cx   help"), HelpView)


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        ("actions page 0", "Pages start at 1."),
        ("actions @ghost", "pick them from the @-mention list"),
        ("actions nowhere", "There is no department “nowhere”"),
        ("stats c", "“c” could be CX Team or Customer Service"),
        ("kudos thanks everyone", "mention the person first"),
        ("story", "paste the customer's comment"),
    ],
)
def test_malformed_arguments_answer_with_that_commands_help(world: World, text: str, notice: str) -> None:
    view = world.run(CARLA, text)
    assert isinstance(view, HelpView)
    assert view.notice is not None and notice.casefold() in view.notice.casefold()
    assert [c.name for c in view.commands] == [text.split()[0]]
    assert world.deliveries() == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(["actions", "commit", "kudos", "stats", "story", "link", "help", "", "zzz"]),
    args=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60),
    thread=st.sampled_from([None, 1, 999]),
)
def test_whatever_is_typed_the_answer_is_a_view_never_an_exception(
    world: World, name: str, args: str, thread: int | None
) -> None:
    if not world.store.story(1):
        world.story("I was charged twice on my invoice")
    view = world.run(CARLA, f"{name} {args}", thread_story_id=thread, mentions={"@dana": "UDANA"})
    assert view is not None and type(view).__module__ == "stories.views"


# --- actions --------------------------------------------------------------------------------------------------


def test_a_manager_sees_their_departments_commitments_by_default_overdue_first(world: World) -> None:
    money = world.story("I was charged twice on my invoice")
    parcel = world.story("My parcel went to the wrong depot")
    later = add_commitment(
        world, money, owner=DANA, due=TUESDAY + timedelta(days=5), key="later", department="Finance & Billing"
    )
    undated = add_commitment(world, money, owner=DANA, due=None, key="undated", department="Finance & Billing")
    soon = add_commitment(
        world, money, owner=FIONA, due=TUESDAY + timedelta(days=1), key="soon", department="Finance & Billing"
    )
    add_commitment(world, parcel, owner=LEO, due=TUESDAY, key="logistics", department="Logistics & Delivery")
    world.clock.advance(days=3)  # Friday: "soon" is overdue

    view = world.run(FIONA, "actions")

    assert isinstance(view, ActionsView)
    assert view.heading == "Open commitments: Finance & Billing"
    assert [i.id for i in view.items] == [soon, later, undated]
    assert [i.overdue for i in view.items] == [True, False, False]
    assert view.items[0].due_label == "overdue since Wed 2 Dec"
    assert (view.page, view.pages, view.total) == (1, 1, 3)


def test_someone_who_manages_nothing_sees_their_own_commitments(world: World) -> None:
    money = world.story("I was charged twice on my invoice")
    mine = add_commitment(world, money, owner=DANA, due=None, key="d", department="Finance & Billing")
    add_commitment(world, money, owner=FIONA, due=None, key="f", department="Finance & Billing")
    view = world.run(DANA, "actions")
    assert isinstance(view, ActionsView)
    assert view.heading == "Your open commitments"
    assert [i.id for i in view.items] == [mine] and view.owner == "UDANA"


def test_a_group_lead_sees_their_department_through_the_user_group(world: World) -> None:
    parcel = world.story("My parcel went to the wrong depot")
    item = add_commitment(world, parcel, owner=DANA, due=None, key="p", department="Logistics & Delivery")
    view = world.run(LEO, "actions")
    assert isinstance(view, ActionsView) and [i.id for i in view.items] == [item]


def test_actions_filter_by_department_prefix_person_mine_and_overdue(world: World) -> None:
    money = world.story("I was charged twice on my invoice")
    parcel = world.story("My parcel went to the wrong depot")
    late = add_commitment(world, money, owner=DANA, due=TUESDAY, key="late", department="Finance & Billing")
    fine = add_commitment(
        world, money, owner=FIONA, due=TUESDAY + timedelta(days=9), key="fine", department="Finance & Billing"
    )
    logi = add_commitment(world, parcel, owner=DANA, due=None, key="logi", department="Logistics & Delivery")
    world.clock.advance(days=1)

    def ids(text: str, **kw: object) -> list[int]:
        view = world.run(FIONA, text, **kw)
        assert isinstance(view, ActionsView), view
        return [i.id for i in view.items]

    assert ids("actions logistics") == [logi]
    assert ids("actions DELIVERY") == [logi]  # a unique word of the name
    assert ids("actions finance & billing overdue") == [late]
    assert ids("actions @Dana Smith", mentions={"@Dana Smith": "UDANA"}) == [late, logi]
    assert ids("actions @Dana Smith overdue", mentions={"@Dana Smith": "UDANA"}) == [late]
    assert ids("actions mine") == [fine]
    view = world.run(FIONA, "actions @Dana Smith", mentions={"@Dana Smith": "UDANA"})
    assert isinstance(view, ActionsView)
    assert view.heading == "Dana Smith’s open commitments"
    assert ids(f"actions {view.filter}") == [late, logi]  # the filter round-trips without the mention map


def test_actions_paginate_ten_a_page(world: World) -> None:
    money = world.story("I was charged twice on my invoice")
    made = [
        add_commitment(
            world, money, owner=DANA, due=TUESDAY + timedelta(days=n), key=f"k{n}", department="Finance & Billing"
        )
        for n in range(23)
    ]
    first, third, beyond = (world.run(DANA, f"actions mine page {n}") for n in (1, 3, 9))
    assert isinstance(first, ActionsView) and isinstance(third, ActionsView) and isinstance(beyond, ActionsView)
    assert [i.id for i in first.items] == made[:10]
    assert (third.page, third.pages, [i.id for i in third.items]) == (3, 3, made[20:])
    assert beyond.page == 3  # past the end: the last page
    assert world.run(DANA, "actions mine").pages == 3  # type: ignore[union-attr]


# --- commit ---------------------------------------------------------------------------------------------------


def test_commit_outside_a_story_thread_explains_where_to_use_it(world: World) -> None:
    view = world.run(FIONA, "commit call her back by Friday")
    assert isinstance(view, Notice) and "Say which story" in view.text
    assert count(world, Commitment) == 0


def test_commit_names_the_story_by_number_where_there_is_no_thread(world: World) -> None:
    story = world.story("The courier lost the parcel")
    view = world.run(DANA, f"commit #{story} call the customer back by Friday", request_id="trigger-9")
    assert isinstance(view, Notice) and "call the customer back" in view.text
    assert count(world, Commitment) == 1
    unknown = world.run(DANA, "commit #999999 call", request_id="trigger-10")
    assert "no longer exists" in str(unknown)
    assert count(world, Commitment) == 1


def test_commit_in_a_thread_records_it_for_the_channels_department_with_the_due_date(world: World) -> None:
    story = world.story("The courier lost the parcel and I was charged for it on my invoice")
    world.posted(story, department="Logistics & Delivery", channel="C0LOG")
    world.posted(story, department="Finance & Billing", channel="C0FIN")
    ctx = {"thread_story_id": story, "channel": "C0LOG", "request_id": "trigger-1"}

    view = world.run(DANA, "commit call the customer back by Friday", **ctx)
    again = world.run(DANA, "commit call the customer back by Friday", **ctx)  # a retried request

    assert (
        view
        == again
        == Notice("Noted: you will follow up: call the customer back (due Fri 4 Dec). I told the story's thread.")
    )
    with world.engine.connect() as conn:
        rows = conn.execute(
            select(Commitment.what, Commitment.due_date, Commitment.department_id, Commitment.owner_name)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("call the customer back", date(2026, 12, 4), world.departments.id_of("Logistics & Delivery"), "Dana")
    ]


def test_commit_uses_the_persons_own_date_for_tomorrow(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    world.clock.now = world.clock.now.replace(hour=23, minute=30)  # 23:30 UTC on Tuesday = Wednesday in Tokyo
    tokyo = Actor(platform="slack", user_id="UTOKYO", name="Aiko", timezone="Asia/Tokyo")
    world.run(tokyo, "commit refund the charge by tomorrow", thread_story_id=story, request_id="r1")
    with world.engine.connect() as conn:
        assert conn.scalar(select(Commitment.due_date)) == date(2026, 12, 3)


def test_commit_with_an_impossible_date_says_so_and_records_nothing(world: World) -> None:
    story = world.story("I was charged twice on my invoice")
    view = world.run(FIONA, "commit refund by 2026-02-30", thread_story_id=story)
    assert isinstance(view, HelpView) and "2026-02-30" in (view.notice or "")
    past = world.run(FIONA, "commit refund by 2026-11-02", thread_story_id=story)
    assert isinstance(past, HelpView) and "has passed" in (past.notice or "")
    assert count(world, Commitment) == 0


def test_numbers_larger_than_any_id_or_page_are_answered_with_help(world: World) -> None:
    world.story("I was charged twice on my invoice")
    no_story = world.run(FIONA, "commit #999999999999 call them back")
    assert isinstance(no_story, HelpView) and "no story #999999999999" in (no_story.notice or "")
    no_page = world.run(FIONA, "actions page " + "9" * 5000)
    assert isinstance(no_page, HelpView) and "page number is too large" in (no_page.notice or "")
    assert count(world, Commitment) == 0


# --- kudos ----------------------------------------------------------------------------------------------------


def test_kudos_from_outside_the_cx_team_are_politely_refused_and_nothing_is_posted(world: World) -> None:
    view = world.run(FIONA, "kudos @dana for the quick refund", mentions={"@dana": "UDANA"})
    assert isinstance(view, Notice) and "CX team" in view.text
    assert count(world, Kudos) == 0 and world.deliveries() == []


def test_kudos_from_the_cx_team_post_to_the_kudos_channel_and_dm_the_receiver_once(world: World) -> None:
    ctx = {"mentions": {"@dana": "UDANA"}, "request_id": "trigger-9"}
    view = world.run(CARLA, "kudos @dana for calling the customer back the same day", **ctx)
    again = world.run(CARLA, "kudos @dana for calling the customer back the same day", **ctx)

    assert (
        view
        == again
        == KudosView(
            giver="UCARLA", receiver="UDANA", why="for calling the customer back the same day", posted_to="C0KUDOS"
        )
    )
    with world.engine.connect() as conn:
        rows = conn.execute(select(Kudos.giver, Kudos.receiver, Kudos.source, Kudos.platform)).all()
    assert [tuple(r) for r in rows] == [("UCARLA", "UDANA", "cx_team", "slack")]
    sent = {(d["kind"], d["channel"]): d["payload"]["text"] for d in world.deliveries()}
    assert sent == {
        ("dm", "UDANA"): "Kudos to you from Carla: for calling the customer back the same day",
        ("text", "C0KUDOS"): "Kudos to dana from Carla: for calling the customer back the same day",
    }


def test_kudos_on_teams_without_a_kudos_channel_only_dm(world: World) -> None:
    cx_on_teams = Actor(platform="teams", user_id="UCXLEAD", name="Lee")
    view = world.run(
        cx_on_teams, "kudos @Dana Smith great save", mentions={"@Dana Smith": "aad-dana"}, request_id="act-1"
    )
    assert isinstance(view, KudosView) and view.posted_to is None
    assert [(d["kind"], d["platform"], d["channel"]) for d in world.deliveries()] == [("dm", "teams", "aad-dana")]


def test_kudos_without_arguments_suggest_customer_praise_to_the_cx_team(world: World) -> None:
    praised = world.story("Maria at the Leeds depot was wonderful, she found my parcel in minutes. Thank you!")
    world.story("My invoice was wrong and nobody answered the phone")
    view = world.run(CARLA, "kudos")
    assert isinstance(view, PraiseView)
    assert [(s.story_id, s.names) for s in view.items] == [(praised, ("Maria",))]
    assert "Maria at the Leeds depot was wonderful" in view.items[0].quote
    refused = world.run(DANA, "kudos")
    assert isinstance(refused, Notice)


# --- stats, story, link ---------------------------------------------------------------------------------------


def test_stats_for_a_department_by_prefix(world: World) -> None:
    world.story("I was charged twice on my invoice", nps=3)
    world.story("The refund arrived quickly, lovely", nps=10)
    world.story("My parcel went to the wrong depot", nps=0)
    view = world.run(DANA, "stats fin")
    assert isinstance(view, StatsView)
    assert (view.department, view.days, view.nps, view.nps_responses) == ("Finance & Billing", 30, 0.0, 2)
    everyone = world.run(DANA, "stats")
    assert isinstance(everyone, StatsView) and everyone.department is None and everyone.nps_responses == 3


def test_story_goes_through_the_pipeline_and_says_where_it_went(world: World) -> None:
    ctx = {"request_id": "trigger-77", "channel": "C0RANDOM"}
    view = world.run(DANA, "story Customer says she was charged twice, card 4111 1111 1111 1111", **ctx)
    again = world.run(DANA, "story Customer says she was charged twice, card 4111 1111 1111 1111", **ctx)
    assert isinstance(view, StoryRouted)
    assert view.departments == ("Finance & Billing",)
    assert view.reasons and "charged" in view.reasons[0]
    assert view.title
    assert isinstance(again, Notice) and "already" in again.text
    with world.engine.connect() as conn:
        source, external_id, text = conn.execute(
            select(Comment.source, Comment.external_id, Comment.redacted_text)
        ).one()
    assert (source, external_id) == ("slack:manual", "trigger-77")
    assert "4111" not in text


def test_link_makes_a_teams_channel_the_departments_for_admins_only(world: World) -> None:
    channel = "19:abc@thread.tacv2"
    stranger = Actor(platform="teams", user_id="aad-x")
    refused = world.run(stranger, "link logistics", channel=channel)
    assert isinstance(refused, Notice) and "admin" in refused.text
    admin = Actor(platform="teams", user_id="aad-admin", admin=True)
    done = world.run(admin, "link logistics", channel=channel)
    assert done == Notice("This channel now receives Logistics & Delivery's stories and digests.")
    with world.engine.connect() as conn:
        assert conn.scalar(select(Department.teams_channel).where(Department.name == "Logistics & Delivery")) == channel
    assert world.store.department_channels("Logistics & Delivery") == {"slack": "C0LOG", "teams": channel}
    on_slack = world.run(Actor(platform="slack", user_id="U1", admin=True), "link logistics")
    assert isinstance(on_slack, HelpView) and on_slack.notice == "There is no “link” command."


def test_command_context_is_what_connectors_build(world: World) -> None:
    ctx = CommandContext(actor=DANA, channel=None, thread_story_id=None)
    assert ctx.mentions == {} and ctx.request_id is None
    assert isinstance(world.commands().run(ctx, "help"), HelpView)
