"""The rituals' core (stories/rituals.py, opener.py, pulse.py) with its real store: what "vivid" and "mentions
customers" mean, when the monthly DMs are due, and that the pulse keeps counts only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from storage.rituals import SqlRituals
from stories.actors import Actor
from stories.commands import CommandContext, Commands
from stories.config import CxConfig, Department, Nudges, People
from stories.identifiers import IdentifierHasher
from stories.models import StoryView
from stories.opener import MIN_CHARS, OpenerChoice, choose_opener, has_impact, vividness
from stories.outbox import RecordingOutbox
from stories.pulse import MonthCount, PulseMember, mentions_customers, trend_lines
from stories.rituals import Rituals
from stories.stats import PeriodFigures
from stories.views import Notice

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the 1st of a month, after the nudge hour (9:00)
LONG_BAD = (
    "The technician never came although I took the day off work, so I lost a day's pay and had to rebook twice. "
    "Terrible, awful, I am furious."
)
CONFIG = CxConfig(
    default_department="Ops",
    departments=(
        Department(name="Ops", ambassadors=("U0OPSAMB01",)),
        Department(name="Berlin", timezone="Europe/Berlin"),
    ),
    nudges=Nudges(hour=9),
    cx_team=People(users=("U0CXTEAM01",)),
)


def story(story_id: int, text: str, score: float, *, days_ago: float = 1.0) -> StoryView:
    return StoryView(
        story_id=story_id,
        title=f"Story {story_id}",
        text=text,
        sentiment="negative" if score < 0 else "positive",
        sentiment_score=score,
        source="webhook",
        received_at=NOW - timedelta(days=days_ago),
    )


class Stories:
    def __init__(self, stories: list[StoryView]) -> None:
        self.items = stories

    def stories_for_department(self, *, department: str, since: datetime, until: datetime) -> list[StoryView]:
        return [s for s in self.items if since <= s.received_at < until]

    def open_commitment_count(self, *, department: str) -> int:
        return 0


class Stats:
    def period_figures(self, *, department: str | None, since: datetime, until: datetime) -> PeriodFigures:
        return PeriodFigures((), (), 7, 3, 2, 1, (4.0,))


class FakeStoryOpeners(SqlRituals):
    """The real store, with openers kept in memory: these tests' stories are not in the database."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.openers: dict[str, OpenerChoice] = {}
        self.opened: list[tuple[str, str, int, datetime]] = []

    def opener(self, key: str) -> OpenerChoice | None:
        return self.openers.get(key)

    def recent_openers(self, *, platform: str, channel: str, since: datetime) -> set[int]:
        return {s for p, c, s, at in self.opened if (p, c) == (platform, channel) and at >= since}

    def record_opener(
        self, *, key: str, platform: str, channel: str, story_id: int, department: str, now: datetime
    ) -> OpenerChoice:
        if key not in self.openers:
            self.openers[key] = OpenerChoice(id=len(self.openers) + 1, story_id=story_id, department=department)
            self.opened.append((platform, channel, story_id, now))
        return self.openers[key]


def rituals(engine: Engine, stories: list[StoryView] | None = None) -> tuple[Rituals, RecordingOutbox]:
    outbox = RecordingOutbox()
    return (
        Rituals(
            config=CONFIG,
            store=FakeStoryOpeners(engine),
            stories=Stories(stories or []),
            stats=Stats(),
            outbox=outbox,
            channels=lambda platforms: {("Ops", "slack"): "C0OPS"},
            hasher=IdentifierHasher(key=b"k" * 32),
        ),
        outbox,
    )


@pytest.mark.parametrize(
    ("answer", "mentions"),
    [
        ("Our customers", True),
        ("the patients on ward 4", True),
        ("Guests, and the hotel owner", True),
        ("our members and their families", True),
        ("End users of the app", True),
        ("Kunden", True),
        ("My manager and the board", False),
        ("the shareholders", False),
        ("customs paperwork", False),  # a whole word, not a prefix
    ],
)
def test_mentions_customers_is_a_word_list(answer: str, mentions: bool) -> None:
    assert mentions_customers(answer) is mentions


def test_a_vivid_story_is_long_strongly_felt_and_the_most_vivid_wins() -> None:
    short = story(1, "Awful. Terrible. Never again.", -0.9)
    mild = story(2, LONG_BAD.replace("Terrible, awful, I am furious.", "It was ok."), -0.1)
    vivid = story(3, LONG_BAD, -0.8)
    older = story(4, LONG_BAD, -0.8, days_ago=20)
    assert len(short.text) < MIN_CHARS and vividness(short, now=NOW) is None
    assert vividness(mild, now=NOW) is None
    assert has_impact(LONG_BAD)
    assert choose_opener([short, mild, older, vivid], exclude=set(), now=NOW) == vivid  # newer wins a tie
    assert choose_opener([short, mild, older, vivid], exclude={3}, now=NOW) == older
    assert choose_opener([short, mild], exclude=set(), now=NOW) is None


def test_the_opener_department_is_the_argument_else_the_channels_else_the_askers(engine: Engine) -> None:
    core, outbox = rituals(engine, [story(5, LONG_BAD, -0.8)])
    asker = Actor("slack", "U0ANYONE01")
    answer = core.opener(actor=asker, channel="C0ELSEWHERE", department=None, key="k1", now=NOW)
    assert answer == Notice("Which department's meeting? Say it: /cx opener <department>.")
    answer = core.opener(actor=asker, channel="C0OPS", department=None, key="k2", now=NOW)
    assert answer == Notice("A customer story for Ops's meeting is posted here (story #5).")
    [posted] = outbox.items.values()
    assert (posted.kind, posted.channel, posted.story_id, posted.department) == ("story", "C0OPS", 5, "Ops")
    ambassador = Actor("slack", "U0OPSAMB01")  # an Ops ambassador, asking in a channel of no department
    answer = core.opener(actor=ambassador, channel="C0ELSEWHERE", department=None, key="k3", now=NOW)
    assert answer == Notice("A customer story for Ops's meeting is posted here (story #5).")


def test_pulse_questions_are_due_from_the_first_at_the_hour_in_the_members_timezone(engine: Engine) -> None:
    core, _ = rituals(engine)
    store = core.store
    store.add_pulse_member(PulseMember("slack", "U0OPS00001", "Ops"), added_by="U0CX", now=NOW)
    store.add_pulse_member(PulseMember("teams", "aad-berlin", "Berlin"), added_by="U0CX", now=NOW)
    early = datetime(2026, 6, 1, 7, 30, tzinfo=UTC)  # 09:30 in Berlin, 07:30 in Ops (UTC)
    assert [o.key for o in core.plan_pulse(early)] == ["pulse:2026-06:teams:aad-berlin"]
    assert [o.key for o in core.plan_pulse(NOW)] == ["pulse:2026-06:slack:U0OPS00001", "pulse:2026-06:teams:aad-berlin"]
    late = datetime(2026, 5, 31, 22, 30, tzinfo=UTC)  # already 1 June, 00:30, in Berlin: before the hour
    assert core.plan_pulse(late)[0].key == "pulse:2026-05:slack:U0OPS00001"  # May's (sent earlier in May)


def test_a_pulse_answer_is_counted_once_per_person_and_month_and_shown_from_three_answers(engine: Engine) -> None:
    core, _ = rituals(engine)
    for user in ("U0A0000001", "U0B0000001", "U0C0000001"):
        core.store.add_pulse_member(PulseMember("slack", user, "Ops"), added_by="U0CX", now=NOW)
    core.pulse_answer(actor=Actor("slack", "U0A0000001"), answer="customers", now=NOW)
    again = core.pulse_answer(actor=Actor("slack", "U0A0000001"), answer="customers again", now=NOW)
    assert "already answered" in again.text if isinstance(again, Notice) else False
    assert trend_lines(core.store.pulse_counts(since_month="2026-01")) == ["Ops: 2026-06 fewer than 3 answers"]
    core.pulse_answer(actor=Actor("slack", "U0B0000001"), answer="my boss", now=NOW)
    core.pulse_answer(actor=Actor("slack", "U0C0000001"), answer="the clients", now=NOW)
    next_month = NOW + timedelta(days=31)
    core.pulse_answer(actor=Actor("slack", "U0A0000001"), answer="nobody", now=next_month)  # a new month counts
    assert core.store.pulse_counts(since_month="2026-01") == [
        MonthCount("2026-06", "Ops", 3, 2),
        MonthCount("2026-07", "Ops", 1, 0),
    ]
    assert trend_lines(core.store.pulse_counts(since_month="2026-01")) == [
        "Ops: 2026-06 67% of 3, 2026-07 fewer than 3 answers"
    ]


def test_ambassador_summaries_are_due_on_the_first_three_days_of_the_month(engine: Engine) -> None:
    core, _ = rituals(engine)
    core.store.add_ambassador(department="Berlin", platform="teams", user_id="aad-amb", added_by="x", now=NOW)
    [ops, berlin] = core.plan_ambassador_summaries(NOW)
    assert ops.key == "ambassador-summary:Ops:slack:U0OPSAMB01:2026-05" and ops.channel == "U0OPSAMB01"
    assert berlin.key == "ambassador-summary:Berlin:teams:aad-amb:2026-05" and berlin.platform == "teams"
    assert ops.payload["text"].splitlines() == [
        "Ops in May 2026, for you as its customer ambassador:",
        "• 7 stories delivered, 3 reactions",
        "• 2 follow-ups committed, 1 done (median 4.0 days to close)",
    ]
    assert core.plan_ambassador_summaries(NOW + timedelta(days=3)) == []  # the 4th: too late to be news
    early = core.plan_ambassador_summaries(NOW - timedelta(hours=4))  # 08:00 on the 1st in Ops, 10:00 in Berlin
    assert [o.department for o in early] == ["Berlin"]


def _commands(core: Rituals) -> Commands:
    from stories.redaction import PiiRedactor

    return Commands(
        config=CONFIG,
        store=None,  # type: ignore[arg-type]  # the rituals' commands use only their own store
        outbox=RecordingOutbox(),
        intake=lambda comments: None,  # type: ignore[arg-type, return-value]
        redactor=PiiRedactor(),
        clock=lambda: NOW,
        rituals=core,
    )


def test_a_configured_ambassador_is_removed_in_the_file_and_pulse_add_knows_their_department(engine: Engine) -> None:
    core, _ = rituals(engine)
    commands = _commands(core)
    cx = CommandContext(
        actor=Actor("slack", "U0CXTEAM01"),
        channel="C0CX",
        thread_story_id=None,
        mentions={"@amb": "U0OPSAMB01", "@new": "U0NEW00001"},
    )
    answer = commands.run(cx, "ambassador remove @amb")
    assert answer == Notice(
        "amb is an ambassador in the configuration file (departments[].ambassadors): remove them there."
    )
    assert [r.user_id for r in core.ambassadors()] == ["U0OPSAMB01"]
    assert commands.run(cx, "pulse add @amb @new") == Notice(
        "In the pulse sample: amb (Ops). Say the department of new: pulse add @person <department>."
    )
    assert core.store.pulse_members() == [PulseMember("slack", "U0OPSAMB01", "Ops")]


def test_the_ambassador_summary_carries_the_departments_pulse_from_three_answers(engine: Engine) -> None:
    core, _ = rituals(engine)
    may = NOW - timedelta(days=10)
    for user, answer in (("U0A0000001", "customers"), ("U0B0000001", "guests"), ("U0C0000001", "my team")):
        core.store.add_pulse_member(PulseMember("slack", user, "Ops"), added_by="U0CX", now=may)
        core.pulse_answer(actor=Actor("slack", user), answer=answer, now=may)
    [ops] = core.plan_ambassador_summaries(NOW)
    assert ops.payload["text"].splitlines()[-1] == "• Pulse: 67% of 3 answers said their work is for customers"
